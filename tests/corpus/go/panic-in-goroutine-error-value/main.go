package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

type Loader struct{ path string }

func (l *Loader) Load() []byte {
	data, err := os.ReadFile(l.path)
	if err != nil {
		panic(fmt.Errorf("load %s: %w", l.path, err))
	}
	return data
}

func main() {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l := &Loader{path: "/nonexistent/settings.toml"}
		fmt.Println(len(l.Load()))
	}()
	wg.Wait()
	fmt.Println(errors.Is(nil, fs.ErrNotExist))
}
