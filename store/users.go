package store

import (
	"context"
	"strings"
	"time"
)

// Roles a user can hold.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// User is one row of users. PasswordHash is set only for admin console logins.
type User struct {
	ID           int64     `db:"id" json:"id"`
	Email        string    `db:"email" json:"email"`
	Name         string    `db:"name" json:"name"`
	PasswordHash *string   `db:"password_hash" json:"-"`
	Role         string    `db:"role" json:"role"`
	CreatedAt    time.Time `db:"created_at" json:"created_at"`
	UpdatedAt    time.Time `db:"updated_at" json:"updated_at"`
	// DisabledAt is when an admin disabled the account (nil: enabled): it cannot log
	// in, and its keys were revoked then.
	DisabledAt *time.Time `db:"disabled_at" json:"disabled_at,omitempty"`
}

// Users is the accessor of the users table.
type Users struct{ db *DB }

// Users returns the users accessor.
func (db *DB) Users() *Users { return &Users{db: db} }

const userColumns = `id, email, name, password_hash, role, created_at, updated_at, disabled_at`

// normEmail is how e-mails are stored and looked up: trimmed, lower-case.
func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Create inserts u (ID, timestamps and an empty role are filled in) and
// returns the stored row; a taken e-mail gives ErrConflict.
func (s *Users) Create(ctx context.Context, u User) (User, error) {
	now := s.db.nowUTC()
	u.Email, u.CreatedAt, u.UpdatedAt = normEmail(u.Email), now, now
	if u.Role == "" {
		u.Role = RoleUser
	}
	q := s.db.x.Rebind(`INSERT INTO users (email, name, password_hash, role, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`)
	err := s.db.x.GetContext(ctx, &u.ID, q, u.Email, u.Name, u.PasswordHash, u.Role, u.CreatedAt, u.UpdatedAt)
	return u, wrap("create user", err)
}

// ByID returns the user with id, or ErrNotFound.
func (s *Users) ByID(ctx context.Context, id int64) (User, error) {
	var u User
	q := s.db.x.Rebind(`SELECT ` + userColumns + ` FROM users WHERE id = ?`)
	return u, wrap("user by id", s.db.x.GetContext(ctx, &u, q, id))
}

// ByEmail returns the user with email (case-insensitive), or ErrNotFound.
func (s *Users) ByEmail(ctx context.Context, email string) (User, error) {
	var u User
	q := s.db.x.Rebind(`SELECT ` + userColumns + ` FROM users WHERE email = ?`)
	return u, wrap("user by email", s.db.x.GetContext(ctx, &u, q, normEmail(email)))
}

// List returns one page of users ordered by id, and the total count.
func (s *Users) List(ctx context.Context, limit, offset int) ([]User, int, error) {
	if limit <= 0 {
		limit = 50
	}
	var total int
	if err := s.db.x.GetContext(ctx, &total, `SELECT COUNT(*) FROM users`); err != nil {
		return nil, 0, wrap("list users", err)
	}
	users := []User{}
	q := s.db.x.Rebind(`SELECT ` + userColumns + ` FROM users ORDER BY id LIMIT ? OFFSET ?`)
	err := s.db.x.SelectContext(ctx, &users, q, limit, max(offset, 0))
	return users, total, wrap("list users", err)
}

// SetPassword stores a password hash (nil clears it).
func (s *Users) SetPassword(ctx context.Context, id int64, hash *string) error {
	q := s.db.x.Rebind(`UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`)
	res, err := s.db.x.ExecContext(ctx, q, hash, s.db.nowUTC(), id)
	if err == nil {
		err = affected(res)
	}
	return wrap("set password", err)
}

// SetRole sets the role (RoleUser or RoleAdmin).
func (s *Users) SetRole(ctx context.Context, id int64, role string) error {
	q := s.db.x.Rebind(`UPDATE users SET role = ?, updated_at = ? WHERE id = ?`)
	res, err := s.db.x.ExecContext(ctx, q, role, s.db.nowUTC(), id)
	if err == nil {
		err = affected(res)
	}
	return wrap("set role", err)
}

// CountAdmins counts users with the admin role.
func (s *Users) CountAdmins(ctx context.Context) (int, error) {
	var n int
	q := s.db.x.Rebind(`SELECT COUNT(*) FROM users WHERE role = ?`)
	return n, wrap("count admins", s.db.x.GetContext(ctx, &n, q, RoleAdmin))
}
