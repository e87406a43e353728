package web

import (
	"net/http"

	"github.com/hapa-project/hapa/realtime"
)

// needsDB answers 503 E5003 at once while the database is known to be down (Deps.
// DBAvailable: its breaker is open), instead of letting h wait on it
// (docs/operations.md, "Failure modes").
func (s *Server) needsDB(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.deps.DBAvailable != nil && !s.deps.DBAvailable() {
			s.writeError(w, r, realtime.NewError(realtime.CodeDatabaseError, "The database is unavailable; try again shortly"))
			return
		}
		h(w, r)
	}
}
