package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// RefProxy is the reference gateway of scenarios (a) and (b): the least a Go gateway on
// net/http does for a generation, and nothing else. For HAPA's two code routes it
// decodes the JSON body, sends a streamed generation upstream and decodes every chunk
// to [DONE]; POST
// /api/v1/code/generate answers JSON with the text and usage, …/generate/stream relays
// each chunk with text as a `type:token` SSE event (one write and flush each, as HAPA
// does) and ends with a `done` event carrying the usage. There is no authentication,
// limiter, log, metric, prompt template, cache, coalescing or request log. Run in its
// own process (`hapa bench refproxy`), what it adds over the direct upstream in the same
// rounds is the floor under HAPA's added latency on the machine: what the extra HTTP hop
// and the Go runtime cost before any of HAPA's own work.
//
// With a template (Upstream.WriteTemplate: the request HAPA itself sends, with a marker
// for the prompt) it sends that request to path, the client's prompt spliced in, so that
// its upstream exchange is HAPA's; without one it sends a plain completion request.
func RefProxy(upstream, path string, template []byte) (http.Handler, error) {
	if path == "" {
		path = "/v1/completions"
	}
	p := &refProxy{upstream: strings.TrimRight(upstream, "/") + path,
		hc: &http.Client{Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        2048,
			MaxIdleConnsPerHost: 2048,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("POST /api/v1/code/generate", p.generate)
	mux.HandleFunc("POST /api/v1/code/generate/stream", p.stream)
	if template != nil {
		head, tail, ok := bytes.Cut(template, jsonMarker())
		if !ok {
			return nil, errors.New("refproxy: the template has no prompt marker")
		}
		p.head, p.tail = head, tail
	}
	return mux, nil
}

type refProxy struct {
	upstream   string
	hc         *http.Client
	head, tail []byte // the template around the prompt; nil: a plain completion request
}

type refUsage struct {
	Prompt     int `json:"prompt_tokens"`
	Completion int `json:"completion_tokens"`
}

// refEvent is an SSE event of the stream route, its type first as in HAPA's events.
type refEvent struct {
	Type    string `json:"type"`
	Content string `json:"content"`
}

var errRefTruncated = errors.New("refproxy: the upstream stream ended before [DONE]")

func (p *refProxy) generate(w http.ResponseWriter, r *http.Request) {
	resp, ok := p.start(w, r)
	if !ok {
		return
	}
	defer resp.Body.Close()
	var text strings.Builder
	usage, err := eachChunk(resp.Body, func(s string) { text.WriteString(s) })
	if err != nil {
		refError(w, http.StatusBadGateway, "E5004")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"success": true, "generated_code": text.String(),
		"token_usage": map[string]int{"prompt_tokens": usage.Prompt, "completion_tokens": usage.Completion}})
}

func (p *refProxy) stream(w http.ResponseWriter, r *http.Request) {
	resp, ok := p.start(w, r)
	if !ok {
		return
	}
	defer resp.Body.Close()
	fl, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	var buf []byte
	event := func(v any) {
		b, _ := json.Marshal(v)
		buf = append(append(append(buf[:0], "data: "...), b...), "\n\n"...)
		_, _ = w.Write(buf)
		if fl != nil {
			fl.Flush()
		}
	}
	event(refEvent{Type: "start"})
	usage, err := eachChunk(resp.Body, func(s string) { event(refEvent{Type: "token", Content: s}) })
	if err != nil {
		event(map[string]string{"type": "error", "error_code": "E5004"})
		return
	}
	event(map[string]any{"type": "done", "content": "", "metadata": map[string]any{"usage": usage}})
	_, _ = io.WriteString(w, "data: [DONE]\n\n")
}

// start decodes the client's body and sends the upstream request; on failure it has
// answered the client.
func (p *refProxy) start(w http.ResponseWriter, r *http.Request) (*http.Response, bool) {
	var in struct {
		Prompt      string  `json:"prompt"`
		MaxTokens   int     `json:"max_tokens"`
		Temperature float64 `json:"temperature"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		refError(w, http.StatusBadRequest, "E4001")
		return nil, false
	}
	resp, err := p.send(r.Context(), in.Prompt, in.MaxTokens, in.Temperature)
	if err != nil {
		refError(w, http.StatusBadGateway, "E5001")
		return nil, false
	}
	return resp, true
}

func (p *refProxy) send(ctx context.Context, prompt string, maxTokens int, temperature float64) (*http.Response, error) {
	var body []byte
	if p.head != nil {
		body = append(appendJSONString(append([]byte(nil), p.head...), prompt), p.tail...)
	} else {
		var err error
		body, err = json.Marshal(map[string]any{"model": "prompt", "prompt": prompt,
			"max_tokens": maxTokens, "temperature": temperature, "stream": true,
			"stream_options": map[string]any{"include_usage": true}})
		if err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.upstream, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, errors.New("refproxy: upstream " + resp.Status)
	}
	return resp, nil
}

// eachChunk decodes a vLLM (chat) completion stream to data: [DONE], calling text for each
// chunk with text, and returns the final usage.
func eachChunk(body io.Reader, text func(string)) (refUsage, error) {
	var usage refUsage
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		data, ok := bytes.CutPrefix(sc.Bytes(), []byte("data: "))
		if !ok {
			continue
		}
		if bytes.Equal(data, []byte("[DONE]")) {
			_, _ = io.Copy(io.Discard, body) // to the end, so that the connection is reused
			return usage, nil
		}
		var chunk struct {
			Choices []struct {
				Text  string `json:"text"` // completions
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"` // chat completions
			} `json:"choices"`
			Usage *refUsage `json:"usage"`
		}
		if err := json.Unmarshal(data, &chunk); err != nil {
			return usage, err
		}
		for _, c := range chunk.Choices {
			if t := c.Text + c.Delta.Content; t != "" {
				text(t)
			}
		}
		if chunk.Usage != nil {
			usage = *chunk.Usage
		}
	}
	if err := sc.Err(); err != nil {
		return usage, err
	}
	return usage, errRefTruncated
}

func refError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"status":"error","error_code":"`+code+`"}`)
}
