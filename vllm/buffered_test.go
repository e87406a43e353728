package vllm_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm"
)

// Buffered must mean that Next returns without reading the connection. An event
// without data (a comment, a keep-alive) is skipped by Next, which then reads on: it is
// not a buffered event.
func TestDecoderBufferedSkipsEventsWithoutData(t *testing.T) {
	pr, pw := io.Pipe()
	d := vllm.NewDecoder(pr, 0)
	go func() {
		_, _ = pw.Write([]byte("data: a\n\n: ping\n\nevent: x\r\n\r\ndata: b\n"))
		_, _ = pw.Write([]byte("\ndata\n\n"))
		_ = pw.Close()
	}()
	if data, err := d.Next(); err != nil || string(data) != "a" {
		t.Fatalf("first event %q %v", data, err)
	}
	if d.Buffered() {
		t.Fatal("Buffered with only data-less events and a partial one in the buffer")
	}
	if data, err := d.Next(); err != nil || string(data) != "b" {
		t.Fatalf("second event %q %v", data, err)
	}
	if !d.Buffered() { // "data" alone is a data field with an empty value
		t.Fatal("not Buffered with a whole `data` event in the buffer")
	}
}

// A chunk without text, finish or usage (vLLM sends them, e.g. for a token that
// decodes to nothing yet) is skipped by Next: Buffered must not report it as a delta,
// or a reader merging buffered deltas blocks on the network with text in hand.
func TestStreamBufferedSkipsEmptyChunks(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		_, _ = w.Write([]byte(`data: {"choices":[{"index":0,"text":"a","finish_reason":null}]}` + "\n\n" +
			`data: {"choices":[{"index":0,"text":"","finish_reason":null}]}` + "\n\n"))
		http.NewResponseController(w).Flush()
		<-release
		_, _ = w.Write([]byte(`data: {"choices":[{"index":0,"text":"b","finish_reason":"stop"}]}` + "\n\ndata: [DONE]\n\n"))
	}))
	defer ts.Close()
	defer close(release)
	c, err := vllm.NewClient(vllm.ClientConfig{BaseURL: ts.URL, HTTPClient: ts.Client()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Stream(context.Background(), vllm.Request{Model: "m", Prompt: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Next() || s.Delta().Text != "a" {
		t.Fatalf("first delta %+v %v", s.Delta(), s.Err())
	}
	got := make(chan bool, 1)
	go func() { got <- s.Buffered() }()
	select {
	case b := <-got:
		if b {
			t.Fatal("Buffered with only an empty chunk in the buffer")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Buffered blocked")
	}
	release <- struct{}{}
	var text string
	for s.Next() {
		text += s.Delta().Text
		_ = s.Buffered() // reads ahead without losing the delta
	}
	if text != "b" || s.Err() != nil {
		t.Fatalf("rest %q %v", text, s.Err())
	}
}
