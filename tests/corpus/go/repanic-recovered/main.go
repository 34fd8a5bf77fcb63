package main

import "fmt"

type store struct{ items map[string]int }

func (s *store) load(key string) int {
	v, ok := s.items[key]
	if !ok {
		panic("missing key " + key)
	}
	return v
}

func safeLoad(s *store, key string) int {
	defer func() {
		if r := recover(); r != nil {
			panic(fmt.Sprintf("safeLoad(%q) failed: %v", key, r))
		}
	}()
	return s.load(key)
}

func main() {
	s := &store{items: map[string]int{"a": 1}}
	fmt.Println("a =", safeLoad(s, "a"))
	fmt.Println("b =", safeLoad(s, "b"))
}
