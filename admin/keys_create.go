package admin

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hapa-project/hapa/store"
)

// keyScopes are the scopes the create form offers, in display order.
var keyScopes = []string{store.ScopeCodeGeneration, store.ScopeCodeCompletion, store.ScopeHistory, store.ScopeAdmin}

// defaultKeyDays is the create form's default lifetime.
const defaultKeyDays = 90

func (h *Handler) keyNewForm(w http.ResponseWriter, r *http.Request) {
	v := KeyNewView{Days: strconv.Itoa(defaultKeyDays), Email: r.URL.Query().Get("owner"),
		Scopes: []string{store.ScopeCodeGeneration, store.ScopeCodeCompletion}}
	h.render(w, r, http.StatusOK, KeyNewPage(h.chrome(r, "keys", "New API key"), v))
}

// keyCreate creates a key for the owner e-mail (creating a plain user account when
// there is none) and redirects to the key's page, which shows the plaintext once
// (POST-redirect-GET: the plaintext travels in the sealed one-time cookie of flash.go,
// never in a URL, so a reload neither mints a second key nor shows this one again).
func (h *Handler) keyCreate(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.badRequest(w, r, "The form could not be read.")
		return
	}
	f := r.PostForm
	v := KeyNewView{Email: strings.TrimSpace(f.Get("owner")), Name: strings.TrimSpace(f.Get("name")),
		Days: strings.TrimSpace(f.Get("days")), TPM: strings.TrimSpace(f.Get("tokens_per_minute")),
		TPD: strings.TrimSpace(f.Get("tokens_per_day"))}
	for _, s := range f["scope"] {
		if slices.Contains(keyScopes, s) && !slices.Contains(v.Scopes, s) {
			v.Scopes = append(v.Scopes, s)
		}
	}
	var problems []string
	if !strings.Contains(v.Email, "@") || len(v.Email) > 254 {
		problems = append(problems, "Enter the owner's e-mail address.")
	}
	if len(v.Scopes) == 0 {
		problems = append(problems, "Choose at least one scope.")
	}
	if len(v.Name) > 100 {
		problems = append(problems, "The name is longer than 100 characters.")
	}
	days, ok := optInt(v.Days, 0, 36500)
	if !ok {
		problems = append(problems, "Expiry must be a whole number of days from 0 (never) to 36500.")
	}
	tpm, ok1 := optInt(v.TPM, 0, 1<<31-1)
	tpd, ok2 := optInt(v.TPD, 0, 1<<31-1)
	if !ok1 || !ok2 {
		problems = append(problems, "Token quotas must be whole numbers (0 or empty = unlimited).")
	}
	if len(problems) > 0 {
		v.Errors = problems
		h.render(w, r, http.StatusUnprocessableEntity, KeyNewPage(h.chrome(r, "keys", "New API key"), v))
		return
	}
	ctx := r.Context()
	owner, err := h.db.Users().ByEmail(ctx, v.Email)
	if isNotFound(err) {
		owner, err = h.db.Users().Create(ctx, store.User{Email: v.Email, Role: store.RoleUser})
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if owner.Disabled() {
		v.Errors = []string{"This account is disabled: enable it on its page first."}
		h.render(w, r, http.StatusUnprocessableEntity, KeyNewPage(h.chrome(r, "keys", "New API key"), v))
		return
	}
	nk := store.NewKey{UserID: &owner.ID, Name: v.Name, Scopes: store.Scopes(v.Scopes),
		TokensPerMinute: tpm, TokensPerDay: tpd}
	if days > 0 {
		exp := h.now().Add(time.Duration(days) * 24 * time.Hour)
		nk.ExpiresAt = &exp
	}
	plain, k, err := h.db.APIKeys().Create(ctx, nk)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("admin: key created", "key_id", k.ID, "owner", owner.Email, "by", sessionFrom(ctx).User.Email)
	h.audit(r, actKeyCreate, keyTarget(k.ID), keySummary(k))
	h.setKeyFlash(w, r, keyFlash{KeyID: k.ID, Plaintext: plain})
	http.Redirect(w, r, "/admin/keys/"+itoa(k.ID), http.StatusSeeOther)
}

// keySummary describes a key's settings for the audit log.
func keySummary(k store.APIKey) string {
	exp := "never"
	if k.ExpiresAt != nil {
		exp = k.ExpiresAt.UTC().Format(time.DateOnly)
	}
	return "prefix " + k.Prefix + ", owner " + k.OwnerEmail + ", name " + strconv.Quote(k.Name) + ", scopes " +
		strings.Join(k.Scopes, ",") + ", expires " + exp + ", tokens/min " + itoa(k.TokensPerMinute) + ", tokens/day " + itoa(k.TokensPerDay)
}

// optInt parses an optional bounded integer; empty is 0.
func optInt(s string, lo, hi int) (int, bool) {
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}
