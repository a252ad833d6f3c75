// The task workloads of docs/benchmarks.md on goroutines.
//
// Usage: tasks [W1|W2|W3|W4]. Run with GOMAXPROCS=1 for the one-core comparison.
// W1: a goroutine per task, its result sent on its own buffered channel (the closest
// thing to a join handle); W2: Go has no coroutine to await, so a chain of plain
// (non-inlined) function calls stands in; W3: two goroutines and two channels of
// capacity 1; W4: goroutines in time.Sleep.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(line, "VmHWM:") {
			fields := strings.Fields(line)
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func report(name string, n int, seconds float64, bytesPerTask int64) {
	line := fmt.Sprintf("name=%s n=%d seconds=%.6f per_op_ns=%.1f", name, n, seconds, seconds*1e9/float64(n))
	if bytesPerTask >= 0 {
		line += fmt.Sprintf(" bytes_per_task=%d", bytesPerTask)
	}
	fmt.Println(line)
}

//go:noinline
func trivial(i int) int { return i }

func w1(n int) {
	t0 := time.Now()
	chans := make([]chan int, n)
	for i := 0; i < n; i++ {
		ch := make(chan int, 1)
		chans[i] = ch
		go func(i int) { ch <- trivial(i) }(i)
	}
	total := 0
	for _, ch := range chans {
		total += <-ch
	}
	chans = nil
	report("W1", n, time.Since(t0).Seconds(), -1)
	_ = total
}

func w2(n int) {
	t0 := time.Now()
	total := 0
	for i := 0; i < n; i++ {
		total += trivial(i)
	}
	report("W2", n, time.Since(t0).Seconds(), -1)
	_ = total
}

func w3(n int) {
	q1, q2 := make(chan int, 1), make(chan int, 1)
	var wg sync.WaitGroup
	wg.Add(2)
	t0 := time.Now()
	go func() {
		defer wg.Done()
		for i := 0; i < n/2; i++ {
			q1 <- 1
			<-q2
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < n/2; i++ {
			<-q1
			q2 <- 1
		}
	}()
	wg.Wait()
	report("W3", n, time.Since(t0).Seconds(), -1)
}

func w4(n int) {
	before := peakRSS()
	t0 := time.Now()
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			time.Sleep(time.Second)
			wg.Done()
		}()
	}
	wg.Wait()
	seconds := time.Since(t0).Seconds()
	report("W4", n, seconds, (peakRSS()-before)/int64(n))
}

func main() {
	names := os.Args[1:]
	if len(names) == 0 {
		names = []string{"W1", "W2", "W3", "W4"}
	}
	for _, name := range names {
		switch name {
		case "W1":
			w1(1000000)
		case "W2":
			w2(1000000)
		case "W3":
			w3(1000000)
		case "W4":
			w4(100000)
		default:
			fmt.Fprintln(os.Stderr, "unknown workload", name)
			os.Exit(2)
		}
	}
}
