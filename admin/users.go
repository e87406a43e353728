package admin

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
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
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	users, total, err := h.db.Users().List(r.Context(), usersPerPage, (page-1)*usersPerPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := UsersView{Total: total, Page: page, Pages: max(1, (total+usersPerPage-1)/usersPerPage)}
	for _, u := range users {
		v.Rows = append(v.Rows, UserRow{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Created: u.CreatedAt})
	}
	if page > 1 {
		v.PrevURL = "/admin/users?page=" + strconv.Itoa(page-1)
	}
	if page < v.Pages {
		v.NextURL = "/admin/users?page=" + strconv.Itoa(page+1)
	}
	h.render(w, r, http.StatusOK, UsersPage(h.chrome(r, "users", "Users"), v))
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
	v := UserView{User: UserRow{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Created: u.CreatedAt}}
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
	h.render(w, r, http.StatusOK, UserPage(h.chrome(r, "users", u.Email), v))
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
