package main

import (
	"net/http"
	"net/http/pprof"
)

// pprofMux serves Go's runtime profiles (PPROF_ADDR): CPU, heap, goroutines, blocking,
// mutexes and the execution trace, as `go tool pprof http://ADDR/debug/pprof/profile`
// expects. It has no authentication, so its listener belongs on loopback.
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}
