package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/spf13/cobra"
)

// migrateCmd is `hapa migrate`: apply pending migrations, or list them all.
func migrateCmd(getenv func(string) string) *cobra.Command {
	c := &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations (--status lists them)",
		Long: `Apply the pending database migrations of DATABASE_URL, each in its own transaction;
replicas migrating at once apply every file exactly once. A fresh SQLite file is also
migrated by serve; PostgreSQL only with AUTO_MIGRATE=true.`,
		Example: `  DATABASE_URL=postgres://postgres@127.0.0.1:5432/hapa?sslmode=disable hapa migrate
  hapa migrate --status --database-url sqlite:///./data/hapa.db`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			status, _ := c.Flags().GetBool("status")
			return cmdMigrate(c.Context(), c, getenv, status, c.OutOrStdout())
		},
	}
	c.Flags().Bool("status", false, "list every migration and whether it is applied; apply nothing")
	configFlags(c, "DATABASE_URL")
	return c
}

// cmdMigrate applies pending migrations and prints what it applied, or with status
// lists every migration with the time it was applied.
func cmdMigrate(ctx context.Context, c *cobra.Command, getenv func(string) string, status bool, stdout io.Writer) error {
	cfg, err := cmdConfig(c, getenv)
	if err != nil {
		return err
	}
	if err := prepareSQLite(cfg.DatabaseURL, func(t sqliteTarget) {
		if t.Warning != "" {
			fmt.Fprintln(stdout, "warning:", t.Warning)
		}
		fmt.Fprintln(stdout, "sqlite file", t.Abs)
	}); err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if status {
		return migrationStatus(ctx, db, stdout)
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "up to date")
		return nil
	}
	fmt.Fprintln(stdout, "applied", strings.Join(applied, ", "))
	return nil
}

// migrationStatus prints one line per migration: applied (with when) or pending.
func migrationStatus(ctx context.Context, db *store.DB, stdout io.Writer) error {
	all, unknown, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tMIGRATION\tAPPLIED AT")
	pending := 0
	for _, m := range all {
		if m.AppliedAt == nil {
			pending++
			fmt.Fprintf(tw, "pending\t%s\t-\n", m.Name)
			continue
		}
		fmt.Fprintf(tw, "applied\t%s\t%s\n", m.Name, m.AppliedAt.UTC().Format(time.RFC3339))
	}
	for _, m := range unknown {
		fmt.Fprintf(tw, "unknown\t%s\t(applied by a newer hapa)\n", m.Name)
	}
	tw.Flush()
	switch {
	case pending == 0:
		fmt.Fprintf(stdout, "%s: up to date (%d migrations)\n", db.Dialect(), len(all))
	default:
		fmt.Fprintf(stdout, "%s: %d of %d pending: run hapa migrate\n", db.Dialect(), pending, len(all))
	}
	return nil
}

// openStore opens the database for serve and applies migrations when allowed: a fresh
// SQLite database is always migrated (so `make run` needs nothing), PostgreSQL only with
// AUTO_MIGRATE=true. A database with pending migrations is refused otherwise.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (*store.DB, error) {
	if err := prepareSQLite(cfg.DatabaseURL, func(t sqliteTarget) {
		if t.Warning != "" {
			log.Warn(t.Warning)
		}
		log.Info("database", "sqlite", t.Abs)
	}); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	migrate := cfg.AutoMigrate
	if db.Dialect() == store.SQLite {
		fresh, err := db.IsFresh(ctx)
		if err != nil {
			db.Close()
			return nil, err
		}
		migrate = migrate || fresh
	}
	if migrate {
		applied, err := db.Migrate(ctx)
		if err != nil {
			db.Close()
			return nil, err
		}
		if len(applied) > 0 {
			log.Info("migrations applied", "files", applied)
		}
		return db, nil
	}
	pending, err := db.PendingMigrations(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if len(pending) > 0 {
		db.Close()
		return nil, fmt.Errorf("database has %d pending migrations (first %s): run `hapa migrate` or set AUTO_MIGRATE=true", len(pending), pending[0].Name)
	}
	return db, nil
}
