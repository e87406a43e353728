package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// routeLibraryLogs sends what libraries log on their own through the process logger,
// so that with STRUCTURED_LOGGING=true every line is JSON: go-redis's log lines
// (connection pool and handshake failures, otherwise plain text on stderr) at WARN,
// and Go's log package (net/http servers without an ErrorLog, the built-in simulator)
// through slog.SetDefault. Both loggers are package variables of their libraries: this
// sets them for the whole process, once per `serve`, first thing in buildStore (a later
// serve in the same process, as in tests, replaces them).
func routeLibraryLogs(log *slog.Logger) {
	redis.SetLogger(redisLogger{log})
	slog.SetDefault(log)
}

// redisLogger adapts a slog.Logger to go-redis's logging interface.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, fmt.Sprintf(format, v...), slog.String("component", "go-redis"))
}
