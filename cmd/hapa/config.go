package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hapa-project/hapa/realtime/codectx"
	"github.com/hapa-project/hapa/realtime/limits"
	"github.com/hapa-project/hapa/vllm"
)

// Config is the effective configuration of one hapa process. Every field has an
// environment variable (README, "Configuration": the seed's names and defaults) and a
// flag of the same name in lower case with dashes (DATABASE_URL → --database-url).
type Config struct {
	Environment string
	Debug       bool
	Host        string
	Port        int
	SecretKey   string
	Version     string

	APIKeyExpiryDays   int
	APIKeyCacheTTL     time.Duration
	DemoAPIKey         bool
	SelfSignup         bool
	MaxKeysPerUser     int
	AdminPassword      string
	AllowedOrigins     []string
	PublicURL          string // PUBLIC_URL: the console's address as browsers reach it (config_public.go)
	MaxBodyBytes       int64
	ShutdownTimeout    time.Duration
	ShutdownDrainDelay time.Duration
	DBModulePort       int
	MetricsAddr        string
	PprofAddr          string
	MaxWorkers         int
	GCMinHeapMB        int
	TrustedProxies     []netip.Prefix

	DatabaseURL string
	AutoMigrate bool
	RedisURL    string
	RedisPrefix string
	SpoolDir    string
	SpoolMaxMB  int

	RevocationCheck time.Duration
	APIKeyStaleTTL  time.Duration

	CacheTTL            time.Duration
	MaxCacheSize        int
	CacheScope          string
	CacheMaxTemperature float64

	AIModelAPIKey   string
	AIModelEndpoint string
	VLLMServerURLs  []string
	VLLMModelFamily string
	VLLMBaseModel   string

	CompletionLanguages []string // COMPLETION_LANGUAGES; empty: the family's list
	ContextTokenBudget  int      // CONTEXT_TOKEN_BUDGET; 0: context snippets unused
	VLLMAdapters        string
	VLLMConnect         time.Duration
	VLLMFirstToken      time.Duration
	VLLMIdle            time.Duration
	RequestTimeout      time.Duration
	SimTTFT             time.Duration
	SimITL              time.Duration

	RateLimitEnabled       bool
	DefaultRateLimit       int
	RateLimitWindowMinutes int
	RateLimitRules         string

	ErrorMonitoring    bool
	ErrorRetentionDays int
	RequestLogDays     int
	IncidentTracking   bool

	LogLevel          string
	StructuredLogging bool
	LogFile           string
	LogFileRotation   bool
	LogMaxSize        int64 // bytes

	WSMaxMessageBytes int64
	WSMaxStreams      int
	WSMaxConnsPerKey  int
	WSWriteTimeout    time.Duration
	WSPingInterval    time.Duration
}

// setting is one configuration variable: its name, default, whether it is secret, and
// how it is parsed into Config.
type setting struct {
	env    string
	def    string
	secret bool
	help   string
	set    parser
}

