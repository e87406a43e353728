package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
	"github.com/spf13/cobra"
)

// keysSettings are the configuration flags the keys commands read and show.
func keysSettings() []string {
	return []string{"DATABASE_URL", "AUTO_MIGRATE", "API_KEY_EXPIRY_DAYS", "REDIS_URL", "REDIS_PREFIX", "REVOCATION_CHECK_INTERVAL"}
}

// keysCmd is `hapa keys create|list|revoke`: API keys from the command line, straight
// in the database (a fresh SQLite file is migrated first).
func keysCmd(getenv func(string) string) *cobra.Command {
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API key (printed once)",
		Long: `Create an API key and print it once: only its SHA-256 hash is stored. With --user the
key belongs to that account (created when missing), so it can also sign in to the
DB-module routes and see its history.`,
		Example: `  hapa keys create --user dev@example.com
  hapa keys create --name ci --scopes code_completion --expires-in 30d --tokens-per-day 200000
  hapa keys create --scopes admin --expires-in 12h --name oncall`,
		Args: cobra.NoArgs,
	}
	var o keyOptions
	fs := create.Flags()
	fs.StringSliceVar(&o.scopes, "scopes", []string{"code_generation", "code_completion"}, "comma-separated: code_generation, code_completion, history, admin")
	fs.StringVar(&o.expiresIn, "expires-in", "", "lifetime: 30d, 12h, never (default API_KEY_EXPIRY_DAYS)")
	fs.StringVar(&o.name, "name", "cli", "a label for the key")
	fs.StringVar(&o.owner, "user", "", "owner `e-mail` (the account is created when missing)")
	fs.IntVar(&o.tpm, "tokens-per-minute", 0, "token quota per minute (0 = unlimited)")
	fs.IntVar(&o.tpd, "tokens-per-day", 0, "token quota per day (0 = unlimited)")
	configFlags(create, keysSettings()...)
	create.RunE = func(c *cobra.Command, _ []string) error {
		return withKeys(c, getenv, func(ctx context.Context, cfg Config, db *store.DB) error {
			return keysCreate(ctx, cfg, db, o, c.OutOrStdout())
		})
	}

	list := &cobra.Command{
		Use:     "list",
		Short:   "List API keys (never the keys themselves)",
		Example: "  hapa keys list\n  hapa keys list --status revoked",
		Args:    cobra.NoArgs,
	}
	status := list.Flags().String("status", "all", "filter: active, revoked, expired, all")
	configFlags(list, keysSettings()...)
	list.RunE = func(c *cobra.Command, _ []string) error {
		return withKeys(c, getenv, func(ctx context.Context, _ Config, db *store.DB) error {
			return keysList(ctx, db, *status, c.OutOrStdout())
		})
	}

	revoke := &cobra.Command{
		Use:   "revoke ID|PREFIX",
		Short: "Revoke an API key (id or display prefix)",
		Long: `Revoke an API key by id or display prefix. Running servers end its streams and refuse it
at once when REDIS_URL is set (the revocation is announced there), otherwise within
REVOCATION_CHECK_INTERVAL.`,
		Example: "  hapa keys revoke 12\n  hapa keys revoke hapa_3f9c",
	}
	revoke.Args = func(c *cobra.Command, args []string) error {
		if len(args) != 1 {
			return errUsage(c)
		}
		return nil
	}
	configFlags(revoke, keysSettings()...)
	revoke.RunE = func(c *cobra.Command, args []string) error {
		return withKeys(c, getenv, func(ctx context.Context, cfg Config, db *store.DB) error {
			return keysRevoke(ctx, cfg, db, args[0], c.OutOrStdout())
		})
	}
	return groupCmd("keys", "Create, list and revoke API keys", "Create, list and revoke API keys in the database of DATABASE_URL.", create, list, revoke)
}

// keyOptions are the flags of `hapa keys create`.
type keyOptions struct {
	scopes                 []string
	expiresIn, name, owner string
	tpm, tpd               int
}

// withKeys loads the configuration, opens (and if fresh, migrates) the database and
// runs fn.
func withKeys(c *cobra.Command, getenv func(string) string, fn func(context.Context, Config, *store.DB) error) error {
	ctx := c.Context()
	cfg, err := cmdConfig(c, getenv)
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
	return fn(ctx, cfg, db)
}

func keysCreate(ctx context.Context, cfg Config, db *store.DB, o keyOptions, stdout io.Writer) error {
	sc := store.ParseScopes(strings.Join(o.scopes, ","))
	if err := validScopes(sc); err != nil {
		return err
	}
	exp, err := keyExpiry(o.expiresIn, cfg.APIKeyExpiryDays, time.Now())
	if err != nil {
		return err
	}
	nk := store.NewKey{Name: o.name, Scopes: sc, ExpiresAt: exp, TokensPerMinute: o.tpm, TokensPerDay: o.tpd}
	if o.owner != "" {
		u, err := ensureUser(ctx, db, o.owner)
		if err != nil {
			return err
		}
		nk.UserID = &u.ID
	}
	plain, k, err := db.APIKeys().Create(ctx, nk)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n\nid %d, prefix %s, scopes %s, expires %s\nThe key is shown only once: store it now.\n",
		plain, k.ID, k.Prefix, k.Scopes, fmtTime(k.ExpiresAt))
	return nil
}

func keysList(ctx context.Context, db *store.DB, status string, stdout io.Writer) error {
	switch status {
	case "active", "revoked", "expired", "all":
	default:
		return fmt.Errorf("--status: %q is not one of active, revoked, expired, all", status)
	}
	list, total, err := db.APIKeys().List(ctx, store.KeyFilter{Status: store.KeyStatus(status), Limit: 1000})
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
}

func keysRevoke(ctx context.Context, cfg Config, db *store.DB, ref string, stdout io.Writer) error {
	keys := db.APIKeys()
	id, err := findKey(ctx, keys, ref)
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
