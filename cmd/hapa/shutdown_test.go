package main

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime/ws/wsclient"
	"github.com/hapa-project/hapa/vllm/sim"
)

// TestShutdownDrainsThenCuts: after SIGTERM a replica answers /readyz with 503 for
// SHUTDOWN_DRAIN_DELAY while it goes on serving; streams still open at
// SHUTDOWN_TIMEOUT end with a retryable E5005 error event ([DONE] on SSE, stream.error
// then close 1012 on the socket) and are charged what they delivered.
func TestShutdownDrainsThenCuts(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 1, noRedis: true, sim: sim.Config{ITL: 50 * time.Millisecond}, // both outlive the deadline
		env: map[string]string{"SHUTDOWN_DRAIN_DELAY": "1s", "SHUTDOWN_TIMEOUT": "1s"}})
	r := c.replicas[0]
	key, k := c.key("long", 0)

	sse := request(t, "POST", r.url+"/api/v1/code/generate/stream",
		map[string]any{"prompt": "an endless essay", "max_tokens": 3000, "temperature": 0.9}, "X-API-Key", key)
	defer sse.Body.Close()
	sseEnd := make(chan []string, 1)
	sseStarted := make(chan struct{})
	go func() {
		var tail []string
		first := true
		sseEvents(sse.Body, func(ev map[string]any, raw string) bool {
			if first && ev["type"] == "token" {
				first = false
				close(sseStarted)
			}
			if ev["type"] != "token" {
				tail = append(tail, raw)
			}
			return raw != "[DONE]"
		})
		sseEnd <- tail
	}()
	cl := dial(t, r, key)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := cl.Generate(ctx, wsclient.GenerationCreate{Prompt: "an endless poem", MaxTokens: 3000, Temperature: ptr(0.9)})
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := st.Next(ctx); err != nil || ev.Type != "stream.started" {
		t.Fatalf("%+v %v", ev, err)
	}
	<-sseStarted

	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	// Draining: not ready, still serving.
	for {
		resp := request(t, "GET", r.url+"/readyz", nil)
		resp.Body.Close()
		if resp.StatusCode == 503 {
			break
		}
		if time.Since(signalled) > 900*time.Millisecond {
			t.Fatalf("/readyz still %d during the drain delay", resp.StatusCode)
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp := request(t, "GET", r.url+"/health", nil)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("a draining replica refused /health: %d", resp.StatusCode)
	}
	t.Logf("/readyz answered 503 %d ms after SIGTERM while /health was served", time.Since(signalled).Milliseconds())

	var wsEnd wsclient.Event
	for {
		ev, err := st.Next(ctx)
		if err != nil {
			t.Fatalf("socket stream without a terminal frame: %v", err)
		}
		if ev.Terminal() {
			wsEnd = ev
			break
		}
	}
	<-cl.Done()
	tail := <-sseEnd
	cut := time.Since(signalled)
	t.Logf("cut %d ms after SIGTERM: socket %s %+v (close %d); SSE ended with %v", cut.Milliseconds(), wsEnd.Type, wsEnd.Error, cl.CloseStatus(), tail)
	if wsEnd.Type != "stream.error" || wsEnd.Error.Code != "E5005" || !wsEnd.Error.Retryable || wsEnd.Usage == nil ||
		wsEnd.Usage.CompletionTokens == 0 || cl.CloseStatus() != 1012 {
		t.Fatalf("socket: %+v, close %d", wsEnd, cl.CloseStatus())
	}
	if len(tail) < 2 || !strings.Contains(tail[len(tail)-2], `"error_code":"E5005"`) || tail[len(tail)-1] != "[DONE]" {
		t.Fatalf("SSE tail %v: want an E5005 error event, then [DONE]", tail)
	}
	select {
	case <-r.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the replica did not exit")
	}
	rows, err := c.db.RequestLog().Since(context.Background(), time.Now().Add(-time.Hour), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, row := range rows {
		if row.KeyID != nil && *row.KeyID == k.ID {
			n++
			if row.ErrorCode != "E5005" || row.TokensOut == 0 || row.UpstreamOut != row.TokensOut {
				t.Errorf("row %+v: a cut stream is charged what it delivered", row)
			}
		}
	}
	if n != 2 {
		t.Fatalf("%d rows of the two cut streams", n)
	}
}
