package admin

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hapa-project/hapa/store"
)

// keyPage shows one key: its settings and edit form, its usage, the admin actions on
// it, and — once, right after it was created or rotated — its plaintext.
func (h *Handler) keyPage(w http.ResponseWriter, r *http.Request) {
	k, ok := h.keyFor(w, r)
	if !ok {
		return
	}
	v := KeyView{Key: keyRow(k, h.now()), Edit: keyEditView(k)}
	if f, ok := h.takeKeyFlash(w, r, k.ID); ok {
		v.Plaintext, v.Rotated = f.Plaintext, f.Rotated
	}
	h.keyView(w, r, k, v, http.StatusOK)
}

// keyView fills the rest of the key page and renders it.
func (h *Handler) keyView(w http.ResponseWriter, r *http.Request, k store.APIKey, v KeyView, status int) {
	ctx := r.Context()
	now := h.now()
	v.Scopes = keyScopes
	rows := []KeyRow{v.Key}
	h.freshLastUsed(ctx, rows)
	v.Key = rows[0]
	if h.deps.Usage != nil {
		v.UsageConnected = true
		for _, p := range []struct {
			label string
			span  time.Duration
		}{{"Last 24 hours", 24 * time.Hour}, {"Last 7 days", 7 * 24 * time.Hour}} {
			s, err := h.deps.Usage.Summary(ctx, UsageFilter{Since: now.Add(-p.span), Until: now, KeyID: k.ID})
			if err != nil {
				h.log.Warn("admin: key usage", "err", err)
				v.UsageError = true
				break
			}
			v.Usage = append(v.Usage, UsageRow{Label: p.label, UsageSummary: s})
		}
	}
	entries, err := h.db.AuditLog().List(ctx, store.AuditFilter{Target: keyTarget(k.ID), Limit: 20})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, e := range entries {
		v.Audit = append(v.Audit, auditRow(e))
	}
	c := h.chrome(r, "keys", "API key "+k.Prefix+"…")
	c.Flash = flashFor(r)
	h.render(w, r, status, KeyPage(c, v))
}

func keyEditView(k store.APIKey) KeyEditView {
	e := KeyEditView{Name: k.Name, Scopes: k.Scopes, TPM: itoa(k.TokensPerMinute), TPD: itoa(k.TokensPerDay)}
	if k.ExpiresAt != nil {
		e.Expires = k.ExpiresAt.UTC().Format(time.DateOnly)
	}
	return e
}

// keyEdit saves the edit form: name, scopes, expiry date and quotas. The change
// reaches every replica when its cached lookup of the key expires
// (API_KEY_CACHE_TTL, 10 s by default); an expiry moved into the past ends the key's
// open streams like an expiry does.
func (h *Handler) keyEdit(w http.ResponseWriter, r *http.Request) {
	k, ok := h.keyFor(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.badRequest(w, r, "The form could not be read.")
		return
	}
	f := r.PostForm
	ev := KeyEditView{Name: strings.TrimSpace(f.Get("name")), Expires: strings.TrimSpace(f.Get("expires")),
		TPM: strings.TrimSpace(f.Get("tokens_per_minute")), TPD: strings.TrimSpace(f.Get("tokens_per_day"))}
	for _, s := range f["scope"] {
		if slices.Contains(keyScopes, s) && !slices.Contains(ev.Scopes, s) {
			ev.Scopes = append(ev.Scopes, s)
		}
	}
	var problems []string
	if k.RevokedAt != nil {
		problems = append(problems, "A revoked key cannot be edited.")
	}
	if len(ev.Scopes) == 0 {
		problems = append(problems, "Choose at least one scope.")
	}
	if len(ev.Name) > 100 {
		problems = append(problems, "The name is longer than 100 characters.")
	}
	var expires *time.Time
	if ev.Expires != "" {
		d, err := time.Parse(time.DateOnly, ev.Expires)
		switch {
		case err != nil:
			problems = append(problems, "The expiry must be a date (YYYY-MM-DD), or empty for never.")
		case k.ExpiresAt != nil && k.ExpiresAt.UTC().Format(time.DateOnly) == ev.Expires:
			expires = k.ExpiresAt // unchanged: keep the exact time
		default:
			expires = &d
		}
	}
	tpm, ok1 := optInt(ev.TPM, 0, 1<<31-1)
	tpd, ok2 := optInt(ev.TPD, 0, 1<<31-1)
	if !ok1 || !ok2 {
		problems = append(problems, "Token quotas must be whole numbers (0 or empty = unlimited).")
	}
	if len(problems) > 0 {
		ev.Errors = problems
		status := http.StatusUnprocessableEntity
		if k.RevokedAt != nil {
			status = http.StatusConflict
		}
		h.keyView(w, r, k, KeyView{Key: keyRow(k, h.now()), Edit: ev}, status)
		return
	}
	nk, err := h.db.APIKeys().Update(r.Context(), k.ID, store.KeyEdit{Name: ev.Name, Scopes: store.Scopes(ev.Scopes),
		ExpiresAt: expires, TokensPerMinute: tpm, TokensPerDay: tpd})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("admin: key edited", "key_id", k.ID, "by", sessionFrom(r.Context()).User.Email)
	h.audit(r, actKeyEdit, keyTarget(k.ID), keyChanges(k, nk))
	http.Redirect(w, r, "/admin/keys/"+itoa(k.ID)+"?done=saved", http.StatusSeeOther)
}

// keyChanges lists what an edit changed, for the audit log.
func keyChanges(old, nk store.APIKey) string {
	var out []string
	add := func(what, a, b string) {
		if a != b {
			out = append(out, what+" "+a+" → "+b)
		}
	}
	date := func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.UTC().Format(time.DateOnly)
	}
	add("name", `"`+old.Name+`"`, `"`+nk.Name+`"`)
	add("scopes", strings.Join(old.Scopes, ","), strings.Join(nk.Scopes, ","))
	add("expires", date(old.ExpiresAt), date(nk.ExpiresAt))
	add("tokens/min", itoa(old.TokensPerMinute), itoa(nk.TokensPerMinute))
	add("tokens/day", itoa(old.TokensPerDay), itoa(nk.TokensPerDay))
	if len(out) == 0 {
		return "no change"
	}
	return strings.Join(out, "; ")
}
