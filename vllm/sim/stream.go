package sim

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// stream answers with Server-Sent Events the way vLLM does: headers at once (the
// request then queues inside the engine), the chat role chunk, one chunk per token
// with finish_reason on the last, the usage chunk when asked, then [DONE].
func (g *gen) stream(ctx context.Context, w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	if !g.admit(ctx) {
		return
	}
	defer g.release()
	if g.f.HangBeforeFirstToken {
		<-ctx.Done()
		g.abort()
		return
	}
	if !g.wait(ctx, g.s.cfg.TTFT) {
		g.abort()
		return
	}
	send := func(b []byte) bool {
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if g.j.chat && !send(g.cw.role()) {
		g.abort()
		return
	}
	pieces := g.out.pieces
	if len(pieces) == 0 {
		pieces = []string{""}
	}
	last := time.Now()
	for i, p := range pieces {
		if i > 0 {
			if !g.wait(ctx, g.tokenDelay(i)) {
				g.abort()
				return
			}
			now := time.Now()
			g.itls = append(g.itls, now.Sub(last))
			last = now
		} else {
			g.ttft = time.Since(g.start)
		}
		if n := g.f.DisconnectAfterTokens; n > 0 && g.sent == n {
			g.s.errors.Add(1)
			panic(http.ErrAbortHandler) // net/http drops the connection, no [DONE]
		}
		if i == g.errorAt {
			g.s.errors.Add(1)
			b, _ := json.Marshal(errorBody(500, "InternalServerError", "simulated engine failure mid-stream (fault injection)", nil))
			send(append(append([]byte("data: "), b...), "\n\ndata: [DONE]\n\n"...))
			return
		}
		finish, stop := "", ""
		if i == len(pieces)-1 && g.out.stop == "" {
			finish = g.out.finish
		}
		if p != "" {
			g.cw.completion = g.sent + 1 // this chunk's token is counted in its own usage
		}
		if !send(g.cw.text(p, finish, stop)) || ctx.Err() != nil {
			g.abort()
			return
		}
		if p != "" {
			g.sent++
		}
	}
	if g.out.stop != "" && !send(g.cw.text("", "stop", g.out.stop)) {
		g.abort()
		return
	}
	if g.j.includeUsage {
		send(g.cw.usage(g.j.promptTokens, g.sent))
	}
	send([]byte("data: [DONE]\n\n"))
	g.complete()
}

// whole answers a non-streaming request after the same simulated latency.
func (g *gen) whole(ctx context.Context, w http.ResponseWriter) {
	if !g.admit(ctx) {
		return
	}
	defer g.release()
	if g.f.HangBeforeFirstToken {
		<-ctx.Done()
		g.abort()
		return
	}
	d := g.s.cfg.TTFT
	if n := len(g.out.pieces); n > 1 {
		d += time.Duration(n-1) * g.s.cfg.ITL
	}
	if !g.wait(ctx, d) {
		g.abort()
		return
	}
	g.ttft = time.Since(g.start)
	text := strings.Join(g.out.pieces, "")
	g.sent = len(g.out.pieces)
	var stop any
	if g.out.stop != "" {
		stop = g.out.stop
	}
	usage := map[string]any{"prompt_tokens": g.j.promptTokens, "total_tokens": g.j.promptTokens + g.sent,
		"completion_tokens": g.sent, "prompt_tokens_details": nil}
	var choice map[string]any
	object := "text_completion"
	if g.j.chat {
		object = "chat.completion"
		choice = map[string]any{"index": 0, "message": map[string]any{"role": "assistant",
			"reasoning_content": nil, "content": text, "tool_calls": []any{}},
			"logprobs": nil, "finish_reason": g.out.finish, "stop_reason": stop}
	} else {
		choice = map[string]any{"index": 0, "text": text, "logprobs": nil,
			"finish_reason": g.out.finish, "stop_reason": stop, "prompt_logprobs": nil}
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": g.cw.id, "object": object,
		"created": g.cw.created, "model": g.j.model, "choices": []any{choice},
		"usage": usage, "prompt_logprobs": nil})
	g.complete()
}
