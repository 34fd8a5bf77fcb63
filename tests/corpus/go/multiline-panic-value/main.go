package main

import (
	"fmt"
	"strings"
)

func validate(fields map[string]string) {
	var problems []string
	for _, k := range []string{"host", "port", "user"} {
		if fields[k] == "" {
			problems = append(problems, "missing "+k)
		}
	}
	if len(problems) > 0 {
		panic("invalid config:\n" + strings.Join(problems, "\n"))
	}
}

func main() {
	fmt.Println("validating")
	validate(map[string]string{"host": "db"})
}