func settings() []setting {
	return []setting{
		{"ENVIRONMENT", "development", false, "development | staging | production", str(func(c *Config) *string { return &c.Environment })},
		{"DEBUG", "false", false, "debug-level logs (overrides LOG_LEVEL)", boolean(func(c *Config) *bool { return &c.Debug })},
		{"HOST", "0.0.0.0", false, "listen address", str(func(c *Config) *string { return &c.Host })},
		{"PORT", "8000", false, "listen port", integer(func(c *Config) *int { return &c.Port }, 0, 65535)},
		{"SECRET_KEY", "", true, "JWT signing key (≥ 32 chars; required in production)", str(func(c *Config) *string { return &c.SecretKey })},
		{"API_KEY_EXPIRY_DAYS", "90", false, "default lifetime of new API keys (0 = never)", integer(func(c *Config) *int { return &c.APIKeyExpiryDays }, 0, 36500)},
		{"API_KEY_CACHE_TTL", "5s", false, "how long a key lookup is cached per replica (revocations through the API, the console or Redis events apply at once)", duration(func(c *Config) *time.Duration { return &c.APIKeyCacheTTL })},
		{"API_KEY_STALE_TTL", "15m", false, "while the database is down, keys seen this recently keep working (their last known state; revocations still arrive through Redis)", duration(func(c *Config) *time.Duration { return &c.APIKeyStaleTTL })},
		{"DEMO_API_KEY_ENABLED", "false", false, "provision the original demo key (development only)", boolean(func(c *Config) *bool { return &c.DemoAPIKey })},
		{"SELF_SIGNUP", "false", false, "log in with an e-mail only and create the account (the original's flow)", boolean(func(c *Config) *bool { return &c.SelfSignup })},
		{"MAX_KEYS_PER_USER", "5", false, "active API keys a user may hold", integer(func(c *Config) *int { return &c.MaxKeysPerUser }, 1, 1000)},
		{"ADMIN_PASSWORD", "", true, "password of the first admin (generated and printed once when empty)", str(func(c *Config) *string { return &c.AdminPassword })},
		{"ALLOWED_ORIGINS", "http://localhost:3000,vscode-webview://*", false, "comma-separated origins (scheme://host[:port], * wildcard in host)", list(func(c *Config) *[]string { return &c.AllowedOrigins })},
		{"PUBLIC_URL", "", false, "the address browsers reach the gateway at, https://host[:port]: the admin playground's socket origin (empty: the page's own host, accepted on loopback names only)", publicURL(func(c *Config) *string { return &c.PublicURL })},
		{"MAX_BODY_BYTES", "1048576", false, "largest accepted request body", int64v(func(c *Config) *int64 { return &c.MaxBodyBytes }, 1024, 1<<30)},
		{"SHUTDOWN_TIMEOUT", "15s", false, "how long in-flight requests and streams may finish after SIGTERM (and the drain delay); then they end with a retryable E5005", duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
		{"SHUTDOWN_DRAIN_DELAY", "0s", false, "after SIGTERM, how long /readyz answers 503 while everything is still served, so the load balancer stops sending first (its health-check period × failure threshold)", duration(func(c *Config) *time.Duration { return &c.ShutdownDrainDelay })},
		{"DB_MODULE_PORT", "0", false, "also serve the DB-module routes on this port (0 = off)", integer(func(c *Config) *int { return &c.DBModulePort }, 0, 65535)},
		{"METRICS_ADDR", "", false, "serve /metrics on a separate address (empty = main port)", str(func(c *Config) *string { return &c.MetricsAddr })},
		{"PPROF_ADDR", "", false, "serve Go's /debug/pprof/ profiles on this address, e.g. 127.0.0.1:6060 (empty = off; never a public one)", str(func(c *Config) *string { return &c.PprofAddr })},
		{"TRUSTED_PROXIES", "", false, "comma-separated CIDRs whose X-Forwarded-For is believed for per-IP limits", prefixes(func(c *Config) *[]netip.Prefix { return &c.TrustedProxies })},
		{"MAX_WORKERS", "0", false, "GOMAXPROCS when > 0", integer(func(c *Config) *int { return &c.MaxWorkers }, 0, 1024)},
		{"GC_MIN_HEAP_MB", "16", false, "the Go collector's smallest heap goal, MiB: fewer collections while the live heap is small (0 = Go's own 4 MiB; GOGC still applies above it)", integer(func(c *Config) *int { return &c.GCMinHeapMB }, 0, 1<<20)},

		{"DATABASE_URL", "sqlite:///./data/hapa.db", true, "sqlite:////abs/path.db (four slashes: absolute), sqlite:///rel/path.db (relative to the working directory), sqlite://:memory: or postgres://…", dburl(func(c *Config) *string { return &c.DatabaseURL })},
		{"AUTO_MIGRATE", "false", false, "apply PostgreSQL migrations at start (fresh SQLite is always migrated)", boolean(func(c *Config) *bool { return &c.AutoMigrate })},
		{"REDIS_URL", "", true, "redis://host:6379/0, redis-sentinel://h1,h2/0?master=NAME or redis-cluster://h1,h2 for the shared cache, limiter and events (empty = in-process)", redisurl(func(c *Config) *string { return &c.RedisURL })},
		{"SPOOL_DIR", "", false, "where request-log rows and incidents wait while PostgreSQL is down, replayed when it returns (empty: ./data/spool with PostgreSQL, none with SQLite)", str(func(c *Config) *string { return &c.SpoolDir })},
		{"SPOOL_MAX_MB", "256", false, "largest size of the spool; past it new rows and incidents are counted and dropped", integer(func(c *Config) *int { return &c.SpoolMaxMB }, 1, 1<<20)},
		{"REDIS_PREFIX", "", false, "prefix of every Redis key and pub/sub channel, so deployments sharing a Redis server never meet (empty = hapa:<database name>:)", str(func(c *Config) *string { return &c.RedisPrefix })},
		{"REVOCATION_CHECK_INTERVAL", "5s", false, "how often each replica re-reads key revocations and logouts from the database (they arrive at once through Redis when it is set)", duration(func(c *Config) *time.Duration { return &c.RevocationCheck })},

		{"CACHE_TTL", "1800", false, "response cache lifetime, seconds", seconds(func(c *Config) *time.Duration { return &c.CacheTTL })},
		{"MAX_CACHE_SIZE", "1000", false, "in-memory cache entries", integer(func(c *Config) *int { return &c.MaxCacheSize }, 0, 10_000_000)},
		{"CACHE_SCOPE", "global", false, "global (keys share entries) | key (entries per API key)", oneOf(func(c *Config) *string { return &c.CacheScope }, "global", "key")},
		{"CACHE_MAX_TEMPERATURE", "0.3", false, "only requests at or below this temperature are cached", float(func(c *Config) *float64 { return &c.CacheMaxTemperature }, 0, 2)},

		{"AI_MODEL_API_KEY", "", true, "bearer key of the vLLM servers (--api-key)", str(func(c *Config) *string { return &c.AIModelAPIKey })},
		{"AI_MODEL_ENDPOINT", "", true, "fallback for VLLM_SERVER_URL (a /v1/... suffix is stripped)", str(func(c *Config) *string { return &c.AIModelEndpoint })},
		{"VLLM_SERVER_URL", "", true, "comma-separated vLLM replicas (empty = built-in simulator)", urls(func(c *Config) *[]string { return &c.VLLMServerURLs })},
		{"VLLM_MODEL_FAMILY", "deepseek-coder", false, "FIM template family: deepseek-coder | qwen2.5-coder | starcoder | codellama | codestral", str(func(c *Config) *string { return &c.VLLMModelFamily })},
		{"VLLM_BASE_MODEL", "deepseek-ai/deepseek-coder-6.7b-instruct", false, "base model name served by vLLM", str(func(c *Config) *string { return &c.VLLMBaseModel })},
		{"COMPLETION_LANGUAGES", "", false, "comma-separated languages completions accept, e.g. python,go,typescript (empty = every language the model family completes; docs/api.md, \"Programming languages\")", list(func(c *Config) *[]string { return &c.CompletionLanguages })},
		{"CONTEXT_TOKEN_BUDGET", "1024", false, "tokens of context_snippets packed into one prompt, estimated at 3.5 bytes per token and never past the model's max_model_len (0 = snippets unused)", integer(func(c *Config) *int { return &c.ContextTokenBudget }, 0, 1<<20)},
		{"VLLM_ADAPTERS", "", false, "model_type=adapter overrides, e.g. code_review=comment", str(func(c *Config) *string { return &c.VLLMAdapters })},
		{"VLLM_CONNECT_TIMEOUT", "5s", false, "connect limit per upstream attempt", duration(func(c *Config) *time.Duration { return &c.VLLMConnect })},
		{"VLLM_TIMEOUT_SECONDS", "", false, "time-to-first-token limit, seconds (default REQUEST_TIMEOUT)", optSeconds(func(c *Config) *time.Duration { return &c.VLLMFirstToken })},
		{"VLLM_IDLE_TIMEOUT", "30s", false, "longest gap between two tokens", duration(func(c *Config) *time.Duration { return &c.VLLMIdle })},
		{"REQUEST_TIMEOUT", "30", false, "request timeout, seconds", seconds(func(c *Config) *time.Duration { return &c.RequestTimeout })},
		{"SIM_TTFT", "40ms", false, "built-in simulator: time to first token", duration(func(c *Config) *time.Duration { return &c.SimTTFT })},
		{"SIM_ITL", "8ms", false, "built-in simulator: inter-token latency", duration(func(c *Config) *time.Duration { return &c.SimITL })},

		{"RATE_LIMIT_ENABLED", "true", false, "enforce rate limits", boolean(func(c *Config) *bool { return &c.RateLimitEnabled })},
		{"DEFAULT_RATE_LIMIT", "100", false, "requests per window for routes without their own rule", integer(func(c *Config) *int { return &c.DefaultRateLimit }, 1, 1<<30)},
		{"RATE_LIMIT_WINDOW_MINUTES", "60", false, "window of DEFAULT_RATE_LIMIT, minutes", integer(func(c *Config) *int { return &c.RateLimitWindowMinutes }, 1, 1440)},
		{"RATE_LIMIT_RULES", "", false, "group=N/period overrides, e.g. generation=50/m,completion=600/m", str(func(c *Config) *string { return &c.RateLimitRules })},

		{"ERROR_MONITORING_ENABLED", "true", false, "count errors in metrics and the dashboard", boolean(func(c *Config) *bool { return &c.ErrorMonitoring })},
		{"ERROR_RETENTION_DAYS", "30", false, "incidents older than this are deleted", integer(func(c *Config) *int { return &c.ErrorRetentionDays }, 1, 3650)},
		{"REQUEST_LOG_RETENTION_DAYS", "30", false, "request-log rows older than this are deleted", integer(func(c *Config) *int { return &c.RequestLogDays }, 1, 3650)},
		{"INCIDENT_TRACKING_ENABLED", "true", false, "store an incident for every 5xx", boolean(func(c *Config) *bool { return &c.IncidentTracking })},

		{"LOG_LEVEL", "INFO", false, "DEBUG | INFO | WARNING | ERROR", oneOfFold(func(c *Config) *string { return &c.LogLevel }, "DEBUG", "INFO", "WARNING", "WARN", "ERROR")},
		{"STRUCTURED_LOGGING", "true", false, "JSON logs (false = text)", boolean(func(c *Config) *bool { return &c.StructuredLogging })},
		{"LOG_FILE", "", false, "also write logs to this file", str(func(c *Config) *string { return &c.LogFile })},
		{"LOG_FILE_ROTATION", "true", false, "rotate LOG_FILE at LOG_MAX_SIZE", boolean(func(c *Config) *bool { return &c.LogFileRotation })},
		{"LOG_MAX_SIZE", "50MB", false, "rotation size (KB, MB, GB suffixes)", size(func(c *Config) *int64 { return &c.LogMaxSize })},

		{"WS_MAX_MESSAGE_BYTES", "262144", false, "largest client WebSocket frame", int64v(func(c *Config) *int64 { return &c.WSMaxMessageBytes }, 1024, 64<<20)},
		{"WS_MAX_STREAMS", "8", false, "concurrent streams per socket", integer(func(c *Config) *int { return &c.WSMaxStreams }, 1, 1024)},
		{"WS_MAX_CONNS_PER_KEY", "16", false, "open sockets per API key", integer(func(c *Config) *int { return &c.WSMaxConnsPerKey }, 1, 100000)},
		{"WS_WRITE_TIMEOUT", "10s", false, "a socket unwritable this long is closed with 4008", duration(func(c *Config) *time.Duration { return &c.WSWriteTimeout })},
		{"WS_PING_INTERVAL", "30s", false, "keepalive ping interval (pong timeout is the same)", duration(func(c *Config) *time.Duration { return &c.WSPingInterval })},
	}
}

// loadConfig builds a Config from defaults, then the .env file (if any), then the
// environment, then flags. Every invalid value is reported at once.
func loadConfig(getenv func(string) string, dotenv map[string]string, flags map[string]string) (Config, error) {
	var c Config
	var errs []error
	for _, s := range settings() {
		v, ok := flags[flagName(s.env)]
		if !ok {
			v = getenv(s.env)
			if v == "" {
				v = dotenv[s.env]
			}
			if v == "" {
				v = s.def
			}
		}
		if err := s.set.set(&c, strings.TrimSpace(v)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.env, err))
		}
	}
	errs = append(errs, c.check()...)
	if len(errs) > 0 {
		return c, fmt.Errorf("invalid configuration:\n  %w", joinIndented(errs))
	}
	c.finish()
	return c, nil
}

