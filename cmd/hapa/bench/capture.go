package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hapa-project/hapa/vllm/sim"
)

// promptMarker stands for the prompt in an upstream request template.
const promptMarker = "\x00HAPA-BENCH-PROMPT\x00"

// Upstream is the request HAPA sends to vLLM for the suite's code generation,
// recorded from a real gateway (CaptureUpstream): the path (/v1/chat/completions for
// a code generation) and the JSON body. The direct side and the reference proxy send
// the same request, so that "added" compares like with like: the same system prompt,
// messages, sampling and stop sequences.
type Upstream struct {
	Path string
	body map[string]any
}

// CaptureUpstream starts a gateway (bin, scratch files in dir) in front of an
// in-process simulator that records requests, sends it one POST
// /api/v1/code/generate of benchPrompt and returns what reached the simulator.
func CaptureUpstream(ctx context.Context, bin, dir string) (*Upstream, error) {
	rec := &upstreamRecorder{next: sim.New(sim.Config{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: rec, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	env := gatewayEnv(port, filepath.Join(dir, "capture.db"), "http://"+ln.Addr().String())
	gw, err := startProc(ctx, "capture-gateway", bin, []string{"serve"}, env, dir, filepath.Join(dir, "capture-gateway.log"), url, "/readyz")
	if err != nil {
		return nil, err
	}
	defer gw.Stop()
	c := NewHTTPClient(1)
	defer c.CloseIdleConnections()
	s := RESTTarget(c, url, DemoKey, GenBody(benchPrompt, 0.7, 16, false)).Do(ctx, 0)
	if s.Err != "" {
		return nil, fmt.Errorf("bench: capturing the upstream request: %s", s.Err)
	}
	path, raw := rec.first()
	if path == "" {
		return nil, errors.New("bench: capturing the upstream request: none reached the simulator")
	}
	return ParseUpstream(path, raw)
}

// ParseUpstream reads a recorded upstream request whose prompt was benchPrompt.
func ParseUpstream(path string, raw []byte) (*Upstream, error) {
	u := &Upstream{Path: path}
	if err := json.Unmarshal(raw, &u.body); err != nil {
		return nil, fmt.Errorf("bench: the recorded upstream request: %w", err)
	}
	if _, _, err := u.template(16); err != nil {
		return nil, err
	}
	return u, nil
}

// Body is the upstream request with maxTokens and the prompt of GenBody (with " #n"
// appended when unique), for the direct side.
func (u *Upstream) Body(maxTokens int, unique bool) Body {
	head, tail, err := u.template(maxTokens)
	if err != nil {
		panic(err) // ParseUpstream checked the shape
	}
	return func(i int) []byte {
		p := benchPrompt
		if unique {
			p += " #" + strconv.Itoa(i)
		}
		out := make([]byte, 0, len(head)+len(p)+len(tail)+8)
		out = append(out, head...)
		out = appendJSONString(out, p)
		return append(out, tail...)
	}
}

// WriteTemplate writes the request with maxTokens and promptMarker in place of the
// prompt (JSON-escaped: the reference proxy's --template).
func (u *Upstream) WriteTemplate(path string, maxTokens int) error {
	head, tail, err := u.template(maxTokens)
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(append(head, jsonMarker()...), tail...), 0o644)
}

// template is the body split around the prompt's JSON string contents.
func (u *Upstream) template(maxTokens int) (head, tail []byte, err error) {
	b := cloneJSON(u.body)
	b["max_tokens"] = maxTokens
	if !setPrompt(b, promptMarker) {
		return nil, nil, fmt.Errorf("bench: the recorded upstream request has no prompt %q", benchPrompt)
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, nil, err
	}
	head, tail, ok := bytes.Cut(raw, jsonMarker())
	if !ok {
		return nil, nil, errors.New("bench: upstream template lost its marker")
	}
	return head, tail, nil
}

// setPrompt replaces benchPrompt in the last message's content (chat) or the prompt.
func setPrompt(b map[string]any, p string) bool {
	if msgs, ok := b["messages"].([]any); ok && len(msgs) > 0 {
		last, ok := msgs[len(msgs)-1].(map[string]any)
		if ok && last["content"] == benchPrompt {
			last["content"] = p
			return true
		}
		return false
	}
	if b["prompt"] == benchPrompt {
		b["prompt"] = p
		return true
	}
	return false
}

func cloneJSON(m map[string]any) map[string]any {
	raw, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// jsonMarker is promptMarker as encoding/json writes it inside a string.
func jsonMarker() []byte {
	b, _ := json.Marshal(promptMarker)
	return b[1 : len(b)-1]
}

func appendJSONString(out []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(out, b[1:len(b)-1]...)
}

// upstreamRecorder passes requests to next and keeps the first POST to /v1/.
type upstreamRecorder struct {
	next http.Handler
	mu   sync.Mutex
	path string
	body []byte
}

func (r *upstreamRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodPost && strings.HasPrefix(req.URL.Path, "/v1/") {
		raw, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		if r.path == "" {
			r.path, r.body = req.URL.Path, raw
		}
		r.mu.Unlock()
		req.Body = io.NopCloser(bytes.NewReader(raw))
	}
	r.next.ServeHTTP(w, req)
}

func (r *upstreamRecorder) first() (string, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.path, r.body
}
