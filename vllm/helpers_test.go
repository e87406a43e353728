package vllm_test

import (
	"io"
	"net/http"
	"testing"
)

// hangHandler accepts a request and never answers. It reads the body first: net/http
// notices a client hang-up (and cancels r.Context) only once the body is consumed.
type hangHandler struct{}

func (hangHandler) ServeHTTP(_ http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	<-r.Context().Done()
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
