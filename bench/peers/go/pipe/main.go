// The subprocess pipe benchmark in Go (docs/benchmarks.md, "Subprocess pipes"):
// os/exec with cmd.StdoutPipe() (an os.Pipe, read through Go's poller).
//
//	pipe_read bulk|lines N CMD [ARG...]
//
// bulk: Read into one 64 KiB buffer to EOF, counting the bytes, then cmd.Wait(); N is
// the number of bytes expected (exit status 1 when another number came). lines: N
// lines with a bufio.Scanner (its default 64 KiB buffer; Bytes() is a slice of that
// buffer, no allocation per line), then cmd.Process.Kill() and cmd.Wait().
//
// Prints one line: mode=... [lines=...] bytes=... wall_s=... cpu_s=... user_s=...
// sys_s=..., the wall time from before the spawn to after the wait and this process's
// own CPU time (getrusage RUSAGE_SELF, all its threads: not the child's) over the same
// span. bench/run_pipe.sh runs it with GOMAXPROCS=1.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

func usage() (user, sys float64) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime), tv(ru.Stime)
}

func main() {
	if len(os.Args) < 4 || (os.Args[1] != "bulk" && os.Args[1] != "lines") {
		fmt.Fprintln(os.Stderr, "usage: pipe_read bulk|lines N CMD [ARG...]")
		os.Exit(2)
	}
	mode := os.Args[1]
	want, err := strconv.ParseInt(os.Args[2], 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	u0, s0 := usage()
	t0 := time.Now()
	cmd := exec.Command(os.Args[3], os.Args[4:]...)
	out, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var bytes, lines int64
	if mode == "bulk" {
		buf := make([]byte, 64*1024)
		for {
			n, err := out.Read(buf)
			bytes += int64(n)
			if err == io.EOF {
				break
			} else if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	} else {
		sc := bufio.NewScanner(out)
		for lines < want && sc.Scan() {
			bytes += int64(len(sc.Bytes())) + 1 // with its "\n"
			lines++
		}
		cmd.Process.Kill()
	}
	cmd.Wait() // the killed child's "signal: killed" is expected
	wall := time.Since(t0).Seconds()
	u1, s1 := usage()
	user, sys := u1-u0, s1-s0
	times := fmt.Sprintf("wall_s=%.4f cpu_s=%.4f user_s=%.4f sys_s=%.4f", wall, user+sys, user, sys)
	if mode == "bulk" {
		fmt.Printf("mode=bulk bytes=%d %s\n", bytes, times)
	} else {
		fmt.Printf("mode=lines lines=%d bytes=%d %s\n", lines, bytes, times)
		bytes = lines
	}
	if bytes != want {
		os.Exit(1)
	}
}
