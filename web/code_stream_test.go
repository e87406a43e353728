package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/vllm/sim"
)

// open posts body to path and returns the response with its body unread.
func (ce *codeEnv) open(t testing.TB, ctx context.Context, path string, body any, hdr ...string) *http.Response {
	t.Helper()
	j, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", ce.ts.URL+path, bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sseEvents splits a raw SSE body into its JSON events (and "[DONE]"), checking the
// framing: only "data: " lines, each event followed by a blank line, keep-alives bare.
func sseEvents(t testing.TB, raw string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, block := range strings.Split(raw, "\n\n") {
		block = strings.TrimLeft(block, "\n") // keep-alives
		if block == "" {
			continue
		}
		if strings.Contains(block, "\n") || !strings.HasPrefix(block, "data: ") {
			t.Fatalf("bad SSE framing: %q", block)
		}
		data := block[len("data: "):]
		if data == "[DONE]" {
			out = append(out, map[string]any{"type": "[DONE]"})
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatalf("event is not JSON: %q", data)
		}
		out = append(out, m)
	}
	return out
}

func types(evs []map[string]any) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e["type"].(string))
	}
	return out
}

func TestCodeStreamExtension(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{})
	body := map[string]any{"prompt": "write a function that reverses a list", "context": "items = [1, 2, 3]",
		"model_type": "code_generation", "temperature": 0.3, "top_p": 0.95, "max_tokens": 200}
	res := ce.open(t, testCtx(t), "/api/v1/code/generate/stream?enhanced=true", body, ce.auth()...)
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	for k, want := range map[string]string{"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache",
		"X-Accel-Buffering": "no", "X-Enhanced-Mode": "true"} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	raw, _ := io.ReadAll(res.Body)
	got := parseExtension(t, bytes.NewReader(raw), 7)
	ref := ce.direct(t, realtime.Request{Prompt: body["prompt"].(string), Context: "items = [1, 2, 3]", MaxTokens: 200,
		Temperature: ptrTo(0.3), TopP: ptrTo(0.95), NoCache: true})
	if got.text != cutMarkers(ref.Text) || got.text == "" {
		t.Fatalf("extension text differs from the engine's one-shot result:\n got %q\nwant %q", got.text, ref.Text)
	}
	if !got.sawDone {
		t.Error("no [DONE]")
	}
	evs := sseEvents(t, string(raw))
	tt := types(evs)
	if tt[0] != "start" || tt[len(tt)-2] != "done" || tt[len(tt)-1] != "[DONE]" {
		t.Fatalf("event order %v", tt)
	}
	for i, e := range evs[:len(evs)-1] {
		if int(e["sequence"].(float64)) != i {
			t.Errorf("event %d sequence %v", i, e["sequence"])
		}
		if e["type"] == "token" && (e["text"] != e["content"] || e["is_complete"] != false) {
			t.Errorf("token event %v", e)
		}
	}
	done := evs[len(evs)-2]
	meta := done["metadata"].(map[string]any)
	usage := meta["usage"].(map[string]any)
	if done["is_complete"] != true || meta["finish_reason"] == "" || usage["completion_tokens"].(float64) < 1 ||
		usage["total_tokens"].(float64) != usage["prompt_tokens"].(float64)+usage["completion_tokens"].(float64) ||
		meta["model"] != "prompt" {
		t.Errorf("done event %v", done)
	}
}

func TestCodeStreamWholeEventsPerWrite(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{})
	for _, path := range []string{"/api/v1/code/generate/stream", "/api/v1/enhanced-stream-generate"} {
		t.Run(path, func(t *testing.T) {
			body := `{"prompt":"sum of squares","user_question":"sum of squares"}`
			req, _ := http.NewRequest("POST", path, strings.NewReader(body))
			req.Header.Set("X-API-Key", ce.key)
			w := &writeRecorder{ResponseRecorder: newRecorder()}
			ce.srv.Handler().ServeHTTP(w, req)
			if w.Code != 200 || len(w.writes) < 4 {
				t.Fatalf("status %d, %d writes", w.Code, len(w.writes))
			}
			for _, wr := range w.writes {
				if wr == "\n" {
					continue
				}
				if !strings.HasPrefix(wr, "data: ") || !strings.HasSuffix(wr, "\n\n") || strings.Count(wr, "\n") != 2 {
					t.Errorf("a write is not exactly one event: %q", wr)
				}
				if w.flushes == 0 {
					t.Error("never flushed")
				}
			}
		})
	}
}

