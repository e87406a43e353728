package web

import (
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/hapa-project/hapa/realtime"
)

// cacheTypes maps cache_type to the namespaces it clears.
var cacheTypes = map[string][]string{
	"code_generation": {realtime.NamespaceResponses},
	"user_profiles":   {realtime.NamespaceProfiles},
	"all":             {realtime.NamespaceResponses, realtime.NamespaceProfiles},
}

// handleCacheClear serves DELETE /api/v1/cache/clear with {"cache_type":
// "code_generation"|"user_profiles"|"all", "confirm": true} (?confirm=true also
// confirms, as the original's cache router did). It clears the namespaces and, with
// Events, tells the other replicas to clear theirs.
func (s *Server) handleCacheClear(w http.ResponseWriter, r *http.Request) {
	var body cacheClearRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &body); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if r.URL.Query().Get("confirm") == "true" && body.Confirm == nil {
		t := true
		body.Confirm = &t
	}
	if body.CacheType == nil || *body.CacheType == "" {
		e := realtime.NewError(realtime.CodeMissingField, "cache_type is required: code_generation, user_profiles or all")
		e.Fields = []realtime.FieldError{{Field: "cache_type", Message: "required", Code: realtime.CodeMissingField}}
		s.writeError(w, r, e)
		return
	}
	nss, ok := cacheTypes[*body.CacheType]
	if !ok {
		e := realtime.NewError(realtime.CodeOutOfRange, "cache_type must be code_generation, user_profiles or all")
		e.Fields = []realtime.FieldError{{Field: "cache_type", Message: "must be code_generation, user_profiles or all", Code: realtime.CodeOutOfRange}}
		s.writeError(w, r, e)
		return
	}
	if body.Confirm == nil || !*body.Confirm {
		e := realtime.NewError(realtime.CodeMissingField, "Refusing to clear the cache without \"confirm\": true")
		e.Fields = []realtime.FieldError{{Field: "confirm", Message: "must be true", Code: realtime.CodeMissingField}}
		s.writeError(w, r, e)
		return
	}
	c := s.deps.Ops.Cache
	if c == nil {
		s.writeError(w, r, realtime.NewError(realtime.CodeCacheError, "No cache is configured"))
		return
	}
	start := s.now()
	cleared := 0
	for _, ns := range nss {
		n, err := c.Clear(r.Context(), ns)
		if err != nil {
			s.writeError(w, r, realtime.Wrap(realtime.CodeCacheError, err))
			return
		}
		cleared += n
	}
	broadcast := false
	if ev := s.deps.Ops.Events; ev != nil {
		ns := nss[0]
		if len(nss) > 1 {
			ns = ""
		}
		err := ev.Publish(r.Context(), realtime.ClusterEvent{Type: realtime.EventCacheCleared, Namespace: ns})
		if err != nil {
			s.log.WarnContext(r.Context(), "cache clear not broadcast", "error", err.Error())
		}
		broadcast = err == nil
	}
	writeJSON(w, http.StatusOK, cacheClearBody{Status: "success", Cleared: cleared, CacheType: *body.CacheType, Broadcast: broadcast,
		Message:        "Cleared " + strconv.Itoa(cleared) + " entries of " + *body.CacheType,
		ResponseTimeMs: float64(s.now().Sub(start).Microseconds()) / 1000})
}

// handleConfigStatus serves GET /api/v1/config/status: the effective configuration
// with secrets redacted (Deps.ConfigStatus, built by cmd/hapa), the rate-limit rules
// in force and the last retention cleanup.
func (s *Server) handleConfigStatus(w http.ResponseWriter, r *http.Request) {
	cfg := map[string]any{}
	if s.deps.ConfigStatus != nil {
		cfg = s.deps.ConfigStatus()
	}
	limits := map[string]string{}
	if l := s.deps.Ops.Limiter; l != nil {
		rules := l.Rules()
		groups := make([]string, 0, len(rules))
		for g := range rules {
			groups = append(groups, g)
		}
		sort.Strings(groups)
		for _, g := range groups {
			limits[g] = rules[g].String()
		}
	}
	var last *string
	if f := s.deps.Ops.LastCleanup; f != nil {
		if t := f(); !t.IsZero() {
			v := t.UTC().Format(time.RFC3339)
			last = &v
		}
	}
	writeJSON(w, http.StatusOK, configStatusBody{Status: "success", Version: s.cfg.Version, Environment: s.cfg.Environment,
		Config: cfg, RateLimits: limits, LastCleanup: last})
}
