package ws

import "github.com/hapa-project/hapa/realtime"

// tr is e with its message in the session's language (the upgrade request's
// Accept-Language; English by default), for stream.error and error frames
// (docs/api.md, "Languages"). English leaves e as it is.
func (s *session) tr(e *realtime.Error) *realtime.Error {
	if e == nil || s.lang != realtime.LangKO {
		return e
	}
	c := *e
	c.Message, _ = realtime.Localize(e, s.lang)
	return &c
}
