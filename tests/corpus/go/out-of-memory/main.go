package main

import "fmt"

func grow() [][]byte {
	var keep [][]byte
	for i := 0; ; i++ {
		keep = append(keep, make([]byte, 64<<20))
		keep[i][0] = 1
	}
}

func main() {
	fmt.Println("growing")
	fmt.Println(len(grow()))
}
