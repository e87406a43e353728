package web

import "net/http"

// handleLive serves GET /livez: 200 whenever the process answers HTTP at all. It
// checks no dependency on purpose: a liveness probe that failed on a database outage
// would restart every replica at once and fix nothing; /readyz takes such a replica out
// of the load balancer instead (docs/api.md, Health).
func (s *Server) handleLive(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, liveBody{Status: "alive"})
}
