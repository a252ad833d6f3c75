// The echo benchmark's server in Go: a goroutine per connection that reads what is
// available (up to 64 KiB), writes it all back and closes after the client's EOF.
// Run with GOMAXPROCS=1 for the one-core comparison.
//
// Usage: echo PORT (listens on 127.0.0.1:PORT and runs until killed).
package main

import (
	"fmt"
	"net"
	"os"
)

func serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 64*1024)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil { // io.EOF or an error
			return
		}
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: echo PORT")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening port=%s\n", os.Args[1])
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go serve(c) // Go's TCP connections have TCP_NODELAY on by default
	}
}
