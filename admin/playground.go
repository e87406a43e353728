package admin

import (
	"context"
	"encoding/json"
	"html"
	"net/http"

	"github.com/hapa-project/hapa/static"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm"
)

// playgroundKeyName names the short-lived keys the playground mints.
const playgroundKeyName = "admin-playground"

// maxPlaygroundSessions bounds the session → playground key map.
const maxPlaygroundSessions = 10_000

// playgroundPage mints a short-lived key for the signed-in admin (scopes
// code_generation and code_completion, PlaygroundKeyTTL) and renders the form. The
// previous playground key of the same session is revoked, and logout revokes the last
// one, so at most one per session is live; a key left behind by a restart expires on
// its own.
func (h *Handler) playgroundPage(w http.ResponseWriter, r *http.Request) {
	s := sessionFrom(r.Context())
	exp := h.now().Add(h.cfg.PlaygroundKeyTTL)
	plain, k, err := h.db.APIKeys().Create(r.Context(), store.NewKey{
		UserID: &s.User.ID, Name: playgroundKeyName, ExpiresAt: &exp,
		Scopes: store.Scopes{store.ScopeCodeGeneration, store.ScopeCodeCompletion},
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.mu.Lock()
	prev, had := h.playground[s.ID]
	if len(h.playground) >= maxPlaygroundSessions {
		// Sessions that expired without a later request never reach endSession; their
		// keys expire on their own, so forgetting them all bounds the map safely.
		clear(h.playground)
	}
	h.playground[s.ID] = k.ID
	h.mu.Unlock()
	if had {
		h.revokeQuietly(r.Context(), prev)
	}
	v := PlaygroundView{Key: plain, URL: h.realtimeURL(r), Tasks: vllm.DefaultAdapters().Tasks(), Expires: exp}
	h.render(w, r, http.StatusOK, PlaygroundPage(h.chrome(r, "playground", "Playground"), v))
}

// realtimeURL is the WebSocket endpoint for the page's origin.
func (h *Handler) realtimeURL(r *http.Request) string {
	if h.cfg.RealtimeURL != "" {
		return h.cfg.RealtimeURL
	}
	scheme := "ws://"
	if r.TLS != nil || (h.cfg.TrustForwardedProto && r.Header.Get("X-Forwarded-Proto") == "https") {
		scheme = "wss://"
	}
	return scheme + r.Host + "/api/v1/realtime"
}

// revokeQuietly revokes a key the console minted itself; failures are only logged
// because the key expires anyway.
func (h *Handler) revokeQuietly(ctx context.Context, id int64) {
	if err := h.db.APIKeys().Revoke(context.WithoutCancel(ctx), id); err != nil && !isNotFound(err) {
		h.log.Warn("admin: revoke playground key", "key_id", id, "err", err)
		return
	}
	h.revoked(id)
}

// importMap is the page's import map: it names the hashed URL of the browser client,
// so playground.js imports "hapa-realtime" and both files stay immutable-cached.
// json.Marshal escapes <, > and &, so the JSON cannot end the script element.
func importMap(nonce string) string {
	m, _ := json.Marshal(map[string]map[string]string{"imports": {"hapa-realtime": static.Path("js/hapa-realtime.js")}})
	return `<script type="importmap" nonce="` + html.EscapeString(nonce) + `">` + string(m) + `</script>`
}
