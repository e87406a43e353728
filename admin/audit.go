package admin

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/hapa-project/hapa/store"
)

// Audit actions: every change an admin makes through the console is recorded in
// admin_audit with who, when and from which address (docs/admin.md, "Audit log").
const (
	actLogin          = "login"
	actLogout         = "logout"
	actKeyCreate      = "key.create"
	actKeyEdit        = "key.edit"
	actKeyRotate      = "key.rotate"
	actKeyRevoke      = "key.revoke"
	actCacheClear     = "cache.clear"
	actIncidentAck    = "incident.acknowledge"
	actIncidentSolve  = "incident.resolve"
	actIncidentReopen = "incident.reopen"
	actIncidentNote   = "incident.note"
	actUserDisable    = "user.disable"
	actUserEnable     = "user.enable"
	actUserRole       = "user.role"
	actUserDelete     = "user.delete"
	actUpstreamState  = "upstream.state"
)

// auditActions are the audit page's action filter: whole groups, then single actions.
var auditActions = []string{"key.", "user.", "incident.", "upstream.", "cache.", actLogin, actLogout}

// auditPerPage is the page size of the audit log.
const auditPerPage = 50

// audit records an action of the request's admin. The action has already happened,
// so a failure to record it is logged at error level rather than undoing it.
func (h *Handler) audit(r *http.Request, action, target, detail string) {
	e := store.AuditEntry{Action: action, Target: target, Detail: detail, IP: clientIP(r)}
	if s := sessionFrom(r.Context()); s != nil {
		e.ActorID, e.Actor = s.User.ID, s.User.Email
	}
	h.auditAs(r, e)
}

// auditAs records e as it is (sign-in, where the session is not in the context yet).
func (h *Handler) auditAs(r *http.Request, e store.AuditEntry) {
	if len(e.Detail) > 1000 {
		e.Detail = e.Detail[:1000]
	}
	e.CreatedAt = h.now()
	if err := h.db.AuditLog().Add(r.Context(), e); err != nil {
		h.log.Error("admin: audit entry not recorded", "action", e.Action, "target", e.Target, "actor", e.Actor, "err", err)
	}
}

func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := AuditView{Actor: q.Get("actor"), Action: q.Get("action"), Target: strings.TrimSpace(q.Get("target")), Actions: auditActions}
	before, _ := store.ParseCursor(q.Get("before"))
	rows, err := h.db.AuditLog().List(r.Context(), store.AuditFilter{Actor: v.Actor, Action: v.Action, Target: v.Target,
		Before: before, Limit: auditPerPage + 1})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if v.Actors, err = h.db.AuditLog().Actors(r.Context()); err != nil {
		h.fail(w, r, err)
		return
	}
	if len(rows) > auditPerPage {
		rows = rows[:auditPerPage]
		last := rows[len(rows)-1]
		next := url.Values{"before": {store.Cursor{At: last.CreatedAt, ID: last.ID}.String()}}
		for k, val := range map[string]string{"actor": v.Actor, "action": v.Action, "target": v.Target} {
			if val != "" {
				next.Set(k, val)
			}
		}
		v.NextURL = "/admin/audit?" + next.Encode()
	}
	v.Paged = !before.IsZero()
	for _, e := range rows {
		v.Rows = append(v.Rows, auditRow(e))
	}
	h.render(w, r, http.StatusOK, AuditPage(h.chrome(r, "audit", "Audit log"), v))
}

func auditRow(e store.AuditEntry) AuditRow {
	return AuditRow{At: e.CreatedAt, Actor: e.Actor, ActorID: e.ActorID, Action: e.Action, Target: e.Target,
		TargetURL: targetURL(e.Target), Detail: e.Detail, IP: e.IP}
}

// targetURL links an audit target to its page; "" when it has none (a deleted user
// still links: the page then says it is gone).
func targetURL(target string) string {
	kind, id, ok := strings.Cut(target, ":")
	if !ok || id == "" {
		return ""
	}
	switch kind {
	case "key":
		return "/admin/keys/" + url.PathEscape(id)
	case "user":
		return "/admin/users/" + url.PathEscape(id)
	case "incident":
		return "/admin/errors/" + url.PathEscape(id)
	case "upstream":
		return "/admin/upstreams"
	case "cache":
		return "/admin/cache"
	}
	return ""
}

// keyTarget and friends name audit targets.
func keyTarget(id int64) string  { return "key:" + itoa(id) }
func userTarget(id int64) string { return "user:" + itoa(id) }
