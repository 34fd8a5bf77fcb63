package main

import "fmt"

type node struct {
	name   string
	parent *node
}

func depth(n *node) int {
	if n == nil {
		return 0
	}
	return 1 + depth(n.parent)
}

func main() {
	a := &node{name: "a"}
	a.parent = a
	fmt.Println("depth:", depth(a))
}
