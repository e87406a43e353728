package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logBuffer collects log lines and writes them in batches from its own goroutine, at
// most logFlushDelay after the first unwritten line, so a request does not wait for a
// write(2) of its access-log line (on a 2-core machine that write sat between the
// handler and the response's flush). Warnings and errors are written at once (see
// flushingHandler), a full buffer is written by the writer that fills it, and Close
// writes the rest: a crash can lose at most the last logFlushDelay of INFO lines.
type logBuffer struct {
	w    io.Writer
	kick chan struct{} // capacity 1: "something is buffered"
	quit chan struct{}
	done chan struct{}

	mu  sync.Mutex
	buf []byte
}

const (
	logFlushDelay = 50 * time.Millisecond
	logBufferMax  = 64 << 10
)

func newLogBuffer(w io.Writer) *logBuffer {
	b := &logBuffer{w: w, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// Write buffers p (slog writes one whole line per call).
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > logBufferMax {
		b.flushLocked()
	}
	if len(p) >= logBufferMax {
		return b.w.Write(p)
	}
	if len(b.buf) == 0 {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Flush writes what is buffered now.
func (b *logBuffer) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *logBuffer) flushLocked() {
	if len(b.buf) > 0 {
		_, _ = b.w.Write(b.buf) // nowhere to report a failed log write
		b.buf = b.buf[:0]
	}
}

func (b *logBuffer) run() {
	defer close(b.done)
	t := time.NewTimer(logFlushDelay)
	t.Stop()
	for {
		select {
		case <-b.quit:
			return
		case <-b.kick:
		}
		t.Reset(logFlushDelay)
		select {
		case <-b.quit:
			return
		case <-t.C:
		}
		b.Flush()
	}
}

// Close writes the rest and stops the writer goroutine.
func (b *logBuffer) Close() error {
	close(b.quit)
	<-b.done
	b.Flush()
	return nil
}

// flushingHandler writes the buffer right after every record at WARN or above, so
// problems appear in the log at once and in order with the lines before them.
type flushingHandler struct {
	slog.Handler
	buf *logBuffer
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.buf.Flush()
	}
	return err
}

func (h flushingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(as), h.buf}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.buf}
}
