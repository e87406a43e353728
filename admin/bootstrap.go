package admin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hapa-project/hapa/store"
)

// DefaultAdminEmail is the account EnsureAdmin creates when no e-mail is given.
const DefaultAdminEmail = "admin@localhost"

// MinPasswordLength is the shortest admin password accepted.
const MinPasswordLength = 8

// EnsureAdmin makes sure an admin account exists. When the database has none it
// creates DefaultAdminEmail with password (ADMIN_PASSWORD) or, when password is
// empty, a generated one, which is written to out exactly once. With an admin present
// it changes nothing, whatever password says, and writes a line saying so. Replicas
// starting together on one fresh database create exactly one admin between them, and
// only that replica prints a password (store.Users.CreateFirstAdmin).
func EnsureAdmin(ctx context.Context, db *store.DB, password string, out io.Writer) error {
	return EnsureAdminAs(ctx, db, DefaultAdminEmail, password, out)
}

// EnsureAdminAs is EnsureAdmin for a chosen e-mail; an empty email means
// DefaultAdminEmail.
func EnsureAdminAs(ctx context.Context, db *store.DB, email, password string, out io.Writer) error {
	n, err := db.Users().CountAdmins(ctx)
	if err != nil {
		return fmt.Errorf("admin: ensure admin: %w", err)
	}
	if n > 0 { // the common restart: no password hashed
		fmt.Fprintln(out, adminExists)
		return nil
	}
	if email == "" {
		email = DefaultAdminEmail
	}
	generated := password == ""
	if generated {
		password = GeneratePassword()
	}
	email, hash, err := adminCredentials(email, password)
	if err != nil {
		return fmt.Errorf("admin: ensure admin: %w", err)
	}
	u, created, err := db.Users().CreateFirstAdmin(ctx, store.User{Email: email, PasswordHash: &hash})
	switch {
	case err != nil:
		return fmt.Errorf("admin: ensure admin: %w", err)
	case !created: // another replica created it a moment ago
		fmt.Fprintln(out, adminExists)
	case generated:
		fmt.Fprintf(out, "hapa: created admin account %s with password %s\n"+
			"hapa: this password is shown only once; sign in at /admin/ and keep it safe.\n", u.Email, password)
	default:
		fmt.Fprintf(out, "hapa: created admin account %s with the password from ADMIN_PASSWORD\n", u.Email)
	}
	return nil
}

// adminExists is what a start prints when it finds an admin account.
const adminExists = "hapa: an admin account already exists; none created (hapa admin create-user adds one or sets a password)"

// adminCredentials checks an admin's e-mail and password and returns the trimmed
// e-mail and the password's hash.
func adminCredentials(email, password string) (string, string, error) {
	email = strings.TrimSpace(email)
	if !strings.Contains(email, "@") {
		return "", "", fmt.Errorf("admin: %q is not an e-mail address", email)
	}
	if len(password) < MinPasswordLength {
		return "", "", fmt.Errorf("admin: the password needs at least %d characters", MinPasswordLength)
	}
	hash, err := store.HashPassword(password)
	if err != nil {
		return "", "", fmt.Errorf("admin: hash password: %w", err)
	}
	return email, hash, nil
}

// CreateAdmin creates an admin account, or makes an existing account with that
// e-mail an admin with the new password (hapa admin create-user).
func CreateAdmin(ctx context.Context, db *store.DB, email, password string) (store.User, error) {
	email, hash, err := adminCredentials(email, password)
	if err != nil {
		return store.User{}, err
	}
	u, err := db.Users().ByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return db.Users().Create(ctx, store.User{Email: email, Role: store.RoleAdmin, PasswordHash: &hash})
	}
	if err != nil {
		return store.User{}, err
	}
	if err := db.Users().SetPassword(ctx, u.ID, &hash); err != nil {
		return store.User{}, err
	}
	if err := db.Users().SetRole(ctx, u.ID, store.RoleAdmin); err != nil {
		return store.User{}, err
	}
	return db.Users().ByID(ctx, u.ID)
}

// GeneratePassword returns a random 20-character password (about 119 bits) without
// look-alike characters.
func GeneratePassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	buf := make([]byte, 1)
	for i := 0; i < len(b); {
		_, _ = rand.Read(buf)
		if int(buf[0]) < 256/len(alphabet)*len(alphabet) {
			b[i] = alphabet[int(buf[0])%len(alphabet)]
			i++
		}
	}
	return string(b)
}
