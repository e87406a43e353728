package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/hapa-project/hapa/admin"
	"github.com/hapa-project/hapa/store"
	"github.com/spf13/cobra"
)

// adminCmd is `hapa admin create-user`: admin console accounts.
func adminCmd(getenv func(string) string) *cobra.Command {
	create := &cobra.Command{
		Use:   "create-user --email E [--password P]",
		Short: "Create an admin account, or make an account admin with a new password",
		Long: `Create an admin console account, or give an existing account the admin role and a new
password. Without --password (or HAPA_ADMIN_NEW_PASSWORD) a password is generated and
printed once.`,
		Example: `  hapa admin create-user --email ops@example.com
  HAPA_ADMIN_NEW_PASSWORD='correct horse battery' hapa admin create-user --email ops@example.com`,
		Args: cobra.NoArgs,
	}
	email := create.Flags().String("email", "", "login e-mail (required)")
	password := create.Flags().String("password", "", "password (generated and printed once when empty; env HAPA_ADMIN_NEW_PASSWORD)")
	_ = create.MarkFlagRequired("email")
	configFlags(create, "DATABASE_URL", "AUTO_MIGRATE")
	create.RunE = func(c *cobra.Command, _ []string) error {
		return cmdAdminCreate(c, getenv, *email, *password, c.OutOrStdout())
	}
	return groupCmd("admin", "Manage admin console accounts", "Manage admin console accounts in the database of DATABASE_URL.", create)
}

// cmdAdminCreate creates or updates one admin account.
func cmdAdminCreate(c *cobra.Command, getenv func(string) string, email, password string, stdout io.Writer) error {
	ctx := c.Context()
	cfg, err := cmdConfig(c, getenv)
	if err != nil {
		return err
	}
	pw := password
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
	if _, err := db.Users().ByEmail(ctx, email); errors.Is(err, store.ErrNotFound) {
		existed = false
	}
	u, err := admin.CreateAdmin(ctx, db, email, pw)
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