// check validates combinations of settings.
func (c *Config) check() []error {
	var errs []error
	prod := strings.EqualFold(c.Environment, "production")
	if prod && len(c.SecretKey) < 32 {
		errs = append(errs, errors.New("SECRET_KEY: must be at least 32 characters in production"))
	}
	if c.SecretKey != "" && len(c.SecretKey) < 16 {
		errs = append(errs, errors.New("SECRET_KEY: must be at least 16 characters"))
	}
	if prod && c.DemoAPIKey {
		errs = append(errs, errors.New("DEMO_API_KEY_ENABLED: not allowed in production"))
	}
	if prod && c.SelfSignup {
		errs = append(errs, errors.New("SELF_SIGNUP: not allowed in production"))
	}
	if _, err := vllm.ParseFamily(c.VLLMModelFamily); err != nil {
		errs = append(errs, fmt.Errorf("VLLM_MODEL_FAMILY: %w", err))
	}
	for _, l := range c.CompletionLanguages {
		if _, ok := codectx.Lookup(l); !ok {
			errs = append(errs, fmt.Errorf("COMPLETION_LANGUAGES: unknown language %q (known: %s)", l, strings.Join(codectx.Names(), ", ")))
		}
	}
	if _, err := vllm.ParseAdapterMap(c.VLLMAdapters); err != nil {
		errs = append(errs, fmt.Errorf("VLLM_ADAPTERS: %w", err))
	}
	if _, err := limits.ParseRules(c.RateLimitRules); err != nil {
		errs = append(errs, fmt.Errorf("RATE_LIMIT_RULES: %w", err))
	}
	if c.DBModulePort != 0 && c.DBModulePort == c.Port {
		errs = append(errs, errors.New("DB_MODULE_PORT: must differ from PORT"))
	}
	return errs
}

