package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
)

var _ modelCataloger = (*realtime.Engine)(nil)

// openAIEnv is the real stack — SQLite, the engine over the vLLM pool and the
// simulator behind httptest, web.New — with an OpenAI SDK client pointed at it. Every
// request the simulator receives is recorded.
type openAIEnv struct {
	*testEnv
	sim      *sim.Server
	pool     *vllm.Pool
	engine   *realtime.Engine
	key      string // scopes code_generation and code_completion
	client   openai.Client
	upstream *upstreamLog
}

type openAIOpts struct {
	sim    sim.Config
	engine realtime.EngineConfig // BaseModel defaults to the simulator's
	noBase bool                  // leave BaseModel empty
	mod    func(*Config, *Deps)
}

// upstreamLog records the bodies the simulator received.
type upstreamLog struct {
	mu     sync.Mutex
	bodies []map[string]any
}

func (u *upstreamLog) last(t *testing.T) map[string]any {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.bodies) == 0 {
		t.Fatal("the simulator received no request")
	}
	return u.bodies[len(u.bodies)-1]
}

func newOpenAIEnv(t *testing.T, o openAIOpts) *openAIEnv {
	t.Helper()
	oe := &openAIEnv{sim: sim.New(o.sim), upstream: &upstreamLog{}}
	simSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			oe.upstream.mu.Lock()
			oe.upstream.bodies = append(oe.upstream.bodies, m)
			oe.upstream.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		oe.sim.ServeHTTP(w, r)
	}))
	pool, err := vllm.NewPool(vllm.PoolConfig{URLs: []string{simSrv.URL}, HTTPClient: simSrv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	oe.pool = pool
	if o.engine.BaseModel == "" && !o.noBase {
		o.engine.BaseModel = sim.DefaultModel
	}
	o.engine.LogFlushInterval = 5 * time.Millisecond
	oe.testEnv = newEnv(t, func(c *Config, d *Deps) {
		oe.engine, err = realtime.NewEngine(o.engine, realtime.EngineDeps{Upstream: pool, Log: d.DB.RequestLog(),
			Cache: store.NewMemoryCache(1000, nil)})
		if err != nil {
			t.Fatal(err)
		}
		d.Engine = oe.engine
		if o.mod != nil {
			o.mod(c, d)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = oe.engine.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait(); simSrv.Close() })
	oe.key, _ = oe.newKey(nil, nil, ScopeCodeGeneration, ScopeCodeCompletion)
	oe.client = oe.sdk(oe.key)
	return oe
}

// sdk is an SDK client for key. Retries are off: the tests look at every status.
func (oe *openAIEnv) sdk(key string) openai.Client {
	return openai.NewClient(option.WithBaseURL(oe.ts.URL+"/v1/"), option.WithAPIKey(key),
		option.WithMaxRetries(0), option.WithRequestTimeout(10*time.Second))
}

// apiError asserts err is an SDK *openai.Error with status, type, code and param.
func apiError(t *testing.T, err error, status int, typ, code, param string) *openai.Error {
	t.Helper()
	var e *openai.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *openai.Error", err, err)
	}
	if e.StatusCode != status || e.Type != typ || e.Code != code || e.Param != param {
		t.Errorf("error = %d type=%q code=%q param=%q, want %d %q %q %q; body %s",
			e.StatusCode, e.Type, e.Code, e.Param, status, typ, code, param, e.RawJSON())
	}
	if e.Message == "" {
		t.Errorf("empty message: %s", e.RawJSON())
	}
	return e
}

// openAIEvents reads a raw SSE body into its data payloads, checking the framing: only
// `data: ` lines, each followed by a blank line, ending with [DONE].
func openAIEvents(t *testing.T, body []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	blank := true
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			blank = true
		case strings.HasPrefix(line, ": "): // keep-alive comment
		case strings.HasPrefix(line, "data: ") && blank:
			out = append(out, strings.TrimPrefix(line, "data: "))
			blank = false
		default:
			t.Fatalf("unexpected SSE line %q in\n%s", line, body)
		}
	}
	if len(out) == 0 || out[len(out)-1] != "[DONE]" {
		t.Fatalf("stream does not end with data: [DONE]:\n%s", body)
	}
	return out
}

// decodeOrdered decodes one JSON object and returns its keys in order, to check the
// exact shape of a chunk.
func decodeOrdered(t *testing.T, s string) (map[string]any, []string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, s)
	}
	dec := json.NewDecoder(strings.NewReader(s))
	_, _ = dec.Token() // {
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		_ = dec.Decode(&skip)
	}
	return m, keys
}

// rawPost posts body to path with the env's key.
func (oe *openAIEnv) rawPost(path string, body any) resp {
	oe.t.Helper()
	return oe.do(http.MethodPost, path, body, "Authorization", "Bearer "+oe.key)
}
