package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hapa-project/hapa/realtime/ws/wsclient"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm/sim"
)

// The promises an operator relies on when running several replicas
// (docs/operations.md, "Running several replicas"), each checked on three real
// `hapa serve` processes sharing PostgreSQL and Redis. Timing bounds are generous;
// the measured figures are logged (go test -v -run TestReplicas ./cmd/hapa/).

func TestReplicas(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3, sim: sim.Config{Seed: 11, TTFT: 5 * time.Millisecond, ITL: 10 * time.Millisecond},
		env: map[string]string{"WS_MAX_CONNS_PER_KEY": "16", "RATE_LIMIT_RULES": "stream=1000/m,generation=1000/m,completion=1000/m,auth=1000/m"}})

	// A stream cancelled after 60 deltas is charged the tokens it received, so a
	// token quota cannot be bypassed by cancelling (before: 0 tokens, all admitted).
	t.Run("a cancelled socket stream is charged what it received", func(t *testing.T) {
		key, k := c.key("cancel", 600)
		admitted, refused := 0, 0
		for i := range 5 {
			cl := dial(t, c.replicas[i%3], key)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			st, err := cl.Generate(ctx, wsclient.GenerationCreate{Prompt: fmt.Sprintf("an essay number %d", i), MaxTokens: 400, Temperature: ptr(0.9)})
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			deltas := 0
			var end wsclient.Event
			for {
				ev, err := st.Next(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if ev.Type == "stream.delta" {
					text.WriteString(ev.Text)
					if deltas++; deltas == 60 {
						_ = cl.Cancel(ctx, st.ID)
					}
				}
				if ev.Terminal() {
					end = ev
					break
				}
			}
			cancel()
			if end.Type == "stream.error" && end.Error.Code == "E4016" {
				refused++
				continue
			}
			admitted++
			received := sim.CountTokens(text.String())
			// Near the end of the quota max_tokens is lowered to what is left: such a
			// stream may finish ("length") before 60 deltas.
			cut := end.FinishReason == "cancelled" && received >= 60
			if !cut && !(end.FinishReason == "length" && deltas < 60) || end.Usage == nil || end.Usage.CompletionTokens != received {
				t.Fatalf("stream %d: %+v after %d deltas (%d tokens)", i, end, deltas, received)
			}
			row := logRow(t, c.db, func(r store.RequestLogRow) bool {
				return r.KeyID != nil && *r.KeyID == k.ID && r.RequestID != "" && r.TokensOut == received && r.CreatedAt.After(time.Now().Add(-time.Minute))
			})
			t.Logf("cancel after %d deltas on %s: %d tokens received, charged %d+%d (row: %d upstream out)",
				deltas, c.replicas[i%3].name, received, end.Usage.PromptTokens, end.Usage.CompletionTokens, row.UpstreamOut)
			if row.UpstreamOut != received || row.UpstreamIn == 0 {
				t.Fatalf("row %+v, want %d upstream completion tokens and the prompt", row, received)
			}
		}
		if admitted == 0 || refused == 0 {
			t.Fatalf("admitted %d, refused %d of 5 cancelled streams under 600 tokens a day; want the quota to bite", admitted, refused)
		}
	})

	t.Run("an SSE stream cut by the client is charged what was sent", func(t *testing.T) {
		key, k := c.key("sse-cut", 0)
		resp := request(t, "POST", c.replicas[1].url+"/api/v1/code/generate/stream",
			map[string]any{"prompt": "a long essay on testing", "max_tokens": 500, "temperature": 0.9}, "X-API-Key", key)
		var text strings.Builder
		events := 0
		sseEvents(resp.Body, func(ev map[string]any, _ string) bool {
			if ev["type"] == "token" {
				text.WriteString(ev["content"].(string))
				events++
			}
			return events < 60
		})
		resp.Body.Close() // the client leaves (curl --max-time)
		received := sim.CountTokens(text.String())
		row := logRow(t, c.db, func(r store.RequestLogRow) bool { return r.KeyID != nil && *r.KeyID == k.ID })
		t.Logf("SSE cut after %d events: %d tokens received, row charged %d out (%d sent)", events, received, row.UpstreamOut, row.TokensOut)
		if row.Status != 499 || row.TokensOut < received || row.UpstreamOut != row.TokensOut || row.TokensOut > received+50 {
			t.Fatalf("row %+v after the client read %d tokens", row, received)
		}
	})

	// hapa keys revoke ends the key's SSE, /v1 and socket streams on every replica at
	// once with E4007 before the close, and the upstream generations are aborted.
	t.Run("revocation ends every stream on every replica", func(t *testing.T) {
		key, k := c.key("doomed", 0)
		type ended struct {
			what string
			at   time.Time
			code string
		}
		var mu sync.Mutex
		var ends []ended
		note := func(what, code string) {
			mu.Lock()
			ends = append(ends, ended{what, time.Now(), code})
			mu.Unlock()
		}
		started := make(chan struct{}, 16)
		var wg sync.WaitGroup
		abortedBefore := c.sim.Stats().Aborted
		for _, r := range c.replicas {
			wg.Add(3)
			go func() { // SSE
				defer wg.Done()
				resp := request(t, "POST", r.url+"/api/v1/code/generate/stream",
					map[string]any{"prompt": "an endless essay " + r.name, "max_tokens": 3000, "temperature": 0.9}, "X-API-Key", key)
				defer resp.Body.Close()
				first := true
				code := "none"
				sseEvents(resp.Body, func(ev map[string]any, _ string) bool {
					if first && ev["type"] == "token" {
						first = false
						started <- struct{}{}
					}
					if ev["type"] == "error" {
						code, _ = ev["error_code"].(string)
						return false
					}
					return ev["type"] != "done"
				})
				note("SSE on "+r.name, code)
			}()
			go func() { // OpenAI-compatible stream
				defer wg.Done()
				resp := request(t, "POST", r.url+"/v1/chat/completions", map[string]any{"model": "prompt", "stream": true,
					"max_tokens": 3000, "temperature": 0.9, "messages": []any{map[string]any{"role": "user", "content": "an endless story " + r.name}}},
					"Authorization", "Bearer "+key)
				defer resp.Body.Close()
				first := true
				code := "none"
				sseEvents(resp.Body, func(ev map[string]any, raw string) bool {
					if first && ev["choices"] != nil {
						first = false
						started <- struct{}{}
					}
					if e, ok := ev["error"].(map[string]any); ok {
						code, _ = e["code"].(string)
						return false
					}
					return raw != "[DONE]"
				})
				note("/v1 on "+r.name, code)
			}()
			go func() { // the socket
				defer wg.Done()
				cl := dial(t, r, key)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				st, err := cl.Generate(ctx, wsclient.GenerationCreate{Prompt: "an endless poem " + r.name, MaxTokens: 3000, Temperature: ptr(0.9)})
				if err != nil {
					t.Error(err)
					return
				}
				first, code := true, "none"
				for {
					ev, err := st.Next(ctx)
					if err != nil {
						break
					}
					if first && ev.Type == "stream.delta" {
						first = false
						started <- struct{}{}
					}
					if ev.Terminal() {
						if ev.Error != nil {
							code = ev.Error.Code
						}
						break
					}
				}
				<-cl.Done()
				note(fmt.Sprintf("socket on %s (close %d)", r.name, cl.CloseStatus()), code)
			}()
		}
		for range 9 {
			select {
			case <-started:
			case <-time.After(20 * time.Second):
				t.Fatal("streams did not start")
			}
		}
		revoked := time.Now()
		if out := c.hapa("keys", "revoke", strconv.FormatInt(k.ID, 10)); !strings.Contains(out, "revoked key") {
			t.Fatalf("keys revoke: %s", out)
		}
		wg.Wait()
		var worst time.Duration
		for _, e := range ends {
			d := e.at.Sub(revoked)
			worst = max(worst, d)
			t.Logf("%s ended %d ms after the revocation with %s", e.what, d.Milliseconds(), e.code)
			want := "E4007"
			if strings.HasPrefix(e.what, "/v1") {
				want = "revoked_api_key" // OpenAI's envelope (docs/api.md, "OpenAI-compatible routes")
			}
			if e.code != want || d > 3*time.Second || (strings.HasPrefix(e.what, "socket") && !strings.Contains(e.what, "close 4001")) {
				t.Errorf("%s: ended with %q after %s", e.what, e.code, d)
			}
		}
		if len(ends) != 9 {
			t.Fatalf("%d streams ended, want 9", len(ends))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.sim.WaitAborted(ctx, abortedBefore+9); err != nil {
			t.Fatalf("upstream generations not aborted: %d of 9 (%v)", c.sim.Stats().Aborted-abortedBefore, err)
		}
		t.Logf("revocation: every stream ended within %d ms", worst.Milliseconds())
	})

	// A logout on one replica holds on the others at once, for the access token and its
	// refresh token, and after a restart.
	t.Run("logout holds on every replica", func(t *testing.T) {
		resp := request(t, "POST", c.replicas[0].url+"/auth/login", map[string]any{"email": "editor@example.com"})
		var pair struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&pair)
		resp.Body.Close()
		if pair.AccessToken == "" {
			t.Fatalf("login %d", resp.StatusCode)
		}
		me := func(r *replica) int {
			resp := request(t, "GET", r.url+"/users/me", nil, "Authorization", "Bearer "+pair.AccessToken)
			resp.Body.Close()
			return resp.StatusCode
		}
		for _, r := range c.replicas {
			if s := me(r); s != 200 {
				t.Fatalf("%s before logout: %d", r.name, s)
			}
		}
		resp = request(t, "POST", c.replicas[0].url+"/auth/logout", nil, "Authorization", "Bearer "+pair.AccessToken)
		resp.Body.Close()
		loggedOut := time.Now()
		if resp.StatusCode != 204 {
			t.Fatalf("logout %d", resp.StatusCode)
		}
		for _, r := range c.replicas[1:] {
			for me(r) != 401 {
				if time.Since(loggedOut) > 5*time.Second {
					t.Fatalf("%s still accepts the logged-out token", r.name)
				}
				time.Sleep(5 * time.Millisecond)
			}
			t.Logf("logout on r1 → refused on %s after %d ms", r.name, time.Since(loggedOut).Milliseconds())
		}
		refresh := func(r *replica) int {
			resp := request(t, "POST", r.url+"/auth/refresh", map[string]any{"refresh_token": pair.RefreshToken})
			resp.Body.Close()
			return resp.StatusCode
		}
		if s := refresh(c.replicas[1]); s != 401 {
			t.Fatalf("refresh with the logged-out session's refresh token: %d", s)
		}
		r := c.restart(2)
		if s, rs := me(r), refresh(r); s != 401 || rs != 401 {
			t.Fatalf("after a restart: /users/me %d, refresh %d", s, rs)
		}
	})

	// WS_MAX_CONNS_PER_KEY counts the sockets of all replicas together.
	t.Run("the socket cap holds across replicas", func(t *testing.T) {
		key, _ := c.key("many-sockets", 0)
		accepted, refused := 0, 0
		var open []*wsclient.Client
		for i := range 60 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			cl, err := wsclient.Dial(ctx, wsURL(c.replicas[i%3]), key, nil)
			cancel()
			switch {
			case err == nil:
				accepted++
				open = append(open, cl)
			case websocket.CloseStatus(err) == 4029:
				refused++
			default:
				t.Fatalf("socket %d: %v", i, err)
			}
		}
		t.Logf("60 sockets of one key over 3 replicas with a cap of 16: %d accepted, %d refused", accepted, refused)
		if accepted != 16 || refused != 44 {
			t.Fatalf("accepted %d, refused %d; want 16 and 44", accepted, refused)
		}
		for _, cl := range open[:4] {
			_ = cl.Close()
		}
		deadline := time.Now().Add(5 * time.Second)
		for n := 0; n < 4; {
			cl, err := wsclient.Dial(context.Background(), wsURL(c.replicas[n%3]), key, nil)
			if err == nil {
				open = append(open, cl)
				n++
				continue
			}
			if time.Now().After(deadline) {
				t.Fatalf("closed sockets were not given back: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		for _, cl := range open {
			_ = cl.Close()
		}
	})

	// One miss and one hit on another replica: vLLM produced the tokens once, and once
	// is what the request log, the metrics and the quota count.
	t.Run("a cache hit is not charged as model tokens", func(t *testing.T) {
		key, k := c.key("cached", 100000)
		body := map[string]any{"prompt": "write a function that reverses a string", "max_tokens": 60, "temperature": 0}
		metricsBefore := c.metricSum(t, "hapa_ai_tokens_used_total")
		var usage [2]float64
		for i, r := range c.replicas[:2] {
			resp := request(t, "POST", r.url+"/api/v1/code/generate", body, "X-API-Key", key)
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d %v", r.name, resp.StatusCode, m)
			}
			usage[i] = m["token_usage"].(map[string]any)["total_tokens"].(float64)
		}
		rows := func() (served, upstream, n int) {
			all, _ := c.db.RequestLog().Since(context.Background(), time.Now().Add(-time.Hour), "", 0)
			for _, r := range all {
				if r.KeyID != nil && *r.KeyID == k.ID {
					served, upstream, n = served+r.TokensIn+r.TokensOut, upstream+r.UpstreamIn+r.UpstreamOut, n+1
				}
			}
			return
		}
		deadline := time.Now().Add(10 * time.Second)
		for _, _, n := rows(); n < 2 && time.Now().Before(deadline); _, _, n = rows() {
			time.Sleep(50 * time.Millisecond)
		}
		served, upstream, _ := rows()
		quota := c.quotaUsed(t, k.ID)
		metrics := c.metricSum(t, "hapa_ai_tokens_used_total") - metricsBefore
		t.Logf("miss + hit: served %d tokens, upstream %d, quota counter %d, hapa_ai_tokens_used_total +%v", served, upstream, quota, metrics)
		if usage[0] != usage[1] || served != int(2*usage[0]) || upstream != int(usage[0]) || quota != upstream || int(metrics) != upstream {
			t.Fatalf("answers %v; rows served %d upstream %d; quota %d; metric +%v", usage, served, upstream, quota, metrics)
		}
	})

	// Requests one after another on alternating replicas never spend more than the
	// quota.
	t.Run("no overshoot one request after another", func(t *testing.T) {
		key, k := c.key("budget", 1500)
		admitted := 0
		for i := 0; i < 40; i++ {
			resp := request(t, "POST", c.replicas[i%3].url+"/api/v1/code/generate",
				map[string]any{"prompt": fmt.Sprintf("function %d", i), "max_tokens": 60, "temperature": 0.9}, "X-API-Key", key)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 429 {
				break
			}
			if resp.StatusCode != 200 {
				t.Fatalf("request %d: %d", i, resp.StatusCode)
			}
			admitted++
		}
		used := c.quotaUsed(t, k.ID)
		t.Logf("quota 1500 tokens: %d requests admitted, %d tokens charged, overshoot %d", admitted, used, max(0, used-1500))
		if used > 1500 || admitted == 0 {
			t.Fatalf("charged %d of 1500 with %d requests", used, admitted)
		}
	})

	// Completion feedback reaches the database from any replica: the id is signed with
	// the shared SECRET_KEY, so replica 2 takes reports on a completion replica 1 made.
	t.Run("completion feedback from any replica", func(t *testing.T) {
		key, k := c.key("feedback", 0)
		cl := dial(t, c.replicas[0], key)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		st, err := cl.Complete(ctx, wsclient.CompletionCreate{Prefix: "def add(a, b):\n    ", MaxTokens: 8})
		if err != nil {
			t.Fatal(err)
		}
		res, err := st.Collect(ctx)
		if err != nil || res.Started == nil || res.Started.CompletionID == "" {
			t.Fatalf("completion: %+v, %v", res, err)
		}
		id := res.Started.CompletionID
		if _, err := cl.Feedback(ctx, wsclient.CompletionFeedback{CompletionID: id, Event: "shown"}); err != nil {
			t.Fatal(err)
		}
		resp := request(t, "POST", c.replicas[1].url+"/api/v1/completions/events", map[string]any{"events": []any{
			map[string]any{"completion_id": id, "event": "accepted", "accepted_chars": 7}}}, "X-API-Key", key)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"accepted":1`) {
			t.Fatalf("replica 2 refused the report: %d %s", resp.StatusCode, body)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			evs, err := c.db.CompletionEvents().Of(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) == 2 {
				if evs[1].Event != "accepted" || *evs[1].KeyID != k.ID || *evs[1].AcceptedChars != 7 || evs[1].ModelFamily == "" {
					t.Fatalf("stored %+v", evs[1])
				}
				t.Logf("shown on r1 (socket), accepted on r2 (REST): both in PostgreSQL, shown→accepted %.0f ms", evs[1].LatencyMs-evs[0].LatencyMs)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d events in the database, want 2", len(evs))
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	// Coalescing is per replica (docs/operations.md): identical requests arriving at
	// three replicas at once reach vLLM three times.
	t.Run("coalescing is per replica", func(t *testing.T) {
		key, _ := c.key("coalesce", 0)
		before := c.sim.Stats().Requests
		var wg sync.WaitGroup
		for i := range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp := request(t, "POST", c.replicas[i%3].url+"/api/v1/code/generate",
					map[string]any{"prompt": "the same question everyone asks", "max_tokens": 200, "temperature": 0}, "X-API-Key", key)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}()
		}
		wg.Wait()
		n := c.sim.Stats().Requests - before
		t.Logf("30 identical concurrent requests over 3 replicas: %d upstream generations", n)
		if n < 1 || n > 3 {
			t.Fatalf("%d upstream generations, want one per replica at most", n)
		}
	})
}
