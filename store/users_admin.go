package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jmoiron/sqlx"
)

// firstAdminLockKey is the first half of the PostgreSQL advisory lock that serialises
// CreateFirstAdmin; the second half is a hash of the current schema, as for migrations.
const firstAdminLockKey = 0x4a7b

// CreateFirstAdmin creates the first admin account, atomically: when no user holds
// the admin role it makes u (e-mail and password hash; the role is set to admin) an
// admin — inserting the account, or promoting an existing account with that e-mail
// and setting its password — and returns the stored row and true. When an admin
// already exists it changes nothing and returns false. Processes calling it at once on
// one database create exactly one admin: on PostgreSQL the check and the write run
// under a transaction-scoped advisory lock, on SQLite in an IMMEDIATE transaction,
// which holds the database's write lock from its start.
func (s *Users) CreateFirstAdmin(ctx context.Context, u User) (User, bool, error) {
	created := false
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if s.db.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, firstAdminLockKey); err != nil {
				return err
			}
		}
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM users WHERE role = ?`), RoleAdmin); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		now := s.db.nowUTC()
		u.Email, u.Role, u.UpdatedAt = normEmail(u.Email), RoleAdmin, now
		var id int64
		err := tx.GetContext(ctx, &id, tx.Rebind(`SELECT id FROM users WHERE email = ?`), u.Email)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			u.CreatedAt = now
			err = tx.GetContext(ctx, &u.ID, tx.Rebind(`INSERT INTO users (email, name, password_hash, role, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), u.Email, u.Name, u.PasswordHash, u.Role, u.CreatedAt, u.UpdatedAt)
		case err == nil:
			u.ID = id
			_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET role = ?, password_hash = ?, updated_at = ? WHERE id = ?`),
				u.Role, u.PasswordHash, u.UpdatedAt, id)
		}
		created = err == nil
		return err
	})
	if err != nil || !created {
		return User{}, false, wrap("create first admin", err)
	}
	u, err = s.ByID(ctx, u.ID)
	return u, true, err
}
