package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

func poll(ch chan int) {
	for v := range ch {
		fmt.Println("got", v)
	}
}

func main() {
	ch := make(chan int)
	go poll(ch)
	ch <- 1
	time.Sleep(20 * time.Millisecond)
	fmt.Println("requesting a goroutine dump")
	syscall.Kill(os.Getpid(), syscall.SIGQUIT)
	time.Sleep(5 * time.Second)
}
