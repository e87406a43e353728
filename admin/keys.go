package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hapa-project/hapa/store"
)

// keysPerPage is the page size of the key list.
const keysPerPage = 20

// doneMessages are the flash messages a redirect may ask for with ?done=; only these
// fixed texts are shown, never text from the URL.
var doneMessages = map[string]Flash{
	"revoked": {Kind: "ok", Message: "The key was revoked. Its open sockets are being closed."},
	"cleared": {Kind: "ok", Message: "The cache was cleared."},
}

func flashFor(r *http.Request) *Flash {
	if f, ok := doneMessages[r.URL.Query().Get("done")]; ok {
		return &f
	}
	return nil
}

func (h *Handler) keysPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status := store.KeyStatus(q.Get("status"))
	switch status {
	case store.KeyActive, store.KeyRevoked, store.KeyExpired:
	default:
		status = store.KeyAll
	}
	query := strings.TrimSpace(q.Get("q"))
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	keys, total, err := h.db.APIKeys().List(r.Context(), store.KeyFilter{
		Status: status, Query: query, Limit: keysPerPage, Offset: (page - 1) * keysPerPage,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := KeysView{Status: string(status), Query: query, Total: total, Page: page,
		Pages: max(1, (total+keysPerPage-1)/keysPerPage)}
	now := h.now()
	for _, k := range keys {
		v.Rows = append(v.Rows, keyRow(k, now))
	}
	link := func(p int) string {
		u := url.Values{"page": {strconv.Itoa(p)}}
		if status != store.KeyAll {
			u.Set("status", string(status))
		}
		if query != "" {
			u.Set("q", query)
		}
		return "/admin/keys?" + u.Encode()
	}
	if page > 1 {
		v.PrevURL = link(page - 1)
	}
	if page < v.Pages {
		v.NextURL = link(page + 1)
	}
	c := h.chrome(r, "keys", "API keys")
	c.Flash = flashFor(r)
	h.render(w, r, http.StatusOK, KeysPage(c, v))
}

// keyRow is the view of one key.
func keyRow(k store.APIKey, now time.Time) KeyRow {
	row := KeyRow{
		ID: k.ID, Prefix: k.Prefix, Name: k.Name, Owner: k.OwnerEmail, Scopes: k.Scopes,
		Created: k.CreatedAt, Expires: k.ExpiresAt, LastUsed: k.LastUsedAt,
		Status: string(k.Status(now)), TokensPerMinute: k.TokensPerMinute, TokensPerDay: k.TokensPerDay,
	}
	if k.UserID != nil {
		row.OwnerID = *k.UserID
	}
	switch k.Status(now) {
	case store.KeyActive:
		row.StatusKind = "ok"
	case store.KeyExpired:
		row.StatusKind = "warn"
	default:
		row.StatusKind = "muted"
	}
	return row
}

func (h *Handler) keyRevoke(w http.ResponseWriter, r *http.Request) {
	id, ok := h.keyID(w, r)
	if !ok {
		return
	}
	if err := h.db.APIKeys().Revoke(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("admin: key revoked", "key_id", id, "by", sessionFrom(r.Context()).User.Email)
	h.revoked(id)
	http.Redirect(w, r, "/admin/keys?done=revoked", http.StatusSeeOther)
}

func (h *Handler) keyRotate(w http.ResponseWriter, r *http.Request) {
	id, ok := h.keyID(w, r)
	if !ok {
		return
	}
	plain, k, err := h.db.APIKeys().Rotate(r.Context(), id)
	if isConflict(err) {
		h.render(w, r, http.StatusConflict, ErrorPage(h.chrome(r, "keys", "Cannot rotate"),
			ErrorView{Status: http.StatusConflict, Message: "A revoked key cannot be rotated. Create a new key instead."}))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("admin: key rotated", "old_key_id", id, "key_id", k.ID, "by", sessionFrom(r.Context()).User.Email)
	h.revoked(id)
	h.render(w, r, http.StatusOK, KeyCreatedPage(h.chrome(r, "keys", "Key rotated"),
		KeyCreatedView{Plaintext: plain, Key: keyRow(k, h.now()), Rotated: true}))
}

// keyID parses the {id} of a key route; a malformed or unknown id gets the 404 page.
func (h *Handler) keyID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, r, "There is no such API key.")
		return 0, false
	}
	if _, err := h.db.APIKeys().ByID(r.Context(), id); err != nil {
		if isNotFound(err) {
			h.notFound(w, r, "There is no such API key.")
		} else {
			h.fail(w, r, err)
		}
		return 0, false
	}
	return id, true
}

// revoked tells the rest of the system that key id no longer works.
func (h *Handler) revoked(id int64) {
	if h.deps.OnRevoke != nil {
		h.deps.OnRevoke(id)
	}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

func isConflict(err error) bool { return errors.Is(err, store.ErrConflict) }
