// The WebSocket benchmark's server in Go (docs/benchmarks.md, "WebSocket echo"):
// net/http with gorilla/websocket (Debian's golang-github-gorilla-websocket-dev),
// a goroutine per connection sending every message back; run with GOMAXPROCS=1.
// --compress enables gorilla's permessage-deflate (it takes no context over).
//   go_ws_echo PORT [--compress]
package main

import (
	"fmt"
	"net/http"
	"os"

	"github.com/gorilla/websocket"
)

var upgrader = websocket.Upgrader{ReadBufferSize: 65536, WriteBufferSize: 65536}

func echo(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	for {
		mt, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(mt, msg); err != nil {
			return
		}
	}
}

func main() {
	port := os.Args[1]
	upgrader.EnableCompression = len(os.Args) > 2 && os.Args[2] == "--compress"
	http.HandleFunc("/ws", echo)
	fmt.Printf("listening port=%s\n", port)
	if err := http.ListenAndServe("127.0.0.1:"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
