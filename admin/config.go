package admin

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/hapa-project/hapa/auth"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm"
)

// accountWindow is how long an account's failed logins count (loginGate).
const accountWindow = 15 * time.Minute

// Config tunes the console; a zero field means the documented default.
type Config struct {
	// SessionIdle ends a session unused this long (default 30 min).
	SessionIdle time.Duration
	// SessionAbsolute ends every session this long after login (default 12 h).
	SessionAbsolute time.Duration
	// LoginAttempts is how many failed logins one address may make per minute before
	// its further attempts are refused, and how many an account may take in 15 minutes
	// before attempts on it are slowed down (default 5; login.go, loginGate).
	LoginAttempts int
	// LoginDelay is the pause before answering a failed login, and the first
	// progressive delay of an account under attack (default 400 ms).
	LoginDelay time.Duration
	// LoginDelayMax caps the progressive delay (default 10 s).
	LoginDelayMax time.Duration
	// RealtimeURL is the WebSocket endpoint the playground connects to; empty means
	// ws(s)://<the request's host>/api/v1/realtime.
	RealtimeURL string
	// PlaygroundKeyTTL is the lifetime of the playground's key (default 1 h).
	PlaygroundKeyTTL time.Duration
	// TrustForwardedProto makes "X-Forwarded-Proto: https" count as TLS when deciding
	// the cookie's Secure flag (set it only behind a proxy that sets the header).
	TrustForwardedProto bool
	// Version is shown in the footer.
	Version string
	// Replica names this process on the figures that are its own rather than the
	// cluster's — open sockets, active streams, cache hits and misses (docs/admin.md,
	// "Figures of this replica"). Default: the host name and the process id.
	Replica string
}

func (c Config) withDefaults() Config {
	if c.SessionIdle <= 0 {
		c.SessionIdle = 30 * time.Minute
	}
	if c.SessionAbsolute <= 0 {
		c.SessionAbsolute = 12 * time.Hour
	}
	if c.LoginAttempts <= 0 {
		c.LoginAttempts = 5
	}
	if c.LoginDelay <= 0 {
		c.LoginDelay = 400 * time.Millisecond
	}
	if c.LoginDelayMax <= 0 {
		c.LoginDelayMax = 10 * time.Second
	}
	if c.PlaygroundKeyTTL <= 0 {
		c.PlaygroundKeyTTL = time.Hour
	}
	if c.Replica == "" {
		c.Replica = DefaultReplica()
	}
	return c
}

// Deps are the console's collaborators. DB is required; every other field may be nil
// and the page that needs it then says the data is unavailable.
type Deps struct {
	// DB holds users, keys, settings, admin sessions, incidents and the request log.
	DB *store.DB
	// Cache lists and clears the response-cache namespaces.
	Cache CacheAdmin
	// Upstreams reports the vLLM replicas.
	Upstreams Upstreams
	// Realtime reports open sockets and streams (the WebSocket hub).
	Realtime Realtime
	// Usage aggregates the request log (overview, users); nil means DB's request log.
	Usage Usage
	// Incidents reads recorded errors (errors page); nil means DB's incidents table.
	Incidents Incidents
	// OnRevoke is called after a key is revoked or rotated away, so its sockets close
	// on every replica.
	OnRevoke func(keyID int64)
	// DBAvailable reports whether the database is believed up (its breaker is
	// closed); while it answers false every page but the login form answers 503 at
	// once. Nil means always.
	DBAvailable func() bool
	// Tokens refuses the JWTs of a disabled or deleted user on every replica
	// (auth.Tokens.RevokeUser); nil: their JWTs work until they expire.
	Tokens *auth.Tokens
	Logger *slog.Logger
	Now    func() time.Time
}

// CacheAdmin is the cache page's view of the response cache; *store.MemoryCache and
// *store.RedisCache satisfy it.
type CacheAdmin interface {
	// Stats returns the counters of every namespace seen so far.
	Stats(ctx context.Context) map[string]store.CacheStats
	// Clear empties one namespace ("" = all) and returns how many entries went.
	Clear(ctx context.Context, ns string) (int, error)
}

// Upstreams is the upstreams page's view of the vLLM pool.
type Upstreams interface {
	Replicas() []vllm.ReplicaState
	// Simulated reports whether the built-in simulator serves the requests.
	Simulated() bool
}

// Realtime is the overview's view of the WebSocket hub (cmd/hapa adapts *ws.Hub).
type Realtime interface {
	Stats() SocketStats
}

// SocketStats counts this replica's open editor sockets and their streams (not the
// cluster's: the console labels them with Config.Replica).
type SocketStats struct {
	Sessions int
	Streams  int
}

// DefaultReplica is Config.Replica's default: "<host name> (pid <n>)".
func DefaultReplica() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown host"
	}
	return fmt.Sprintf("%s (pid %d)", host, os.Getpid())
}
