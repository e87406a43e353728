package web

import (
	"context"
	"strings"

	"github.com/hapa-project/hapa/realtime"
)

// ClientErrorTally counts a client error (E4xxx) answered to a request that leaves
// no request-log row; *realtime.ClientErrorTally implements it. The error dashboard
// adds these counts to the request log's (docs/operations.md, "Operations API").
type ClientErrorTally interface {
	Count(code realtime.Code)
}

// startStream is Engine.Start for the HTTP handlers: a request whose stream started
// gets a request-log row from the engine, so the metrics middleware leaves its error
// answer out of the client-error counts (it would be counted twice).
func (s *Server) startStream(ctx context.Context, req realtime.Request) (*realtime.Stream, error) {
	st, err := s.deps.Engine.Start(ctx, req)
	if err == nil {
		stateFrom(ctx).logged = true
	}
	return st, err
}

// countClientError passes the code of an error answer to the client-error counter
// when it is a client error of a request without a request-log row.
func (s *Server) countClientError(ctx context.Context, code realtime.Code) {
	if c := s.deps.Ops.ClientErrors; c != nil && strings.HasPrefix(string(code), "E4") && !stateFrom(ctx).logged {
		c.Count(code)
	}
}