// finish derives dependent defaults.
func (c *Config) finish() {
	if c.SpoolDir == "" && !strings.HasPrefix(c.DatabaseURL, "sqlite:") {
		c.SpoolDir = filepath.Join("data", "spool")
	}
	if c.RedisPrefix == "" {
		c.RedisPrefix = "hapa:" + databaseName(c.DatabaseURL) + ":"
	}
	if c.VLLMFirstToken == 0 {
		c.VLLMFirstToken = c.RequestTimeout
	}
	if len(c.VLLMServerURLs) == 0 && c.AIModelEndpoint != "" {
		u := strings.TrimRight(c.AIModelEndpoint, "/")
		for _, suffix := range []string{"/v1/completions", "/v1/chat/completions", "/v1"} {
			u = strings.TrimSuffix(u, suffix)
		}
		c.VLLMServerURLs = []string{u}
	}
}

// Simulated reports whether the built-in simulator serves as the upstream.
func (c *Config) Simulated() bool { return len(c.VLLMServerURLs) == 0 }

// Addr is the main listen address.
func (c *Config) Addr() string { return joinHostPort(c.Host, c.Port) }

// effective is one setting's effective value (secrets redacted) and where it came from.
type effective struct {
	Name, Value, Source string
}

// effectiveSettings lists every setting with its redacted value and source
// (flag, env, .env or default): `serve --print-config` and GET /api/v1/config/status.
func effectiveSettings(getenv func(string) string, dotenv map[string]string, flags map[string]string) []effective {
	var out []effective
	for _, s := range settings() {
		v, src := s.def, "default"
		if f, ok := flags[flagName(s.env)]; ok {
			v, src = f, "flag"
		} else if e := getenv(s.env); e != "" {
			v, src = e, "env"
		} else if d := dotenv[s.env]; d != "" {
			v, src = d, ".env"
		}
		if s.secret && v != "" {
			v = redact(s.env, v)
		}
		out = append(out, effective{s.env, v, src})
	}
	return out
}

