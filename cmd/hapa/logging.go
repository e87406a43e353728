package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/natefinch/lumberjack.v2"
)

// newLogger builds the process logger: JSON or text by STRUCTURED_LOGGING, level by
// LOG_LEVEL, written to stdout and, when LOG_FILE is set, to that file (rotated at
// LOG_MAX_SIZE when LOG_FILE_ROTATION is on). Lines are written in batches (logBuffer:
// INFO and DEBUG within 50 ms, WARN and ERROR at once). The returned closer writes
// what is buffered and closes the file.
func newLogger(cfg Config, stdout io.Writer) (*slog.Logger, io.Closer, error) {
	var level slog.Level
	switch strings.ToUpper(cfg.LogLevel) {
	case "DEBUG":
		level = slog.LevelDebug
	case "WARNING", "WARN":
		level = slog.LevelWarn
	case "ERROR":
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	if cfg.Debug {
		level = slog.LevelDebug // DEBUG=true: verbose logs whatever LOG_LEVEL says
	}
	w, closer := stdout, io.Closer(nopCloser{})
	if cfg.LogFile != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.LogFile), 0o755); err != nil {
			return nil, nil, err
		}
		var file io.WriteCloser
		if cfg.LogFileRotation {
			file = &lumberjack.Logger{Filename: cfg.LogFile, MaxSize: int(max(1, cfg.LogMaxSize>>20)), MaxBackups: 5, Compress: true}
		} else {
			f, err := os.OpenFile(cfg.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
			if err != nil {
				return nil, nil, err
			}
			file = f
		}
		w, closer = io.MultiWriter(stdout, file), file
	}
	buf := newLogBuffer(w)
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(buf, opts)
	if cfg.StructuredLogging {
		h = slog.NewJSONHandler(buf, opts)
	}
	return slog.New(flushingHandler{h, buf}), closers{buf, closer}, nil
}

// closers closes each in order.
type closers []io.Closer

func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
