package ws

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/hapa-project/hapa/realtime"
)

// ServeHTTP is the handler of GET /api/v1/realtime. Before the upgrade it checks, in
// order: shutdown (503 E5005), Origin (403 E4013), the hapa.v1 subprotocol (400 E4001)
// and authentication (401 E4003/E4006/E4007), each answered with the JSON error body.
// After the upgrade a key over MaxConnsPerKey is closed with 4029 (E4015 in the reason).
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.isClosing() {
		writeHTTPError(w, r, http.StatusServiceUnavailable, realtime.NewError(realtime.CodeModelUnavailable, "server is shutting down; reconnect"))
		return
	}
	if !originAllowed(r, h.cfg.AllowedOrigins) {
		writeHTTPError(w, r, http.StatusForbidden, realtime.NewError(realtime.CodeOriginNotAllowed, ""))
		return
	}
	if !offersProtocol(r) {
		writeHTTPError(w, r, http.StatusBadRequest, realtime.NewError(realtime.CodeInvalidInput, "offer the WebSocket subprotocol "+Protocol))
		return
	}
	caller, e := h.deps.Auth.AuthenticateSocket(r)
	if e != nil {
		writeHTTPError(w, r, e.Status(), e)
		return
	}
	wc := &wsConn{timeout: h.cfg.WriteTimeout}
	hj := &smallHijacker{ResponseWriter: w, conn: wc}
	conn, err := websocket.Accept(hj, r, &websocket.AcceptOptions{
		Subprotocols:       []string{Protocol}, // hapa.auth.<key> is never selected
		InsecureSkipVerify: true,               // Origin was checked above, with scheme
		CompressionMode:    websocket.CompressionDisabled,
		OnPongReceived:     func(context.Context, []byte) { wc.pong.Store(true) },
	})
	if err != nil {
		return // Accept has written the response
	}
	conn.SetReadLimit(h.cfg.MaxMessageBytes)
	s := newSession(h, conn, wc, caller)
	s.lang = realtime.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if code, reason := h.register(r.Context(), s); code != 0 {
		_ = conn.Close(code, reason)
		return
	}
	// The handler returns and net/http's connection goroutine with its deep stack ends;
	// the session goes on in goroutines of its own (none while the socket is idle).
	s.start()
}

func (h *Hub) isClosing() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closing
}

// offersProtocol reports whether the client offered hapa.v1.
func offersProtocol(r *http.Request) bool {
	for _, p := range subprotocols(r) {
		if p == Protocol {
			return true
		}
	}
	return false
}

func subprotocols(r *http.Request) []string {
	var out []string
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// originAllowed implements the Origin rule of docs/protocol.md: no Origin (editors) is
// allowed; otherwise the origin "scheme://host[:port]" must match one of the patterns
// (ALLOWED_ORIGINS and PUBLIC_URL; path.Match, case-insensitive; "*" allows any; a
// pattern without "://" matches the host alone). An Origin merely equal to the Host
// header proves nothing — a page whose name was rebound to this server's address sends
// both — so the same-host shortcut holds only for loopback names (localhost,
// 127.0.0.1, [::1]: development).
func originAllowed(r *http.Request, patterns []string) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) && loopbackName(u.Hostname()) {
		return true
	}
	full := strings.ToLower(u.Scheme + "://" + u.Host)
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimRight(strings.TrimSpace(p), "/"))
		target := full
		if !strings.Contains(p, "://") {
			target = strings.ToLower(u.Host)
		}
		if ok, _ := path.Match(p, target); ok || p == "*" {
			return true
		}
	}
	return false
}

// loopbackName reports whether host is localhost or a loopback address.
func loopbackName(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// writeHTTPError writes the JSON error body of docs/api.md (refusals before the upgrade).
func writeHTTPError(w http.ResponseWriter, r *http.Request, status int, e *realtime.Error) {
	msg, hint := realtime.Localize(e, realtime.ParseAcceptLanguage(r.Header.Get("Accept-Language")))
	body := map[string]any{
		"detail": msg, "message": msg, "error_message": msg, "recovery_hint": hint,
		"error_code": e.Code, "status": "error", "timestamp": time.Now().UTC().Format(time.RFC3339),
		"path": r.URL.Path,
	}
	if id := w.Header().Get("X-Request-ID"); id != "" {
		body["request_id"] = id
	} else if id := r.Header.Get("X-Request-ID"); id != "" {
		body["request_id"] = id
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconvSeconds(e.RetryAfter))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func strconvSeconds(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}
