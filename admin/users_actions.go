package admin

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/hapa-project/hapa/store"
)

// The user actions (docs/admin.md, "Users"): disable and enable, change the role,
// delete. Disabling revokes the user's keys (every replica closes their streams and
// sockets, as a revoke does), refuses the JWTs they hold (auth.Tokens.RevokeUser) and
// ends their console sessions; the account cannot log in until enabled again. Deleting
// does the same and removes the account with its keys, settings and history. Nobody
// can disable, delete or demote themselves or the last active admin.

// userFor loads the user of a user route's {id}; unknown ids get the 404 page.
func (h *Handler) userFor(w http.ResponseWriter, r *http.Request) (store.User, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, r, "There is no such user.")
		return store.User{}, false
	}
	u, err := h.db.Users().ByID(r.Context(), id)
	if isNotFound(err) {
		h.notFound(w, r, "There is no such user.")
		return store.User{}, false
	}
	if err != nil {
		h.fail(w, r, err)
		return store.User{}, false
	}
	return u, true
}

// lockout says why removing u's admin powers is refused: it is the signed-in admin,
// or the last active admin. "" when it is allowed.
func (h *Handler) lockout(ctx context.Context, u store.User) (string, error) {
	if sessionFrom(ctx).User.ID == u.ID {
		return "You cannot do this to your own account.", nil
	}
	if u.Role != store.RoleAdmin || u.Disabled() {
		return "", nil
	}
	admins, _, err := h.db.Users().Search(ctx, store.UserFilter{Role: store.RoleAdmin, Status: "active", Limit: 2})
	if err != nil {
		return "", err
	}
	if len(admins) < 2 {
		return "This is the last active admin: make another admin first.", nil
	}
	return "", nil
}

// refuse renders the 409 page of a refused user action.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, msg string) {
	h.render(w, r, http.StatusConflict, ErrorPage(h.chrome(r, "users", "Not allowed"),
		ErrorView{Status: http.StatusConflict, Message: msg}))
}

// userConfirm asks before disabling or deleting.
func (h *Handler) userConfirm(verb string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, ok := h.userFor(w, r)
		if !ok {
			return
		}
		msg, err := h.lockout(r.Context(), u)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if msg != "" {
			h.refuse(w, r, msg)
			return
		}
		n, err := h.db.APIKeys().CountActive(r.Context(), u.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		title := map[string]string{"disable": "Disable this account?", "delete": "Delete this account?"}[verb]
		h.render(w, r, http.StatusOK, UserConfirmPage(h.chrome(r, "users", title), UserConfirmView{User: userRow(u), Verb: verb, ActiveKeys: n}))
	}
}

// ended is what endUser did: the keys it revoked and, "; "-joined after a "; ",
// what it could not do.
type ended struct {
	n        int
	problems string
}

// endUser disables or deletes u (end is the store's Disable or Delete) unless the
// console would lose its last admin, then ends the user's access everywhere; false
// when it answered the request itself (refused or failed).
func (h *Handler) endUser(w http.ResponseWriter, r *http.Request, u store.User, end func(context.Context, int64) ([]int64, error)) (ended, bool) {
	ctx := r.Context()
	msg, err := h.lockout(ctx, u)
	if err != nil {
		h.fail(w, r, err)
		return ended{}, false
	}
	if msg != "" {
		h.refuse(w, r, msg)
		return ended{}, false
	}
	keys, err := end(ctx, u.ID)
	if err != nil {
		h.fail(w, r, err)
		return ended{}, false
	}
	problems := h.endAccess(ctx, u, keys)
	return ended{n: len(keys), problems: strings.Join(append([]string{""}, problems...), "; ")}, true
}

// endAccess revokes the user's keys everywhere, refuses their JWTs and ends their
// console sessions; it reports what it could not do.
func (h *Handler) endAccess(ctx context.Context, u store.User, keys []int64) []string {
	var problems []string
	for _, id := range keys {
		h.revoked(id)
	}
	if h.deps.Tokens != nil {
		if err := h.deps.Tokens.RevokeUser(ctx, u.ID); err != nil {
			h.log.Error("admin: the user's JWTs could not be refused", "user_id", u.ID, "err", err)
			problems = append(problems, "their JWTs could not be refused (see the server log)")
		}
	}
	if err := h.db.AdminSessions().DeleteSessionsOf(ctx, u.ID); err != nil {
		h.log.Warn("admin: console sessions not ended", "user_id", u.ID, "err", err)
	}
	return problems
}

func (h *Handler) userDisable(w http.ResponseWriter, r *http.Request) {
	u, ok := h.userFor(w, r)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		http.Redirect(w, r, "/admin/users/"+itoa(u.ID)+"/disable", http.StatusSeeOther)
		return
	}
	if keys, ok := h.endUser(w, r, u, h.db.Users().Disable); ok {
		h.log.Info("admin: user disabled", "user_id", u.ID, "keys_revoked", keys.n, "by", sessionFrom(r.Context()).User.Email)
		h.audit(r, actUserDisable, userTarget(u.ID), u.Email+": "+itoa(keys.n)+" keys revoked"+keys.problems)
		http.Redirect(w, r, "/admin/users/"+itoa(u.ID)+"?done=disabled", http.StatusSeeOther)
	}
}

func (h *Handler) userEnable(w http.ResponseWriter, r *http.Request) {
	u, ok := h.userFor(w, r)
	if !ok {
		return
	}
	if err := h.db.Users().Enable(r.Context(), u.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	h.audit(r, actUserEnable, userTarget(u.ID), u.Email)
	http.Redirect(w, r, "/admin/users/"+itoa(u.ID)+"?done=enabled", http.StatusSeeOther)
}

func (h *Handler) userRole(w http.ResponseWriter, r *http.Request) {
	u, ok := h.userFor(w, r)
	if !ok {
		return
	}
	role := r.PostFormValue("role")
	if role != store.RoleUser && role != store.RoleAdmin {
		h.badRequest(w, r, "The role is user or admin.")
		return
	}
	if role == u.Role {
		http.Redirect(w, r, "/admin/users/"+itoa(u.ID), http.StatusSeeOther)
		return
	}
	if role == store.RoleUser {
		msg, err := h.lockout(r.Context(), u)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if msg != "" {
			h.refuse(w, r, msg)
			return
		}
	}
	if err := h.db.Users().SetRole(r.Context(), u.ID, role); err != nil {
		h.fail(w, r, err)
		return
	}
	h.audit(r, actUserRole, userTarget(u.ID), u.Email+": "+u.Role+" → "+role)
	http.Redirect(w, r, "/admin/users/"+itoa(u.ID)+"?done=role", http.StatusSeeOther)
}

func (h *Handler) userDelete(w http.ResponseWriter, r *http.Request) {
	u, ok := h.userFor(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	if !strings.EqualFold(strings.TrimSpace(r.PostFormValue("confirm_email")), u.Email) {
		h.render(w, r, http.StatusUnprocessableEntity, UserConfirmPage(h.chrome(r, "users", "Delete this account?"),
			UserConfirmView{User: userRow(u), Verb: "delete", Problem: "Type the account's e-mail address to delete it."}))
		return
	}
	if keys, ok := h.endUser(w, r, u, h.db.Users().Delete); ok {
		h.log.Info("admin: user deleted", "user_id", u.ID, "by", sessionFrom(ctx).User.Email)
		h.audit(r, actUserDelete, userTarget(u.ID), u.Email+": "+itoa(keys.n)+" active keys revoked"+keys.problems)
		http.Redirect(w, r, "/admin/users?done=deleted", http.StatusSeeOther)
	}
}
