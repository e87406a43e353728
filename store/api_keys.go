package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// KeyStatus is the state of a key at some instant.
type KeyStatus string

// Key states; KeyAll is only a List filter.
const (
	KeyActive  KeyStatus = "active"
	KeyRevoked KeyStatus = "revoked"
	KeyExpired KeyStatus = "expired"
	KeyAll     KeyStatus = "all"
)

// APIKey is one row of api_keys, with the owner's e-mail when listed.
type APIKey struct {
	ID              int64      `db:"id" json:"id"`
	UserID          *int64     `db:"user_id" json:"user_id"`
	OwnerEmail      string     `db:"owner_email" json:"owner_email"`
	Name            string     `db:"name" json:"name"`
	Prefix          string     `db:"prefix" json:"prefix"`
	KeyHash         string     `db:"key_hash" json:"-"`
	Scopes          Scopes     `db:"scopes" json:"scopes"`
	CreatedAt       time.Time  `db:"created_at" json:"created_at"`
	ExpiresAt       *time.Time `db:"expires_at" json:"expires_at"`
	RevokedAt       *time.Time `db:"revoked_at" json:"revoked_at"`
	LastUsedAt      *time.Time `db:"last_used_at" json:"last_used_at"`
	TokensPerMinute int        `db:"tokens_per_minute" json:"tokens_per_minute"`
	TokensPerDay    int        `db:"tokens_per_day" json:"tokens_per_day"`
}

// HasScope reports whether the key carries scope s.
func (k APIKey) HasScope(s string) bool { return slices.Contains(k.Scopes, s) }

// Status is the key's state at now; revocation wins over expiry.
func (k APIKey) Status(now time.Time) KeyStatus {
	switch {
	case k.RevokedAt != nil:
		return KeyRevoked
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return KeyExpired
	}
	return KeyActive
}

// NewKey describes a key to create. A nil ExpiresAt never expires.
type NewKey struct {
	UserID          *int64
	Name            string
	Scopes          Scopes
	ExpiresAt       *time.Time
	TokensPerMinute int
	TokensPerDay    int
}

// KeyFilter selects keys for List. Query matches the display prefix, the
// name or the owner's e-mail (substring, case-insensitive).
type KeyFilter struct {
	UserID *int64
	Status KeyStatus // "" means KeyAll
	Query  string
	Limit  int // default 50
	Offset int
}

// APIKeys is the accessor of the api_keys table.
type APIKeys struct{ db *DB }

// APIKeys returns the api_keys accessor.
func (db *DB) APIKeys() *APIKeys { return &APIKeys{db: db} }

const keyColumns = `k.id, k.user_id, COALESCE(u.email, '') AS owner_email, k.name, k.prefix, k.key_hash,
	k.scopes, k.created_at, k.expires_at, k.revoked_at, k.last_used_at, k.tokens_per_minute, k.tokens_per_day`

const keyFrom = ` FROM api_keys k LEFT JOIN users u ON u.id = k.user_id`

// Create generates a key, stores its hash and returns the plaintext — the
// only time it is available — with the stored record.
func (s *APIKeys) Create(ctx context.Context, nk NewKey) (string, APIKey, error) {
	plain := GenerateKey()
	k, err := s.insert(ctx, s.db.x, plain, nk)
	return plain, k, wrap("create key", err)
}

// CreateWithPlaintext stores a caller-chosen key (the demo key, imports).
func (s *APIKeys) CreateWithPlaintext(ctx context.Context, plaintext string, nk NewKey) (APIKey, error) {
	k, err := s.insert(ctx, s.db.x, plaintext, nk)
	return k, wrap("create key", err)
}

// EnsureKey is CreateWithPlaintext made idempotent: an existing key with the
// same hash is returned as it is (even if revoked or expired).
func (s *APIKeys) EnsureKey(ctx context.Context, plaintext string, nk NewKey) (APIKey, error) {
	k, err := s.ByHash(ctx, HashKey(plaintext))
	if !errors.Is(err, ErrNotFound) {
		return k, err
	}
	k, err = s.CreateWithPlaintext(ctx, plaintext, nk)
	if errors.Is(err, ErrConflict) { // a replica won the race
		return s.ByHash(ctx, HashKey(plaintext))
	}
	return k, err
}

