package main

import (
	"fmt"
	"sync"
	"time"
)

type job struct{ id int }

func worker(id int, jobs <-chan job, wg *sync.WaitGroup) {
	defer wg.Done()
	for j := range jobs {
		fmt.Println("worker", id, "job", j.id)
	}
}

func ticker(stop chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(time.Hour):
		}
	}
}

func dispatch(results map[string]int) {
	fmt.Println("dispatching")
	_ = results["x"] / len(results)
}

func main() {
	var wg sync.WaitGroup
	jobs := make(chan job)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go worker(i, jobs, &wg)
	}
	go ticker(make(chan struct{}))
	time.Sleep(50 * time.Millisecond)
	dispatch(map[string]int{})
}
