package store

import (
	"context"
	"strings"

	"github.com/jmoiron/sqlx"
)

// UserFilter selects users for Search: Query matches the e-mail or the name
// (substring, case-insensitive); Role "user" or "admin"; Status "active" or
// "disabled" ("" = any). Newest id last, at most Limit (default 50) from Offset.
type UserFilter struct {
	Query  string
	Role   string
	Status string
	Limit  int
	Offset int
}

// Search returns one page of users matching f, ordered by id, and how many match.
func (s *Users) Search(ctx context.Context, f UserFilter) ([]User, int, error) {
	var where []string
	var args []any
	if f.Query != "" {
		p := likePattern(f.Query)
		where, args = append(where, `(LOWER(email) LIKE ? ESCAPE '\' OR LOWER(name) LIKE ? ESCAPE '\')`), append(args, p, p)
	}
	if f.Role == RoleUser || f.Role == RoleAdmin {
		where, args = append(where, `role = ?`), append(args, f.Role)
	}
	switch f.Status {
	case "active":
		where = append(where, `disabled_at IS NULL`)
	case "disabled":
		where = append(where, `disabled_at IS NOT NULL`)
	}
	cond := ""
	if len(where) > 0 {
		cond = ` WHERE ` + strings.Join(where, ` AND `)
	}
	var total int
	if err := s.db.x.GetContext(ctx, &total, s.db.x.Rebind(`SELECT COUNT(*) FROM users`+cond), args...); err != nil {
		return nil, 0, wrap("search users", err)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	users := []User{}
	q := s.db.x.Rebind(`SELECT ` + userColumns + ` FROM users` + cond + ` ORDER BY id LIMIT ? OFFSET ?`)
	err := s.db.x.SelectContext(ctx, &users, q, append(args, f.Limit, max(f.Offset, 0))...)
	return users, total, wrap("search users", err)
}

// SetName stores the user's display name.
func (s *Users) SetName(ctx context.Context, id int64, name string) error {
	q := s.db.x.Rebind(`UPDATE users SET name = ?, updated_at = ? WHERE id = ?`)
	res, err := s.db.x.ExecContext(ctx, q, name, s.db.nowUTC(), id)
	if err == nil {
		err = affected(res)
	}
	return wrap("set name", err)
}

// Disable marks the user disabled now and revokes every key of theirs that is still
// active, in one transaction; it returns the ids of the keys it revoked (the caller
// tells the replicas). Disabling a disabled user changes nothing.
func (s *Users) Disable(ctx context.Context, id int64) ([]int64, error) {
	now := s.db.nowUTC()
	var keys []int64
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET disabled_at = COALESCE(disabled_at, ?), updated_at = ? WHERE id = ?`), now, now, id)
		if err != nil {
			return err
		}
		if err := affected(res); err != nil {
			return err
		}
		if err := tx.SelectContext(ctx, &keys, tx.Rebind(`SELECT id FROM api_keys WHERE user_id = ? AND revoked_at IS NULL ORDER BY id`), id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE api_keys SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`), now, id)
		return err
	})
	return keys, wrap("disable user", err)
}

// Enable clears the user's disabled mark. Their revoked keys stay revoked.
func (s *Users) Enable(ctx context.Context, id int64) error {
	q := s.db.x.Rebind(`UPDATE users SET disabled_at = NULL, updated_at = ? WHERE id = ?`)
	res, err := s.db.x.ExecContext(ctx, q, s.db.nowUTC(), id)
	if err == nil {
		err = affected(res)
	}
	return wrap("enable user", err)
}

// Delete removes the user and, by the foreign keys, their keys, settings, history and
// console sessions; request-log rows keep the ids. It returns the ids of the keys that
// were still active (the caller tells the replicas they are gone).
func (s *Users) Delete(ctx context.Context, id int64) ([]int64, error) {
	var keys []int64
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.SelectContext(ctx, &keys, tx.Rebind(`SELECT id FROM api_keys WHERE user_id = ? AND revoked_at IS NULL ORDER BY id`), id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM users WHERE id = ?`), id)
		if err != nil {
			return err
		}
		return affected(res)
	})
	return keys, wrap("delete user", err)
}

// DeleteSessionsOf ends every console session of a user.
func (s *AdminSessions) DeleteSessionsOf(ctx context.Context, userID int64) error {
	_, err := s.db.x.ExecContext(ctx, s.db.x.Rebind(`DELETE FROM admin_sessions WHERE user_id = ?`), userID)
	return wrap("delete sessions of user", err)
}

// Disabled reports whether an admin disabled the account.
func (u User) Disabled() bool { return u.DisabledAt != nil }