// printConfig writes the effective configuration with secrets redacted.
func printConfig(w io.Writer, getenv func(string) string, dotenv map[string]string, flags map[string]string) {
	for _, e := range effectiveSettings(getenv, dotenv, flags) {
		fmt.Fprintf(w, "%-26s = %-44s (%s)\n", e.Name, e.Value, e.Source)
	}
}

// redact hides secrets; URLs keep scheme, host, path and harmless query parameters
// but lose credentials (user info, and password-like query parameters such as lib/pq's
// password= and sslpassword=).
func redact(name, v string) string {
	if strings.HasSuffix(name, "_URL") {
		if u, err := url.Parse(v); err == nil && u.Scheme != "" {
			if u.User != nil {
				u.User = url.UserPassword("redacted", "redacted")
			}
			if q := u.Query(); len(q) > 0 {
				for k := range q {
					if lk := strings.ToLower(k); strings.Contains(lk, "pass") || strings.Contains(lk, "secret") ||
						strings.Contains(lk, "token") || strings.Contains(lk, "key") {
						q.Set(k, "redacted")
					}
				}
				u.RawQuery = q.Encode()
			}
			return u.String()
		}
	}
	return "[redacted]"
}

func flagName(env string) string { return strings.ToLower(strings.ReplaceAll(env, "_", "-")) }

func joinHostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

func joinIndented(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	sort.Strings(msgs)
	return errors.New(strings.Join(msgs, "\n  "))
}
