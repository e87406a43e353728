package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/hapa-project/hapa/store"
)

// cmdAdmin manages admin console accounts: `hapa admin create-user`.
func cmdAdmin(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create-user" {
		return errors.New("usage: hapa admin create-user --email E [--password P] [--name N]")
	}
	fs := flag.NewFlagSet("admin create-user", flag.ContinueOnError)
	fs.SetOutput(stdout)
	email := fs.String("email", "", "login e-mail (required)")
	password := fs.String("password", "", "password (generated and printed once when empty; env HAPA_ADMIN_NEW_PASSWORD)")
	name := fs.String("name", "", "display name")
	cfg, _, err := parseConfig(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	if !strings.Contains(*email, "@") {
		return errors.New("--email: a valid e-mail is required")
	}
	pw := *password
	if pw == "" {
		pw = getenv("HAPA_ADMIN_NEW_PASSWORD")
	}
	generated := pw == ""
	if generated {
		pw = rand.Text()
	}
	if len(pw) < 12 {
		return errors.New("--password: at least 12 characters")
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := ensureMigrated(ctx, db, cfg); err != nil {
		return err
	}
	hash, err := store.HashPassword(pw)
	if err != nil {
		return err
	}
	users := db.Users()
	u, err := users.ByEmail(ctx, *email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		n := *name
		if n == "" {
			n = strings.Split(*email, "@")[0]
		}
		u, err = users.Create(ctx, store.User{Email: *email, Name: n, Role: "admin", PasswordHash: &hash})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created admin %s (id %d)\n", u.Email, u.ID)
	case err != nil:
		return err
	default:
		if err := users.SetPassword(ctx, u.ID, &hash); err != nil {
			return err
		}
		if err := users.SetRole(ctx, u.ID, "admin"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "updated %s: role admin, new password\n", u.Email)
	}
	if generated {
		fmt.Fprintf(stdout, "password: %s\n(shown only once)\n", pw)
	}
	return nil
}
