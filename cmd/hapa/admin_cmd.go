package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/hapa-project/hapa/admin"
	"github.com/hapa-project/hapa/store"
)

// cmdAdmin manages admin console accounts: `hapa admin create-user` creates one, or
// gives an existing account the admin role and a new password.
func cmdAdmin(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create-user" {
		return errors.New("usage: hapa admin create-user --email E [--password P]")
	}
	fs := flag.NewFlagSet("admin create-user", flag.ContinueOnError)
	fs.SetOutput(stdout)
	email := fs.String("email", "", "login e-mail (required)")
	password := fs.String("password", "", "password (generated and printed once when empty; env HAPA_ADMIN_NEW_PASSWORD)")
	cfg, _, err := parseConfig(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	pw := *password
	if pw == "" {
		pw = getenv("HAPA_ADMIN_NEW_PASSWORD")
	}
	generated := pw == ""
	if generated {
		pw = admin.GeneratePassword()
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := ensureMigrated(ctx, db, cfg); err != nil {
		return err
	}
	existed := true
	if _, err := db.Users().ByEmail(ctx, *email); errors.Is(err, store.ErrNotFound) {
		existed = false
	}
	u, err := admin.CreateAdmin(ctx, db, *email, pw)
	if err != nil {
		return err
	}
	if existed {
		fmt.Fprintf(stdout, "updated %s: role admin, new password\n", u.Email)
	} else {
		fmt.Fprintf(stdout, "created admin %s (id %d)\n", u.Email, u.ID)
	}
	if generated {
		fmt.Fprintf(stdout, "password: %s\n(shown only once)\n", pw)
	}
	return nil
}
