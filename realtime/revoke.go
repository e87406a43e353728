package realtime

// The engine keeps every open subscription by API key (0: callers without one), so
// that a revoked key's streams end at once on every transport — SSE, /v1 and the
// socket alike — with a terminal E4007 error and their upstream requests cancelled
// (docs/operations.md, "Running several replicas"), and so that the streams still
// open at the shutdown deadline end with an error event instead of a cut connection.
// cmd/hapa calls RevokeKey on the key_revoked event and AbortAll at the deadline.

// track registers s under its API key.
func (e *Engine) track(s *Stream) {
	id := s.meta.req.Caller.KeyID
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
	if keyID == 0 {
		return 0
	}
	if err == nil {
		err = NewError(CodeKeyRevoked, "")
	}
	return e.abort(err, func(id int64) bool { return id == keyID })
}

// AbortAll ends every open subscription with err as its terminal event (the shutdown
// deadline: E5005, retryable) and returns how many it ended.
func (e *Engine) AbortAll(err *Error) int {
	return e.abort(err, func(int64) bool { return true })
}

func (e *Engine) abort(err *Error, match func(keyID int64) bool) int {
	e.liveMu.Lock()
	var streams []*Stream
	for id, m := range e.live {
		if match(id) {
			for s := range m {
				streams = append(streams, s)
			}
		}
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
		if id != 0 {
			out = append(out, id)
		}
	}
	return out
}
