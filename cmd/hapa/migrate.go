package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/hapa-project/hapa/store"
)

// cmdMigrate applies pending migrations and prints what it applied.
func cmdMigrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stdout)
	status := fs.Bool("status", false, "list pending migrations without applying them")
	cfg, _, err := parseConfig(fs, args, getenv)
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
	if *status {
		pending, err := db.PendingMigrations(ctx)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			fmt.Fprintln(stdout, "up to date")
		}
		for _, m := range pending {
			fmt.Fprintln(stdout, "pending", m.Name)
		}
		return nil
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
