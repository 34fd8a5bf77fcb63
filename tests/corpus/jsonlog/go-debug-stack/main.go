package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"
)

var errTimeout = errors.New("upstream timeout after 5s")

func logJSON(fields map[string]interface{}) {
	fields["ts"] = time.Now().UTC().Format(time.RFC3339Nano)
	b, _ := json.Marshal(fields)
	fmt.Fprintln(os.Stdout, string(b))
}

func fetch(id int) error {
	if id == 2 {
		return errTimeout
	}
	return nil
}

func handle(id int) {
	if err := fetch(id); err != nil {
		logJSON(map[string]interface{}{
			"level": "error", "msg": "request failed", "request_id": id,
			"error": err.Error(), "stack": string(debug.Stack()),
		})
		return
	}
	logJSON(map[string]interface{}{"level": "info", "msg": "request ok", "request_id": id})
}

func main() {
	for id := 1; id <= 3; id++ {
		handle(id)
	}
}
