package admin

import (
	"context"
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
	"revoked":  {Kind: "ok", Message: "The key was revoked. Its open sockets are being closed."},
	"cleared":  {Kind: "ok", Message: "The cache was cleared."},
	"disabled": {Kind: "ok", Message: "The account is disabled: its keys are revoked and its logins refused on every replica."},
	"enabled":  {Kind: "ok", Message: "The account is enabled. Its old keys stay revoked: create new ones."},
	"role":     {Kind: "ok", Message: "The role was changed."},
	"deleted":  {Kind: "ok", Message: "The account was deleted with its keys, settings and history."},
	"upstream": {Kind: "ok", Message: "The replica's state was changed here and reaches the other gateway replicas within 5 s."},
	"incident": {Kind: "ok", Message: "The incident was updated."},
	"saved":    {Kind: "ok", Message: "The changes were saved. Every replica applies them within API_KEY_CACHE_TTL."},
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
	h.freshLastUsed(r.Context(), v.Rows)
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

// freshLastUsed moves each row's "last used" to its newest request-log row when that
// is later: last_used_at is flushed every 30 s, the request log within a second. A
// failure leaves the rows as they are.
func (h *Handler) freshLastUsed(ctx context.Context, rows []KeyRow) {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	last, err := h.db.RequestLog().LastRequests(ctx, ids)
	if err != nil {
		h.log.Warn("admin: last requests of keys", "err", err)
		return
	}
	for i := range rows {
		if t, ok := last[rows[i].ID]; ok && (rows[i].LastUsed == nil || t.After(*rows[i].LastUsed)) {
			rows[i].LastUsed = &t
		}
	}
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
	k, ok := h.keyFor(w, r)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		http.Redirect(w, r, "/admin/keys/"+itoa(k.ID)+"/revoke", http.StatusSeeOther)
		return
	}
	if err := h.db.APIKeys().Revoke(r.Context(), k.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("admin: key revoked", "key_id", k.ID, "by", sessionFrom(r.Context()).User.Email)
	if k.RevokedAt == nil {
		h.audit(r, actKeyRevoke, keyTarget(k.ID), "prefix "+k.Prefix+", owner "+k.OwnerEmail)
	}
	h.revoked(k.ID)
	http.Redirect(w, r, "/admin/keys?done=revoked", http.StatusSeeOther)
}

func (h *Handler) keyRotate(w http.ResponseWriter, r *http.Request) {
	k, ok := h.keyFor(w, r)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		http.Redirect(w, r, "/admin/keys/"+itoa(k.ID)+"/rotate", http.StatusSeeOther)
		return
	}
	plain, nk, err := h.db.APIKeys().Rotate(r.Context(), k.ID)
	if isConflict(err) {
		h.render(w, r, http.StatusConflict, ErrorPage(h.chrome(r, "keys", "Cannot rotate"),
			ErrorView{Status: http.StatusConflict, Message: "A revoked key cannot be rotated. Create a new key instead."}))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("admin: key rotated", "old_key_id", k.ID, "key_id", nk.ID, "by", sessionFrom(r.Context()).User.Email)
	h.audit(r, actKeyRotate, keyTarget(k.ID), "replaced by key "+itoa(nk.ID)+" (prefix "+nk.Prefix+")")
	h.revoked(k.ID)
	h.setKeyFlash(w, r, keyFlash{KeyID: nk.ID, Plaintext: plain, Rotated: true})
	http.Redirect(w, r, "/admin/keys/"+itoa(nk.ID), http.StatusSeeOther)
}

// keyConfirm asks before a revoke or a rotation (both end the key at once).
func (h *Handler) keyConfirm(verb string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		k, ok := h.keyFor(w, r)
		if !ok {
			return
		}
		if k.RevokedAt != nil {
			http.Redirect(w, r, "/admin/keys/"+itoa(k.ID), http.StatusSeeOther)
			return
		}
		title := "Revoke this key?"
		if verb == "rotate" {
			title = "Rotate this key?"
		}
		h.render(w, r, http.StatusOK, KeyConfirmPage(h.chrome(r, "keys", title), KeyConfirmView{Key: keyRow(k, h.now()), Verb: verb}))
	}
}

// keyFor loads the key of a key route's {id}; a malformed or unknown id gets the 404
// page.
func (h *Handler) keyFor(w http.ResponseWriter, r *http.Request) (store.APIKey, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, r, "There is no such API key.")
		return store.APIKey{}, false
	}
	k, err := h.db.APIKeys().ByID(r.Context(), id)
	if err != nil {
		if isNotFound(err) {
			h.notFound(w, r, "There is no such API key.")
		} else {
			h.fail(w, r, err)
		}
		return store.APIKey{}, false
	}
	return k, true
}

// revoked tells the rest of the system that key id no longer works.
func (h *Handler) revoked(id int64) {
	if h.deps.OnRevoke != nil {
		h.deps.OnRevoke(id)
	}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

func isConflict(err error) bool { return errors.Is(err, store.ErrConflict) }
