package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
)

func orders(w http.ResponseWriter, r *http.Request) {
	var quotas map[string]int
	quotas[r.URL.Query().Get("tenant")]++
	fmt.Fprintln(w, "ok")
}

func main() {
	log.SetOutput(os.Stderr)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(orders)}
	go srv.Serve(ln)
	resp, err := http.Get("http://" + ln.Addr().String() + "/orders?tenant=acme")
	if err != nil {
		fmt.Println("request failed:", err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		fmt.Println("status", resp.StatusCode, string(body))
	}
	fmt.Println("server still up")
}
