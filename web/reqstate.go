package web

import (
	"context"

	"github.com/hapa-project/hapa/realtime"
)

// requestState is the per-request record that middleware and handlers share: the
// outermost middleware creates it, the router fills in the matched pattern, auth fills
// in the caller, and the access log reads it after the handler returns. It is a pointer
// in the context so that values set deep inside reach the outer layers, which hold an
// older *http.Request.
type requestState struct {
	requestID string
	pattern   string
	caller    *realtime.Caller
	admission admission // limitInEngine routes: the rate limit the engine runs (zero: none)
	logged    bool      // the engine started a stream: the request has a request-log row
}

type stateKey struct{}

// withState returns ctx carrying st.
func withState(ctx context.Context, st *requestState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

// stateFrom returns the request's state; a fresh empty one when the request did not go
// through the middleware chain (handlers called directly in tests).
func stateFrom(ctx context.Context) *requestState {
	if st, ok := ctx.Value(stateKey{}).(*requestState); ok {
		return st
	}
	return &requestState{}
}

// requestIDFrom returns the request id set by the request-id middleware, or "".
func requestIDFrom(ctx context.Context) string { return stateFrom(ctx).requestID }
