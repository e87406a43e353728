package admin

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hapa-project/hapa/store"
)

// usersPerPage is the page size of the user list.
const usersPerPage = 50

func (h *Handler) usersPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	v := UsersView{Query: strings.TrimSpace(q.Get("q")), Role: q.Get("role"), Status: q.Get("status")}
	if v.Role != store.RoleUser && v.Role != store.RoleAdmin {
		v.Role = ""
	}
	if v.Status != "active" && v.Status != "disabled" {
		v.Status = ""
	}
	users, total, err := h.db.Users().Search(r.Context(), store.UserFilter{Query: v.Query, Role: v.Role, Status: v.Status,
		Limit: usersPerPage, Offset: (page - 1) * usersPerPage})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.Total, v.Page, v.Pages = total, page, max(1, (total+usersPerPage-1)/usersPerPage)
	for _, u := range users {
		v.Rows = append(v.Rows, userRow(u))
	}
	link := func(p int) string {
		u := url.Values{"page": {strconv.Itoa(p)}}
		for k, val := range map[string]string{"q": v.Query, "role": v.Role, "status": v.Status} {
			if val != "" {
				u.Set(k, val)
			}
		}
		return "/admin/users?" + u.Encode()
	}
	if page > 1 {
		v.PrevURL = link(page - 1)
	}
	if page < v.Pages {
		v.NextURL = link(page + 1)
	}
	c := h.chrome(r, "users", "Users")
	c.Flash = flashFor(r)
	h.render(w, r, http.StatusOK, UsersPage(c, v))
}

func userRow(u store.User) UserRow {
	return UserRow{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Created: u.CreatedAt, Disabled: u.DisabledAt}
}

func (h *Handler) userPage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.notFound(w, r, "There is no such user.")
		return
	}
	ctx := r.Context()
	u, err := h.db.Users().ByID(ctx, id)
	if isNotFound(err) {
		h.notFound(w, r, "There is no such user.")
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := UserView{User: userRow(u), Self: sessionFrom(ctx).User.ID == u.ID}
	st, err := h.db.Settings().Get(ctx, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.Profile = profileFields(st.Profile)
	if !st.UpdatedAt.IsZero() {
		t := st.UpdatedAt
		v.ProfileUpdated = &t
	}
	keys, _, err := h.db.APIKeys().List(ctx, store.KeyFilter{UserID: &id, Limit: 100})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := h.now()
	for _, k := range keys {
		v.Keys = append(v.Keys, keyRow(k, now))
	}
	h.freshLastUsed(ctx, v.Keys)
	if h.deps.Usage != nil {
		for _, p := range []struct {
			label string
			span  time.Duration
		}{{"Last 24 hours", 24 * time.Hour}, {"Last 7 days", 7 * 24 * time.Hour}} {
			s, err := h.deps.Usage.Summary(ctx, UsageFilter{Since: now.Add(-p.span), Until: now, UserID: id})
			if err != nil {
				h.log.Warn("admin: user usage", "err", err)
				v.UsageError = true
				break
			}
			v.Usage = append(v.Usage, UsageRow{Label: p.label, UsageSummary: s})
		}
	}
	v.UsageConnected = h.deps.Usage != nil
	entries, err := h.db.AuditLog().List(ctx, store.AuditFilter{Target: userTarget(u.ID), Limit: 20})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, e := range entries {
		v.Audit = append(v.Audit, auditRow(e))
	}
	c := h.chrome(r, "users", u.Email)
	c.Flash = flashFor(r)
	h.render(w, r, http.StatusOK, UserPage(c, v))
}

// profileFields flattens a stored profile (a JSON object) into sorted name/value
// pairs; lists are joined with commas and anything nested is shown as JSON.
func profileFields(raw json.RawMessage) []ProfileField {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return []ProfileField{{Name: "(unreadable)", Value: string(raw)}}
	}
	var out []ProfileField
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, ProfileField{Name: humanize(k), Value: fieldText(m[k])})
	}
	return out
}

func fieldText(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = fieldText(e)
		}
		return strings.Join(parts, ", ")
	case nil:
		return ""
	case map[string]any:
		b, _ := json.Marshal(t)
		return string(b)
	}
	return fmt.Sprint(v)
}

// humanize turns a camelCase or snake_case field name into words:
// pythonSkillLevel → "Python skill level".
func humanize(name string) string {
	var b strings.Builder
	for i, r := range name {
		switch {
		case r == '_':
			b.WriteByte(' ')
		case unicode.IsUpper(r) && i > 0:
			b.WriteByte(' ')
			b.WriteRune(unicode.ToLower(r))
		case i == 0:
			b.WriteRune(unicode.ToUpper(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
