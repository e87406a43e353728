package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// cmdKeys manages API keys from the command line: create, list, revoke.
func cmdKeys(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: hapa keys create|list|revoke [flags]")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	fs.SetOutput(stdout)
	var (
		scopes    = fs.String("scopes", "code_generation,code_completion", "comma-separated: code_generation, code_completion, history, admin")
		expiresIn = fs.String("expires-in", "", "lifetime such as 30d, 12h or never (default API_KEY_EXPIRY_DAYS)")
		name      = fs.String("name", "cli", "a label for the key")
		owner     = fs.String("user", "", "owner e-mail (created when missing)")
		tpm       = fs.Int("tokens-per-minute", 0, "token quota per minute (0 = unlimited)")
		tpd       = fs.Int("tokens-per-day", 0, "token quota per day (0 = unlimited)")
		status    = fs.String("status", "all", "list filter: active, revoked, expired, all")
	)
	cfg, pos, err := parseConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := ensureMigrated(ctx, db, cfg); err != nil {
		return err
	}
	keys := db.APIKeys()
	switch sub {
	case "create":
		sc := store.ParseScopes(*scopes)
		if err := validScopes(sc); err != nil {
			return err
		}
		exp, err := keyExpiry(*expiresIn, cfg.APIKeyExpiryDays, time.Now())
		if err != nil {
			return err
		}
		nk := store.NewKey{Name: *name, Scopes: sc, ExpiresAt: exp, TokensPerMinute: *tpm, TokensPerDay: *tpd}
		if *owner != "" {
			u, err := ensureUser(ctx, db, *owner)
			if err != nil {
				return err
			}
			nk.UserID = &u.ID
		}
		plain, k, err := keys.Create(ctx, nk)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n\nid %d, prefix %s, scopes %s, expires %s\nThe key is shown only once: store it now.\n",
			plain, k.ID, k.Prefix, k.Scopes, fmtTime(k.ExpiresAt))
		return nil
	case "list":
		list, total, err := keys.List(ctx, store.KeyFilter{Status: store.KeyStatus(*status), Limit: 1000})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPREFIX\tNAME\tOWNER\tSCOPES\tSTATUS\tCREATED\tEXPIRES\tLAST USED")
		now := time.Now()
		for _, k := range list {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, k.Name, k.OwnerEmail, k.Scopes,
				k.Status(now), k.CreatedAt.Format(time.DateTime), fmtTime(k.ExpiresAt), fmtTime(k.LastUsedAt))
		}
		tw.Flush()
		fmt.Fprintf(stdout, "%d keys\n", total)
		return nil
	case "revoke":
		if len(pos) != 1 {
			return errors.New("usage: hapa keys revoke ID|PREFIX")
		}
		id, err := findKey(ctx, keys, pos[0])
		if err != nil {
			return err
		}
		if err := keys.Revoke(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked key %d\n", id)
		announceRevocation(ctx, cfg, id, stdout)
		return nil
	}
	return fmt.Errorf("unknown keys command %q (create, list, revoke)", sub)
}

// announceRevocation tells running replicas through Redis, when configured, so they
// end the key's streams and sockets and drop it from their caches at once; without
// Redis each replica reads the revocation from the database within
// REVOCATION_CHECK_INTERVAL.
func announceRevocation(ctx context.Context, cfg Config, id int64, stdout io.Writer) {
	if cfg.RedisURL == "" {
		fmt.Fprintf(stdout, "running servers end its streams and refuse it within REVOCATION_CHECK_INTERVAL (%s)\n", cfg.RevocationCheck)
		return
	}
	rdb, err := store.NewRedis(cfg.RedisURL)
	if err == nil {
		defer rdb.Close()
		err = realtime.NewEvents(rdb, cfg.RedisPrefix, nil).Publish(ctx, realtime.ClusterEvent{Type: realtime.EventKeyRevoked, KeyID: id})
	}
	if err != nil {
		fmt.Fprintf(stdout, "warning: could not notify running servers through Redis (%v); they notice within %s\n", err, cfg.RevocationCheck)
	}
}

// ensureMigrated migrates a fresh SQLite database so the CLI works before the first
// serve; PostgreSQL must be migrated explicitly.
func ensureMigrated(ctx context.Context, db *store.DB, cfg Config) error {
	fresh, err := db.IsFresh(ctx)
	if err != nil {
		return err
	}
	if fresh && (db.Dialect() == store.SQLite || cfg.AutoMigrate) {
		_, err = db.Migrate(ctx)
		return err
	}
	if fresh {
		return errors.New("database is not migrated: run `hapa migrate` first")
	}
	return nil
}

func validScopes(sc store.Scopes) error {
	if len(sc) == 0 {
		return errors.New("--scopes: at least one scope is required")
	}
	for _, s := range sc {
		switch s {
		case store.ScopeCodeGeneration, store.ScopeCodeCompletion, store.ScopeHistory, store.ScopeAdmin:
		default:
			return fmt.Errorf("--scopes: unknown scope %q (code_generation, code_completion, history, admin)", s)
		}
	}
	return nil
}

// keyExpiry turns "30d", "12h", "never" or "" (the default lifetime) into an expiry.
func keyExpiry(s string, defaultDays int, now time.Time) (*time.Time, error) {
	var d time.Duration
	switch {
	case s == "never":
		return nil, nil
	case s == "":
		if defaultDays == 0 {
			return nil, nil
		}
		d = time.Duration(defaultDays) * 24 * time.Hour
	case strings.HasSuffix(s, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("--expires-in: %q is not a number of days", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	default:
		var err error
		if d, err = time.ParseDuration(s); err != nil || d <= 0 {
			return nil, fmt.Errorf("--expires-in: %q is not a duration (30d, 12h, never)", s)
		}
	}
	t := now.Add(d).UTC()
	return &t, nil
}

func findKey(ctx context.Context, keys *store.APIKeys, ref string) (int64, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return id, nil
	}
	list, _, err := keys.List(ctx, store.KeyFilter{Query: ref, Limit: 2})
	if err != nil {
		return 0, err
	}
	switch len(list) {
	case 0:
		return 0, fmt.Errorf("no key matches %q", ref)
	case 1:
		return list[0].ID, nil
	}
	return 0, fmt.Errorf("%q matches several keys: use the id", ref)
}

func ensureUser(ctx context.Context, db *store.DB, email string) (store.User, error) {
	u, err := db.Users().ByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return db.Users().Create(ctx, store.User{Email: email, Name: strings.Split(email, "@")[0], Role: "user"})
	}
	return u, err
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Local().Format(time.DateTime)
}
