package main

import (
	"fmt"
	"net/http"
)

var version = "dev"

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from go-static %s\n", version)
	})
	fmt.Println("listening on :8080")
	_ = http.ListenAndServe(":8080", nil)
}
