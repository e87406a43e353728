package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hapa-project/hapa/auth"
	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// Config is web's part of the configuration. Every zero field means the documented
// default.
type Config struct {
	AllowedOrigins    []string      // ALLOWED_ORIGINS entries (see originPattern); none: no cross-origin access
	MaxBodyBytes      int64         // request body cap; default 1 MiB
	ReadHeaderTimeout time.Duration // default 10s
	BodyReadTimeout   time.Duration // time to read a request body, per request; default 30s
	IdleTimeout       time.Duration // keep-alive idle; default 120s
	MaxHeaderBytes    int           // default 64 KiB
	SelfSignup        bool          // SELF_SIGNUP: any e-mail logs in and is auto-created (development)
	MaxKeysPerUser    int           // active API keys per user; default 5
	KeyExpiry         time.Duration // lifetime of keys from generate-api-key; default 90d
	Version           string        // reported by /health and /; default "dev"
	Environment       string        // reported by /; default "development"
	DemoKey           bool          // the demo API key is provisioned (reported by /)
	LoginDelay        time.Duration // constant delay before a failed-login answer; default 300ms
}

// Defaults of Config.
const (
	DefaultMaxBodyBytes      = 1 << 20
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultBodyReadTimeout   = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultMaxKeysPerUser    = 5
	DefaultKeyExpiry         = 90 * 24 * time.Hour
	DefaultLoginDelay        = 300 * time.Millisecond
)

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	def(&c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&c.BodyReadTimeout, DefaultBodyReadTimeout)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	def(&c.KeyExpiry, DefaultKeyExpiry)
	def(&c.LoginDelay, DefaultLoginDelay)
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.MaxKeysPerUser <= 0 {
		c.MaxKeysPerUser = DefaultMaxKeysPerUser
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Environment == "" {
		c.Environment = "development"
	}
	return c
}

// IncidentRecorder records a 5xx error and returns its incident id
// (INC-YYYYMMDD-XXXXXXXX); implemented by the ops code.
type IncidentRecorder interface {
	Record(ctx context.Context, e *realtime.Error, path, requestID string) string
}

// Deps are the collaborators of the HTTP edge, all built by cmd/hapa.
type Deps struct {
	Logger    *slog.Logger                           // default: discard
	DB        *store.DB                              // required
	Auth      *auth.Authenticator                    // credentials → caller, JWTs; required
	Upstream  Upstream                               // model servers for /code/models and /code/health; nil: "not_configured"
	Engine    realtime.Starter                       // generation engine; nil until wired (code routes answer E5005)
	Feedback  FeedbackRecorder                       // completion feedback (POST /api/v1/completions/events); nil answers E5004
	Health    func(ctx context.Context) HealthReport // dependency states; nil: database ping only
	Incidents IncidentRecorder                       // nil: 5xx carry no incident id
	Now       func() time.Time                       // default time.Now

	// DBAvailable, when set, reports whether the database answers (its breaker): while
	// it does not, the routes that need it answer 503 E5003 at once instead of waiting
	// on it. Generation routes go on serving the callers the authenticator knows.
	DBAvailable func() bool

	// ProfileChanged, when set, is called after a user's stored profile changed
	// (onboarding, settings), so cmd/hapa can drop the engine's cached copy.
	ProfileChanged func(ctx context.Context, userID int64)

	// Handlers mounted as they are when non-nil.
	Realtime http.Handler // GET /api/v1/realtime (WebSocket)
	Admin    http.Handler // /admin/ (admin console; sets its own CSP)
	Metrics  http.Handler // GET /metrics
	Static   http.Handler // GET /static/ (content-hashed console assets)

	Ops          OpsDeps               // rate limits, request metrics, operations API (web/ops.go)
	ConfigStatus func() map[string]any // GET /api/v1/config/status: effective config, secrets redacted
}

// Server is the HTTP edge: routes, middleware and handlers over Deps.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	now     func() time.Time
	started time.Time
	origins originPolicy
	tokens  *auth.Tokens
	handler http.Handler // the full surface
	dbm     http.Handler // the DB-module routes only

	dummyOnce sync.Once // dummyHash is made on the first failed login
	dummyHash string
	pwSlots   chan struct{} // bounds concurrent password checks
	draining  atomic.Bool   // shutting down: /readyz answers 503 (Drain)
	openapi   openAPIOnce   // the OpenAPI document, built on first use
}

// New builds the server; it fails on an invalid configuration.
func New(cfg Config, deps Deps) (*Server, error) {
	cfg = cfg.withDefaults()
	var errs []error
	if deps.DB == nil {
		errs = append(errs, errors.New("web: Deps.DB is required"))
	}
	if deps.Auth == nil {
		errs = append(errs, errors.New("web: Deps.Auth is required"))
	}
	origins, err := parseOrigins(cfg.AllowedOrigins)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, deps: deps, log: deps.Logger, now: deps.Now, origins: origins,
		pwSlots: make(chan struct{}, maxPasswordChecks)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.started = s.now()
	s.tokens = deps.Auth.Tokens()
	full := http.NewServeMux()
	s.routes(full)
	s.handler = s.chain(s.dispatch(full))
	dbm := http.NewServeMux()
	s.dbModuleRoutes(dbm)
	s.dbModuleOnly(dbm)
	s.dbm = s.chain(s.dispatch(dbm))
	return s, nil
}

// Handler is the whole HTTP surface with its middleware.
func (s *Server) Handler() http.Handler { return s.handler }

// DBModuleHandler serves only the DB-module routes (/auth, /users/me, /settings,
// /history, /health), for DB_MODULE_PORT.
func (s *Server) DBModuleHandler() http.Handler { return s.dbm }

// chain wraps h in the middleware, outermost first. Recovery sits inside the header
// middleware so that a panic's error body still gets CORS and security headers.
func (s *Server) chain(h http.Handler) http.Handler {
	mws := []func(http.Handler) http.Handler{
		requestID,
		accessLog(s.log),
		s.metrics, // ops: request metrics (web/metrics.go)
		processTime,
		securityHeaders,
		s.cors(s.origins),
		s.recoverPanics,
		s.limitBody(s.cfg.MaxBodyBytes, s.cfg.BodyReadTimeout),
	}
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// NewHTTPServer returns an http.Server for h with explicit timeouts. There is no
// server-wide WriteTimeout: it would cut SSE streams and WebSockets; handlers bound their
// own work. Bodies get their read deadline per request (Config.BodyReadTimeout, set in
// limitBody only for requests that have a body) instead of a ReadTimeout, so the
// deadline is configured in one place with the body size limit.
func NewHTTPServer(cfg Config, h http.Handler) *http.Server {
	cfg = cfg.withDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
	}
}
