package ws

import (
	"context"
	"log/slog"
	"time"

	"github.com/hapa-project/hapa/auth"
	"github.com/hapa-project/hapa/realtime"
)

// Config configures the WebSocket hub. A zero field means the documented default.
type Config struct {
	MaxMessageBytes    int64         // WS_MAX_MESSAGE_BYTES: largest client frame; default 256 KiB (larger → close 1009)
	MaxStreams         int           // WS_MAX_STREAMS: concurrent streams per socket; default 8 (over → stream.error E4014)
	MaxConnsPerKey     int           // sockets per API key (or JWT user); default 16 (over → close 4029); negative: unlimited
	WriteTimeout       time.Duration // WS_WRITE_TIMEOUT: longest a frame may take to write; default 10s (over → 4008)
	PingInterval       time.Duration // WS_PING_INTERVAL: keepalive ping period; default 30s
	PongTimeout        time.Duration // wait for a pong; default 10s (over → the TCP connection is dropped)
	SendQueue          int           // control frames queued per socket; default 256, above FrameBurst (over → 4008)
	FrameRate          float64       // client frames per second per socket (token bucket); default 50
	FrameBurst         int           // bucket size; default 100. More rejected frames than this in one second → close 1008
	RevalidateInterval time.Duration // how often a session re-checks its key; default 30s
	AllowedOrigins     []string      // ALLOWED_ORIGINS: "scheme://host[:port]" patterns (path.Match), "*" for any
	ServerVersion      string        // reported in session.created
	ReconnectAfter     time.Duration // reconnect_after_ms of session.closing; default 2s
}

func (c Config) withDefaults() Config {
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 256 << 10
	}
	if c.MaxStreams <= 0 {
		c.MaxStreams = 8
	}
	if c.MaxConnsPerKey == 0 {
		c.MaxConnsPerKey = 16
	}
	setDur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	setDur(&c.WriteTimeout, 10*time.Second)
	setDur(&c.PingInterval, 30*time.Second)
	setDur(&c.PongTimeout, 10*time.Second)
	setDur(&c.RevalidateInterval, 30*time.Second)
	setDur(&c.ReconnectAfter, 2*time.Second)
	if c.SendQueue <= 0 {
		c.SendQueue = 256
	}
	if c.FrameRate <= 0 {
		c.FrameRate = 50
	}
	if c.FrameBurst <= 0 {
		c.FrameBurst = 100
	}
	if c.ServerVersion == "" {
		c.ServerVersion = "dev"
	}
	return c
}

func (c Config) limits() Limits {
	return Limits{MaxStreams: c.MaxStreams, MaxMessageBytes: c.MaxMessageBytes,
		PingIntervalMS: c.PingInterval.Milliseconds(), WriteTimeoutMS: c.WriteTimeout.Milliseconds(),
		FrameRate: c.FrameRate, FrameBurst: c.FrameBurst, MaxConnsPerKey: max(c.MaxConnsPerKey, 0)}
}

// Admitter applies per-key rate limits and token quotas. group is "completion" or
// "generation". A refusal (E4004 with RetryAfter, E4016) becomes a stream.error.
type Admitter interface {
	Admit(ctx context.Context, c realtime.Caller, group string) *realtime.Error
}

// Observer receives the hub's metrics events. Calls are synchronous and must be
// cheap (counter increments).
type Observer interface {
	SessionOpened()
	SessionClosed(code int) // the close status; 4008 counts slow consumers
	StreamOpened(kind realtime.Kind)
	StreamClosed(kind realtime.Kind, outcome string) // done | cancelled | error
	FrameReceived(eventType string)                  // "invalid" for an undecodable frame
	FrameSent(eventType string, bytes int)
}

// ConnLeases counts a key's sockets across replicas for MaxConnsPerKey;
// *limits.Sockets implements it. Acquire's error means it cannot tell (no Redis): the
// hub then counts this replica's sockets only.
type ConnLeases interface {
	Acquire(ctx context.Context, key, session string, max int) (bool, error)
	Release(key, session string)
}

// Deps are the hub's collaborators. Engine and Auth are required.
//
// Auth authenticates the upgrade (X-API-Key, Authorization: Bearer, or the
// hapa.auth.<key> subprotocol of browsers; a failure is answered with HTTP 401/403
// before any upgrade) and re-checks a live socket's key every RevalidateInterval:
// E4003/E4006/E4007 close the socket with 4001, other errors (a database outage) are
// logged and the socket stays open. It is the same authenticator web uses.
type Deps struct {
	Engine   realtime.Starter
	Auth     *auth.Authenticator
	Admit    Admitter   // nil: no limits
	Leases   ConnLeases // nil: MaxConnsPerKey counts this replica's sockets
	Logger   *slog.Logger
	Observer Observer // nil: none
	// Feedback takes completion.feedback (nil: answered E5004).
	Feedback FeedbackRecorder
}

// FeedbackRecorder takes completion feedback; *realtime.FeedbackRecorder implements it.
type FeedbackRecorder interface {
	Record(caller realtime.Caller, f realtime.Feedback) *realtime.Error
}

type nopObserver struct{}

func (nopObserver) SessionOpened()                     {}
func (nopObserver) SessionClosed(int)                  {}
func (nopObserver) StreamOpened(realtime.Kind)         {}
func (nopObserver) StreamClosed(realtime.Kind, string) {}
func (nopObserver) FrameReceived(string)               {}
func (nopObserver) FrameSent(string, int)              {}
