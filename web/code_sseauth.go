package web

import (
	"context"
	"net/http"

	"github.com/hapa-project/hapa/realtime"
)

// sseAuthed is authed for the SSE routes: the same checks (authenticate, then
// scopes), but failures use writeSSEError, because the extension reads any status
// below 500 on these routes as a stream and shows only "type":"error" events.
func (s *Server) sseAuthed(h http.HandlerFunc, scopes ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, email, err := s.authenticate(r)
		if err != nil {
			s.writeSSEError(w, r, err)
			return
		}
		st := stateFrom(r.Context())
		st.caller, st.email = &c, email
		if missing := missingScope(c.Scopes, scopes); missing != "" {
			s.writeSSEError(w, r, realtime.NewError(realtime.CodeForbidden, "Permission denied: the '"+missing+"' scope is required"))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	})
}
