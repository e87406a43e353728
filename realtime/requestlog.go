package realtime

import (
	"context"
	"log/slog"
	"time"

	"github.com/hapa-project/hapa/store"
)

// statusCancelled is the request-log status of a subscription the client left before
// its end (nginx's "client closed request").
const statusCancelled = 499

// logWriter is the request log's writer.
type logWriter = batchWriter[store.RequestLogRow]

func newLogWriter(cfg EngineConfig, s LogStore, spool Spool, log *slog.Logger) *logWriter {
	return newBatchWriter[store.RequestLogRow](batchConfig{Queue: cfg.LogQueue, Batch: cfg.LogBatch, RetryRows: cfg.LogRetryRows,
		FlushInterval: cfg.LogFlushInterval, RetryMax: cfg.LogRetryMax}, "request-log rows", s, spool, log)
}

// account writes the request-log row of one finished subscription with its usage
// (usage.go), settles its quota reservation and reports it. It runs when the
// subscription ends, before its terminal event is handed out, so a key's next request
// sees the tokens this one used.
func (e *Engine) account(s *Stream, ev Event) {
	r := s.meta.req
	row := store.RequestLogRow{CreatedAt: s.t0.UTC(), RequestID: r.RequestID, KeyID: nonZero(r.Caller.KeyID),
		UserID: nonZero(r.Caller.UserID), Route: r.Route, Kind: string(r.Kind), Adapter: s.info.Model,
		Cached: s.info.Cached, Coalesced: s.info.Coalesced, Status: 200,
		TokensIn: s.usage.PromptTokens, TokensOut: s.usage.CompletionTokens,
		UpstreamIn: s.upstream.PromptTokens, UpstreamOut: s.upstream.CompletionTokens}
	outcome := ""
	var ttft, latency time.Duration
	switch {
	case ev.Err != nil:
		row.Status, row.ErrorCode, outcome = ev.Err.Status(), string(ev.Err.Code), string(ev.Err.Code)
		latency = time.Since(s.t0)
	case ev.Done != nil:
		d := ev.Done
		ttft, latency, outcome = d.TTFT, d.Latency, d.FinishReason
		if d.FinishReason == "cancelled" {
			row.Status = statusCancelled
		}
	}
	row.TTFTMs = float64(ttft) / float64(time.Millisecond)
	row.LatencyMs = float64(latency) / float64(time.Millisecond)
	if f := s.src; f != nil && !s.info.Cached {
		f.mu.Lock()
		row.Upstream = f.replica
		f.mu.Unlock()
	}
	if s.res != nil {
		ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
		s.res.Settle(ctx, s.upstream.TotalTokens)
		cancel()
		row.QuotaSettled = true // ChargeLog must not charge it again
	}
	e.rows.enqueue(row)
	e.obs.StreamDone(row.Adapter, r.Kind, outcome, ttft, latency, s.usage, s.upstream, source(s.info))
}

// settleTimeout bounds a quota settlement (a Redis round trip) at a stream's end.
const settleTimeout = time.Second

// source says where a subscription's text came from: "cache", "coalesced" (a flight
// another request launched) or "upstream".
func source(i StreamInfo) string {
	switch {
	case i.Cached:
		return "cache"
	case i.Coalesced:
		return "coalesced"
	}
	return "upstream"
}

// nonZero maps an unknown (zero) id to SQL NULL.
func nonZero(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
