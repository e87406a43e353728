// Command hapa is the HAPA gateway: one binary for the server (serve), migrations
// (migrate), API keys (keys create|list|revoke), admin accounts (admin create-user),
// the vLLM simulator (sim) and the load generator (bench).
//
// main only wires signals and the exit code; run(ctx, args, getenv, stdout) is the
// program, and tests call it. serve parses one Config (config.go: every setting is an
// environment variable, a .env entry and a flag; all problems are reported at once),
// builds the store, Redis, metrics, upstream pool (or the in-process simulator),
// engine, limits, incidents, admin console, HTTP edge and WebSocket hub in that order
// (app.go), binds every listener before serving, and on SIGINT/SIGTERM drains the hub
// and the HTTP servers together, then stops the background loops (the request log is
// flushed) and closes what it built in reverse order (serve.go).
package main
