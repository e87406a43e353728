package realtime

// The engine keeps the open subscriptions of every API key, so that a revoked key's
// streams end at once on every transport — SSE, /v1 and the socket alike — with a
// terminal E4007 error and their upstream requests cancelled (docs/operations.md,
// "Running several replicas"). cmd/hapa calls RevokeKey on the key_revoked event.

// track registers s under its API key.
func (e *Engine) track(s *Stream) {
	id := s.meta.req.Caller.KeyID
	if id == 0 {
		return
	}
	e.liveMu.Lock()
	m := e.live[id]
	if m == nil {
		m = map[*Stream]struct{}{}
		e.live[id] = m
	}
	m[s] = struct{}{}
	e.liveMu.Unlock()
}

// untrack forgets s (its subscription ended).
func (e *Engine) untrack(s *Stream) {
	id := s.meta.req.Caller.KeyID
	if id == 0 {
		return
	}
	e.liveMu.Lock()
	if m := e.live[id]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(e.live, id)
		}
	}
	e.liveMu.Unlock()
}

// RevokeKey ends every open subscription of API key keyID with err (nil: E4007) as its
// terminal event, and returns how many it ended.
func (e *Engine) RevokeKey(keyID int64, err *Error) int {
	if err == nil {
		err = NewError(CodeKeyRevoked, "")
	}
	e.liveMu.Lock()
	streams := make([]*Stream, 0, len(e.live[keyID]))
	for s := range e.live[keyID] {
		streams = append(streams, s)
	}
	e.liveMu.Unlock()
	for _, s := range streams {
		e := *err // each subscriber owns its copy
		s.Abort(&e)
	}
	return len(streams)
}

// LiveKeys returns the API keys that have open subscriptions, for the periodic
// re-check of keys when no Redis carries revocations between replicas.
func (e *Engine) LiveKeys() []int64 {
	e.liveMu.Lock()
	defer e.liveMu.Unlock()
	out := make([]int64, 0, len(e.live))
	for id := range e.live {
		out = append(out, id)
	}
	return out
}
