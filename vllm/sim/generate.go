package sim

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// maxBody bounds a request body (vLLM has no such limit; the simulator needs one).
const maxBody = 32 << 20

// output is what the model will say for a job.
type output struct {
	pieces []string
	finish string // stop or length
	stop   string // the stop string that ended it, if any
}

func (s *Server) plan(j *job) output {
	r := rand.New(rand.NewPCG(j.outputSeed, 0x9e3779b97f4a7c15))
	text := generate(j.adapter, j.prompt, r)
	o := output{finish: "stop"}
	cut := len(text)
	for _, st := range j.stop {
		if st == "" {
			continue
		}
		if i := strings.Index(text, st); i >= 0 && i < cut {
			cut, o.stop = i, st
		}
	}
	o.pieces = appendPieces(make([]string, 0, 64), text[:cut])
	if len(o.pieces) > j.maxTokens {
		o.pieces, o.finish, o.stop = o.pieces[:j.maxTokens], "length", ""
	}
	return o
}

func (s *Server) serveCompletion(chat bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			writeError(w, http.StatusBadRequest, "BadRequestError", "could not read body", nil)
			return
		}
		j, herr := s.parseJob(body, chat)
		if herr != nil {
			writeError(w, herr.status, errorType(herr.status), herr.msg, herr.param)
			return
		}
		s.requests.Add(1)
		seq := s.seq.Add(1)
		rng := rand.New(rand.NewPCG(uint64(s.cfg.Seed), seq))
		f := s.Faults()
		if f.ErrorRate > 0 && rng.Float64() < f.ErrorRate {
			s.errors.Add(1)
			status := f.ErrorStatus
			if status == 0 {
				status = http.StatusInternalServerError
			}
			writeError(w, status, errorType(status), "simulated engine error (fault injection)", nil)
			return
		}
		if f.OKWithErrorRate > 0 && rng.Float64() < f.OKWithErrorRate {
			s.errors.Add(1)
			writeJSON(w, http.StatusOK, map[string]any{"object": "error",
				"message": "simulated error with HTTP 200 (fault injection)",
				"type":    "InternalServerError", "param": nil, "code": 500})
			return
		}
		g := &gen{s: s, j: j, f: f, rng: rng, out: s.plan(j), start: time.Now()}
		g.cw = chunkWriter{id: requestID(j.chat, rng), created: time.Now().Unix(), model: j.model, chat: j.chat,
			continuous: j.continuous, prompt: j.promptTokens}
		if f.ErrorInStreamRate > 0 && rng.Float64() < f.ErrorInStreamRate {
			g.errorAt = len(g.out.pieces) / 2
		} else {
			g.errorAt = -1
		}
		if j.stream {
			g.stream(r.Context(), w)
		} else {
			g.whole(r.Context(), w)
		}
	}
}

func requestID(chat bool, r *rand.Rand) string {
	prefix := "cmpl-"
	if chat {
		prefix = "chatcmpl-"
	}
	return fmt.Sprintf("%s%016x%016x", prefix, r.Uint64(), r.Uint64())
}

// gen runs one admitted request.
type gen struct {
	s       *Server
	j       *job
	f       Faults
	rng     *rand.Rand
	out     output
	cw      chunkWriter
	errorAt int // token index of an injected in-stream error, -1 for none
	start   time.Time
	ttft    time.Duration
	itls    []time.Duration
	sent    int
	held    bool // holds a sequence slot (admit returned true, release not yet run)
}

// admit waits for a sequence slot like vLLM's scheduler queue. The caller must call
// release when admit returned true.
func (g *gen) admit(ctx context.Context) bool {
	s := g.s
	s.waiting.Add(1)
	select {
	case s.slots <- struct{}{}:
		s.waiting.Add(-1)
		s.running.Add(1)
		g.held = true
		return true
	case <-ctx.Done():
		s.waiting.Add(-1)
		g.abort()
		return false
	}
}

// release gives the sequence slot back; it is idempotent, so abort can release before
// it counts (a test woken by WaitAborted then never sees the aborted request running).
func (g *gen) release() {
	if !g.held {
		return
	}
	g.held = false
	g.s.running.Add(-1)
	<-g.s.slots
}

func (g *gen) abort() {
	g.release()
	g.s.metrics.finish("abort", g.j.promptTokens, g.sent, g.ttft, g.itls)
	g.s.countAbort()
}

func (g *gen) complete() {
	g.s.metrics.finish(g.out.finish, g.j.promptTokens, g.sent, g.ttft, g.itls)
	g.s.completed.Add(1)
}

// wait sleeps d ± jitter (no timer at all when zero) and reports whether ctx is still
// live.
func (g *gen) wait(ctx context.Context, d time.Duration) bool {
	if j := g.s.cfg.Jitter; j > 0 {
		d += time.Duration(g.rng.Int64N(int64(2*j+1))) - j
	}
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// tokenDelay is the gap before token i (i >= 1).
func (g *gen) tokenDelay(i int) time.Duration {
	d := g.s.cfg.ITL
	if g.f.SlowTokenDelay > 0 && i >= g.f.SlowAfterTokens {
		d += g.f.SlowTokenDelay
	}
	return d
}