// writeRecorder records every Write call.
type writeRecorder struct {
	*httptest.ResponseRecorder
	writes  []string
	flushes int
}

func (w *writeRecorder) Write(b []byte) (int, error) {
	w.writes = append(w.writes, string(b))
	return w.ResponseRecorder.Write(b)
}

func (w *writeRecorder) Flush() { w.flushes++; w.ResponseRecorder.Flush() }

func TestCodeStreamCoalesced(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{sim: sim.Config{TTFT: 300 * time.Millisecond, ITL: time.Millisecond}})
	const n = 5
	body := map[string]any{"prompt": "parse a CSV file", "max_tokens": 64}
	texts := make([]string, n)
	coalesced := make([]bool, n)
	done := make(chan int, n)
	for i := range n {
		go func() {
			defer func() { done <- i }()
			res := ce.open(t, testCtx(t), "/api/v1/code/generate/stream", body, ce.auth()...)
			raw, _ := io.ReadAll(res.Body)
			texts[i] = parseExtension(t, bytes.NewReader(raw), 4096).text
			evs := sseEvents(t, string(raw))
			coalesced[i] = evs[len(evs)-2]["metadata"].(map[string]any)["coalesced"].(bool)
		}()
	}
	for range n {
		<-done
	}
	if st := ce.sim.Stats(); st.Requests != 1 {
		t.Errorf("simulator saw %d requests, want 1", st.Requests)
	}
	joined := 0
	for i := range n {
		if texts[i] != texts[0] || texts[i] == "" {
			t.Errorf("subscriber %d text %q differs from %q", i, texts[i], texts[0])
		}
		if coalesced[i] {
			joined++
		}
	}
	if joined != n-1 {
		t.Errorf("%d coalesced, want %d", joined, n-1)
	}
}

func TestCodeStreamClientDisconnectCancelsUpstream(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{sim: sim.Config{ITL: 20 * time.Millisecond}})
	ctx, cancel := context.WithCancel(testCtx(t))
	res := ce.open(t, ctx, "/api/v1/code/generate/stream", map[string]any{"prompt": "a long essay", "max_tokens": 2000}, ce.auth()...)
	buf := make([]byte, 4096)
	var seen string
	for !strings.Contains(seen, `"type":"token"`) {
		n, err := res.Body.Read(buf)
		if err != nil {
			t.Fatalf("read: %v (got %q)", err, seen)
		}
		seen += string(buf[:n])
	}
	cancel()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := ce.sim.WaitAborted(wctx, 1); err != nil {
		t.Fatalf("the simulator saw no abort: %v (stats %+v)", err, ce.sim.Stats())
	}
}

func TestCodeStreamMidStreamFailure(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{sim: sim.Config{Faults: sim.Faults{ErrorInStreamRate: 1}}})
	res := ce.open(t, testCtx(t), "/api/v1/code/generate/stream", map[string]any{"prompt": "fizzbuzz", "max_tokens": 100}, ce.auth()...)
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, raw)
	}
	evs := sseEvents(t, string(raw))
	tt := types(evs)
	if len(tt) < 3 || tt[len(tt)-2] != "error" || tt[len(tt)-1] != "[DONE]" {
		t.Fatalf("events %v", tt)
	}
	e := evs[len(evs)-2]
	id, _ := e["incident_id"].(string)
	if !strings.HasPrefix(id, "INC-") || e["is_complete"] != true || !strings.HasPrefix(e["error_code"].(string), "E5") || e["content"] == "" {
		t.Errorf("error event %v", e)
	}
	ext := parseExtension(t, bytes.NewReader(raw), 64)
	if len(ext.errors) != 1 || !ext.sawDone {
		t.Errorf("extension sees errors %v, done %v", ext.errors, ext.sawDone)
	}
}

func TestCodeStreamUpstreamErrorBeforeFirstByte(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{sim: sim.Config{Faults: sim.Faults{ErrorRate: 1, ErrorStatus: 500}}})
	r := ce.do("POST", "/api/v1/code/generate/stream", map[string]any{"prompt": "hello"}, ce.auth()...)
	if r.StatusCode < 500 {
		t.Fatalf("status %d: %s", r.StatusCode, r.body)
	}
	m := r.json(t)
	if code, _ := m["error_code"].(string); !strings.HasPrefix(code, "E5") {
		t.Errorf("error_code %v", m["error_code"])
	}
	if m["type"] != "error" || m["content"] != m["detail"] || !strings.HasPrefix(m["incident_id"].(string), "INC-") {
		t.Errorf("body %s", r.body)
	}
}
