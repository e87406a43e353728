package web

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/limits"
)

// limited counts each request of h in group against the caller's API key (or JWT
// user, or client IP when unauthenticated) and refuses it with 429 E4004 (rate limit,
// Retry-After) or E4016 (token quota) before h runs. Responses carry
// X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (unix seconds) when
// limits are on. Put it inside requireAuth so the caller is known.
func (s *Server) limited(group string, h http.Handler) http.Handler {
	return s.rateLimit(group, false, h.ServeHTTP)
}

// limit is limited for a handler func, for composing inside authed/sseAuthed:
// s.authed(s.limit(limits.GroupGeneration, s.handleCodeGenerate), gen).
func (s *Server) limit(group string, h http.HandlerFunc) http.HandlerFunc {
	return s.rateLimit(group, false, h)
}

// limitInEngine is limit for the one-shot routes whose handler calls s.generate: the
// check becomes the engine request's Admit (see admission), which the engine runs after
// validating the request and, with a Redis cache, while it reads the cache — so with
// Redis behind both a cache hit waits for one round trip, not two. The outcome is
// limit's: the same 429 and headers, nothing started upstream for a refused request. A
// request refused before it reaches the engine (a bad body: 400/422) is not counted.
func (s *Server) limitInEngine(group string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, ok := r.Context().Value(stateKey{}).(*requestState)
		if s.deps.Ops.Limiter == nil || !ok { // no state to carry it: check here
			s.rateLimit(group, false, h)(w, r)
			return
		}
		st.admission = admission{s: s, w: w, r: r, group: group} // in the state: no allocation
		h(w, r)
	}
}

// admission is one request's rate-limit check handed to the engine; s is nil when
// the route has none.
type admission struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	group string
	ran   bool
	d     limits.Decision
}

// admit is the realtime.Request.Admit of the request. It may run on another goroutine
// while the handler's waits in Engine.Start; it touches neither the response nor the
// request state.
func (a *admission) admit(ctx context.Context) error {
	if !a.ran { // once per request
		c, _ := callerFrom(a.r.Context())
		a.d = a.s.deps.Ops.Limiter.Check(ctx, c, a.s.clientIP(a.r), a.group)
		a.ran = true
	}
	if a.d.Err != nil {
		return a.d.Err
	}
	return nil
}

// headers sets the X-RateLimit-* headers once admit has run (after Engine.Start).
func (a *admission) headers() {
	if a.ran && a.d.Enabled {
		setLimitHeaders(a.w, a.d)
	}
}

// limitSSE is limit for the SSE routes: a refusal is written by writeSSEError.
func (s *Server) limitSSE(group string, h http.HandlerFunc) http.HandlerFunc {
	return s.rateLimit(group, true, h)
}

func (s *Server) rateLimit(group string, sse bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l := s.deps.Ops.Limiter
		if l == nil {
			h(w, r)
			return
		}
		c, _ := callerFrom(r.Context())
		d := s.checkLimit(w, r, c, group)
		switch {
		case d.Err != nil && sse:
			s.writeSSEError(w, r, d.Err)
		case d.Err != nil:
			s.writeError(w, r, d.Err)
		default:
			h(w, r)
		}
	}
}

// checkLimit counts the request in group and sets the X-RateLimit-* headers.
func (s *Server) checkLimit(w http.ResponseWriter, r *http.Request, c realtime.Caller, group string) limits.Decision {
	d := s.deps.Ops.Limiter.Check(r.Context(), c, s.clientIP(r), group)
	if d.Enabled {
		setLimitHeaders(w, d)
	}
	return d
}

func setLimitHeaders(w http.ResponseWriter, d limits.Decision) {
	hd := w.Header()
	hd.Set("X-RateLimit-Limit", strconv.FormatInt(d.Limit, 10))
	hd.Set("X-RateLimit-Remaining", strconv.FormatInt(d.Remaining, 10))
	hd.Set("X-RateLimit-Reset", strconv.FormatInt(d.Reset.Unix(), 10))
}

// clientIP is the peer address, or — when the peer is a trusted proxy — the right-most
// X-Forwarded-For entry that is not itself a trusted proxy. Without TrustedProxies the
// header is ignored: anyone can send it.
func (s *Server) clientIP(r *http.Request) string {
	peer := peerAddr(r.RemoteAddr)
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	if !s.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: stop believing the header here
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a.String()
		}
	}
	return peer.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.deps.Ops.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr parses RemoteAddr ("ip:port" or a bare ip).
func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// ParseTrustedProxies parses TRUSTED_PROXIES: comma-separated CIDR prefixes or
// addresses ("10.0.0.0/8,192.168.1.7").
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
