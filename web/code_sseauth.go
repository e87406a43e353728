package web

import "net/http"

// sseAuthed is authed for the SSE routes: the same checks (authenticate, then
// scopes), but failures use writeSSEError, because the extension reads any status
// below 500 on these routes as a stream and shows only "type":"error" events.
func (s *Server) sseAuthed(h http.HandlerFunc, scopes ...string) http.Handler {
	return s.authedWith(s.writeSSEError, h, scopes...)
}
