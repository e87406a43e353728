package web

import (
	"context"
	"strconv"
	"time"

	"github.com/hapa-project/hapa/realtime"
)

// Response shapes shared by the code routes.

// tokenUsage is the real token accounting of one generation (vLLM's usage, or the
// cached entry's).
type tokenUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func usageOf(d realtime.Done) tokenUsage { return wireUsageOf(d.Usage) }

// wireUsageOf is u as the code routes write it.
func wireUsageOf(u realtime.Usage) tokenUsage {
	return tokenUsage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
}

// streamMeta is the metadata of the SSE done event.
type streamMeta struct {
	FinishReason string     `json:"finish_reason"`
	Usage        tokenUsage `json:"usage"`
	TTFTMs       int64      `json:"ttft_ms"`
	LatencyMs    int64      `json:"latency_ms"`
	Cached       bool       `json:"cached"`
	Coalesced    bool       `json:"coalesced"`
	Model        string     `json:"model"`
}

func doneMetadata(d *realtime.Done) streamMeta {
	return streamMeta{FinishReason: d.FinishReason, Usage: usageOf(*d),
		TTFTMs: d.TTFT.Milliseconds(), LatencyMs: d.Latency.Milliseconds(),
		Cached: d.Cached, Coalesced: d.Coalesced, Model: d.Model}
}

// legacyMeta is the content of the landing page route's first (metadata) event.
type legacyMeta struct {
	SessionStart string `json:"session_start"`
	RequestID    string `json:"request_id"`
	UserID       string `json:"user_id"`
	Model        string `json:"model"`
	Cached       bool   `json:"cached"`
	Coalesced    bool   `json:"coalesced"`
	Streaming    bool   `json:"streaming"`
}

// callerUserID is the caller's user id as a string ("" when the key has no user).
func callerUserID(ctx context.Context) string {
	if c, ok := callerFrom(ctx); ok && c.UserID != 0 {
		return strconv.FormatInt(c.UserID, 10)
	}
	return ""
}

// seconds is d in seconds, for the processing_time fields.
func seconds(d time.Duration) float64 { return d.Seconds() }

// isoTime is the timestamp format of the code routes' bodies (UTC, RFC 3339).
func (s *Server) isoTime() string { return s.now().UTC().Format(time.RFC3339Nano) }

// collect reads a stream to its end: the whole text (stop markers cut,
// docs/compatibility.md, "VS Code extension") and the Done, or the terminal error.
func collect(ctx context.Context, st eventSource) (string, realtime.Done, error) {
	defer st.Close()
	ev, err := nextAll(ctx, st)
	switch {
	case err != nil:
		return "", realtime.Done{}, realtime.Wrap(realtime.CodeInternal, err)
	case ev.Err != nil:
		return "", realtime.Done{}, ev.Err
	case ev.Done == nil:
		return "", realtime.Done{}, realtime.NewError(realtime.CodeInternal, "stream ended without a terminal event")
	}
	return cutMarkers(ev.Text), *ev.Done, nil
}

// generate runs req to its end on the engine.
func (s *Server) generate(ctx context.Context, req realtime.Request) (string, realtime.Done, error) {
	if s.deps.Engine == nil {
		return "", realtime.Done{}, errNoEngine()
	}
	a := &stateFrom(ctx).admission
	if a.s != nil {
		req.Admit = a.admit
	}
	st, err := s.startStream(ctx, req)
	if a.s != nil {
		a.headers()
	}
	if err != nil {
		return "", realtime.Done{}, err
	}
	return collect(ctx, st)
}