func (s *APIKeys) insert(ctx context.Context, q sqlx.ExtContext, plain string, nk NewKey) (APIKey, error) {
	k := APIKey{
		UserID: nk.UserID, Name: nk.Name, Prefix: displayPrefix(plain), KeyHash: HashKey(plain),
		Scopes: nk.Scopes, CreatedAt: s.db.nowUTC(), ExpiresAt: tsPtr(nk.ExpiresAt),
		TokensPerMinute: nk.TokensPerMinute, TokensPerDay: nk.TokensPerDay,
	}
	stmt := q.Rebind(`INSERT INTO api_keys (user_id, name, prefix, key_hash, scopes, created_at, expires_at,
		tokens_per_minute, tokens_per_day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	if err := sqlx.GetContext(ctx, q, &k.ID, stmt, k.UserID, k.Name, k.Prefix, k.KeyHash, k.Scopes,
		k.CreatedAt, k.ExpiresAt, k.TokensPerMinute, k.TokensPerDay); err != nil {
		return k, err
	}
	return s.byID(ctx, q, k.ID)
}

// ByID returns the key with id, or ErrNotFound.
func (s *APIKeys) ByID(ctx context.Context, id int64) (APIKey, error) {
	k, err := s.byID(ctx, s.db.x, id)
	return k, wrap("key by id", err)
}

func (s *APIKeys) byID(ctx context.Context, q sqlx.ExtContext, id int64) (APIKey, error) {
	var k APIKey
	err := sqlx.GetContext(ctx, q, &k, q.Rebind(`SELECT `+keyColumns+keyFrom+` WHERE k.id = ?`), id)
	return k, err
}

// ByHash returns the key whose SHA-256 is hash, or ErrNotFound.
func (s *APIKeys) ByHash(ctx context.Context, hash string) (APIKey, error) {
	var k APIKey
	q := s.db.x.Rebind(`SELECT ` + keyColumns + keyFrom + ` WHERE k.key_hash = ?`)
	return k, wrap("key by hash", s.db.x.GetContext(ctx, &k, q, hash))
}

// List returns one page of keys matching f, newest first, and the total.
func (s *APIKeys) List(ctx context.Context, f KeyFilter) ([]APIKey, int, error) {
	var where []string
	var args []any
	now := s.db.nowUTC()
	if f.UserID != nil {
		where, args = append(where, "k.user_id = ?"), append(args, *f.UserID)
	}
	switch f.Status {
	case KeyActive:
		where, args = append(where, "k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?)"), append(args, now)
	case KeyRevoked:
		where = append(where, "k.revoked_at IS NOT NULL")
	case KeyExpired:
		where, args = append(where, "k.revoked_at IS NULL AND k.expires_at <= ?"), append(args, now)
	case "", KeyAll:
	default:
		return nil, 0, fmt.Errorf("store: list keys: unknown status %q", f.Status)
	}
	if f.Query != "" {
		p := likePattern(f.Query)
		where = append(where, `(LOWER(k.prefix) LIKE ? ESCAPE '\' OR LOWER(k.name) LIKE ? ESCAPE '\' OR LOWER(COALESCE(u.email, '')) LIKE ? ESCAPE '\')`)
		args = append(args, p, p, p)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.db.x.GetContext(ctx, &total, s.db.x.Rebind(`SELECT COUNT(*)`+keyFrom+cond), args...); err != nil {
		return nil, 0, wrap("list keys", err)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	keys := []APIKey{}
	q := s.db.x.Rebind(`SELECT ` + keyColumns + keyFrom + cond + ` ORDER BY k.id DESC LIMIT ? OFFSET ?`)
	err := s.db.x.SelectContext(ctx, &keys, q, append(args, f.Limit, max(f.Offset, 0))...)
	return keys, total, wrap("list keys", err)
}

// likePattern turns user text into a lower-case LIKE substring pattern with
// % and _ escaped by backslash.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}
