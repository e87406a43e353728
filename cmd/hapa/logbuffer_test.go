package main

import (
	"strings"
	"testing"
	"time"
)

func TestLoggerBatchesInfoAndWritesWarningsAtOnce(t *testing.T) {
	out := &syncBuffer{}
	log, closer, err := newLogger(Config{StructuredLogging: true, LogLevel: "INFO"}, out)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		log.Info("http request", "i", i)
	}
	if s := out.String(); s != "" {
		t.Fatalf("INFO lines written synchronously: %q…", s[:min(len(s), 80)])
	}
	log.Warn("upstream slow")
	s, writes := out.String(), out.writes()
	if n := strings.Count(s, "\n"); n != 101 || writes != 1 {
		t.Fatalf("after a warning: %d lines in %d writes, want 101 in 1", n, writes)
	}
	if !strings.HasSuffix(s, "\"upstream slow\"}\n") || !strings.Contains(s, `"i":99`) {
		t.Fatalf("order or content: %q", s[len(s)-120:])
	}
	log.Info("later")
	deadline := time.Now().Add(5 * time.Second)
	for { // the writer goroutine writes it within logFlushDelay
		if s := out.String(); strings.Contains(s, `"later"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an INFO line was never written")
		}
		time.Sleep(5 * time.Millisecond)
	}
	log.Info("last")
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, `"last"`) {
		t.Fatal("Close did not write the buffered line")
	}
}

func TestLogBufferWritesAFullBufferAndHugeLines(t *testing.T) {
	out := &syncBuffer{}
	b := newLogBuffer(out)
	defer b.Close()
	line := []byte(strings.Repeat("x", 1000) + "\n")
	for range logBufferMax/len(line) + 1 {
		if _, err := b.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if s := out.String(); len(s) < logBufferMax/2 {
		t.Fatalf("a full buffer was not written (%d bytes out)", len(s))
	}
	huge := []byte(strings.Repeat("y", logBufferMax+10) + "\n")
	if _, err := b.Write(huge); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.HasSuffix(s, string(huge)) {
		t.Fatal("a line larger than the buffer was not written at once, after the lines before it")
	}
}
