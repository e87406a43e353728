package web

import (
	"math"
	"net/http"
	"time"

	"github.com/hapa-project/hapa/realtime"
)

type adapterPerf struct {
	Requests int     `json:"requests"`
	P50      float64 `json:"p50"`
	P99      float64 `json:"p99"`
	TTFTP50  float64 `json:"ttft_p50"`
	TTFTP99  float64 `json:"ttft_p99"`
	Tokens   int64   `json:"tokens"`
	Errors   int     `json:"errors"`    // failed requests; cancels are not errors
	Cancel   int     `json:"cancelled"` // HAPA addition: requests the client left (status 499)
}

type percentiles struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
}

// modelUsage is the model tokens vLLM produced (upstream: cache hits and coalesced
// joiners add none), and the tokens delivered to callers (served), which they add to.
type modelUsage struct {
	TotalTokens         int64   `json:"total_tokens"`
	PromptTokens        int64   `json:"prompt_tokens"`
	CompletionTokens    int64   `json:"completion_tokens"`
	AvgTokensPerRequest float64 `json:"avg_tokens_per_request"`
	ServedTokens        int64   `json:"served_tokens"`
}

// handlePerformance serves GET /api/v1/analytics/performance?period=1h|24h|7d|30d
// (default 24h). Every number comes from the request log of the period (one row per
// engine request: REST and WebSocket generations and completions): times in
// milliseconds, percentiles nearest-rank, tokens as vLLM reported them, all computed in
// SQL (store.RequestLog.Stats). A request the client left (status 499) is a cancel:
// counted in cancelled and cancel_rate, never in errors or error_rate.
func (s *Server) handlePerformance(w http.ResponseWriter, r *http.Request) {
	name, span, _, err := period(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.now().UTC()
	sum, err := s.deps.DB.RequestLog().Summary(r.Context(), now.Add(-span), "")
	if err != nil {
		s.writeError(w, r, realtime.Wrap(realtime.CodeDatabaseError, err))
		return
	}
	t := sum.Total
	tokens := t.UpstreamIn + t.UpstreamOut
	out := performanceReport{Period: name, Since: now.Add(-span).Format(time.RFC3339), Until: now.Format(time.RFC3339),
		Requests: t.Requests, AvgResponseTime: round2(t.AvgLatencyMs),
		RequestsPerMinute: round2(float64(t.Requests) / span.Minutes()),
		CacheHitRate:      ratio(t.CacheHits, t.Requests),
		CoalescedRate:     ratio(t.Coalesced, t.Requests),
		ErrorRate:         ratio(t.Errors, t.Requests),
		AIModelUsage: modelUsage{TotalTokens: tokens, PromptTokens: t.UpstreamIn, CompletionTokens: t.UpstreamOut,
			ServedTokens:        t.TokensIn + t.TokensOut,
			AvgTokensPerRequest: round2(float64(tokens) / float64(max(t.Requests, 1)))},
		LatencyMs:  percentiles{round2(t.P50LatencyMs), round2(t.P99LatencyMs)},
		TTFTMs:     percentiles{round2(t.P50TTFTMs), round2(t.P99TTFTMs)},
		PerAdapter: map[string]adapterPerf{},
		Errors:     t.Errors, Cancelled: t.Cancelled, CancelRate: ratio(t.Cancelled, t.Requests),
	}
	for _, a := range sum.ByAdapter {
		name := a.Adapter
		if name == "" {
			name = "unknown"
		}
		out.PerAdapter[name] = adapterPerf{Requests: a.Requests, P50: round2(a.P50LatencyMs), P99: round2(a.P99LatencyMs),
			TTFTP50: round2(a.P50TTFTMs), TTFTP99: round2(a.P99TTFTMs), Tokens: a.UpstreamIn + a.UpstreamOut, Errors: a.Errors,
			Cancel: a.Cancelled}
	}
	writeJSON(w, http.StatusOK, out)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// ratio is n/d to four decimals; 0 when d is 0.
func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return math.Round(float64(n)/float64(d)*1e4) / 1e4
}

// performanceReport is the body of GET /api/v1/analytics/performance.
type performanceReport struct {
	Period            string                 `json:"period"`
	Since             string                 `json:"since"`
	Until             string                 `json:"until"`
	Requests          int                    `json:"requests"`
	AvgResponseTime   float64                `json:"avg_response_time"`
	RequestsPerMinute float64                `json:"requests_per_minute"`
	CacheHitRate      float64                `json:"cache_hit_rate"`
	CoalescedRate     float64                `json:"coalesced_rate"`
	ErrorRate         float64                `json:"error_rate"`
	AIModelUsage      modelUsage             `json:"ai_model_usage"`
	LatencyMs         percentiles            `json:"latency_ms"`
	TTFTMs            percentiles            `json:"ttft_ms"`
	PerAdapter        map[string]adapterPerf `json:"per_adapter"`
	// HAPA additions
	Errors     int     `json:"errors"`
	Cancelled  int     `json:"cancelled"`
	CancelRate float64 `json:"cancel_rate"`
}
