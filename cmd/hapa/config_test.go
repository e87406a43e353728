package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigDefaults(t *testing.T) {
	c, err := loadConfig(env(nil), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"port", c.Port, 8000},
		{"database", c.DatabaseURL, "sqlite:///./data/hapa.db"},
		{"cache ttl", c.CacheTTL, 1800 * time.Second},
		{"cache size", c.MaxCacheSize, 1000},
		{"request timeout", c.RequestTimeout, 30 * time.Second},
		{"first token defaults to request timeout", c.VLLMFirstToken, 30 * time.Second},
		{"key expiry", c.APIKeyExpiryDays, 90},
		{"rate limit", c.DefaultRateLimit, 100},
		{"window", c.RateLimitWindowMinutes, 60},
		{"retention", c.ErrorRetentionDays, 30},
		{"log max size", c.LogMaxSize, int64(50 << 20)},
		{"ws streams", c.WSMaxStreams, 8},
		{"ws bytes", c.WSMaxMessageBytes, int64(256 << 10)},
		{"simulated", c.Simulated(), true},
		{"demo key off", c.DemoAPIKey, false},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestConfigPrecedence(t *testing.T) {
	dot := map[string]string{"PORT": "7000", "CACHE_TTL": "60"}
	c, err := loadConfig(env(map[string]string{"PORT": "7100"}), dot, map[string]string{"cache-ttl": "90s"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 7100 {
		t.Errorf("env must win over .env: port %d", c.Port)
	}
	if c.CacheTTL != 90*time.Second {
		t.Errorf("flag must win: cache ttl %v", c.CacheTTL)
	}
}

func TestConfigListsEveryProblem(t *testing.T) {
	_, err := loadConfig(env(map[string]string{
		"PORT":                 "eighty",
		"DATABASE_URL":         "mysql://x",
		"RATE_LIMIT_ENABLED":   "maybe",
		"CACHE_SCOPE":          "team",
		"VLLM_SERVER_URL":      "ftp://x",
		"VLLM_MODEL_FAMILY":    "gpt",
		"RATE_LIMIT_RULES":     "generation=fast",
		"ENVIRONMENT":          "production",
		"COMPLETION_LANGUAGES": "python,klingon",
		"CONTEXT_TOKEN_BUDGET": "-5",
	}), nil, nil)
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{"PORT", "DATABASE_URL", "RATE_LIMIT_ENABLED", "CACHE_SCOPE", "VLLM_SERVER_URL", "SECRET_KEY", "VLLM_MODEL_FAMILY", "RATE_LIMIT_RULES",
		`COMPLETION_LANGUAGES: unknown language "klingon"`, "CONTEXT_TOKEN_BUDGET"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

func TestConfigEndpointFallback(t *testing.T) {
	c, err := loadConfig(env(map[string]string{"AI_MODEL_ENDPOINT": "http://gpu:8002/v1/completions"}), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.VLLMServerURLs) != 1 || c.VLLMServerURLs[0] != "http://gpu:8002" {
		t.Fatalf("got %v", c.VLLMServerURLs)
	}
}

func TestDotenv(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr string
	}{
		{"plain", "A=1\n# c\n\nexport B = two words # note\n", map[string]string{"A": "1", "B": "two words"}, ""},
		{"quotes", "A=\"x\\ny\"\nB='# not a comment'\n", map[string]string{"A": "x\ny", "B": "# not a comment"}, ""},
		{"no equals", "A=1\nGARBAGE\n", nil, "line 2"},
		{"bad name", "1A=1\n", nil, "line 1"},
		{"unterminated", "A=\"oops\n", nil, "line 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDotenv(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestPrintConfigRedacts(t *testing.T) {
	var buf bytes.Buffer
	printConfig(&buf, env(map[string]string{
		"SECRET_KEY":   "super-secret-value-1234567890abcdef",
		"DATABASE_URL": "postgres://hapa:pw@db:5432/hapa?sslmode=disable&password=topsecret",
		"REDIS_URL":    "redis://:redispw@cache:6379/0",
	}), nil, nil)
	out := buf.String()
	for _, leak := range []string{"super-secret", ":pw@", "redispw", "topsecret"} {
		if strings.Contains(out, leak) {
			t.Errorf("printed a secret %q:\n%s", leak, out)
		}
	}
	if !strings.Contains(out, "db:5432") || !strings.Contains(out, "sslmode=disable") || !strings.Contains(out, "DEFAULT_RATE_LIMIT") {
		t.Errorf("missing non-secret parts:\n%s", out)
	}
}

// TestConfigRedisURL: REDIS_URL takes the three documented forms, says on one line
// what is wrong with a bad one without repeating its password, and --print-config
// redacts every password in it.
func TestConfigRedisURL(t *testing.T) {
	for _, u := range []string{"redis://:pw@cache:6379/0", "rediss://cache", "unix:///run/redis.sock",
		"redis-sentinel://:pw@s1:26379,s2:26379/0?master=mymaster&sentinel_password=spw", "redis-cluster://n1:7000,n2:7001"} {
		if _, err := loadConfig(env(map[string]string{"REDIS_URL": u}), nil, nil); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for u, want := range map[string]string{
		"http://:hunter2@cache":                 `REDIS_URL: scheme "http" is not one of`,
		"redis-sentinel://:hunter2@s1,s2/0":     "REDIS_URL: redis-sentinel:// needs ?master=<name>",
		"redis-cluster://:hunter2@n1,n2/1":      `REDIS_URL: database "1": a Redis Cluster has only database 0`,
		"redis-cluster://:hunter2@n1,n2?oops=1": "REDIS_URL: unexpected option: oops",
	} {
		_, err := loadConfig(env(map[string]string{"REDIS_URL": u}), nil, nil)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("REDIS_URL=%s: %v, want %q without the password", u, err, want)
		}
	}
	var buf bytes.Buffer
	printConfig(&buf, env(map[string]string{"REDIS_URL": "redis-sentinel://app:masterpw@s1:26379,s2:26379/0?master=m&sentinel_password=sentinelpw"}), nil, nil)
	if out := buf.String(); strings.Contains(out, "masterpw") || strings.Contains(out, "sentinelpw") || !strings.Contains(out, "s1:26379,s2:26379") {
		t.Errorf("print-config of a Sentinel URL:\n%s", out)
	}
}

// TestRedisPrefix: deployments that share a Redis server but not a database get
// different prefixes by default; REDIS_PREFIX wins.
func TestRedisPrefix(t *testing.T) {
	for db, want := range map[string]string{
		"postgres://hapa@db:5432/prod?sslmode=disable":      "hapa:prod:",
		"postgresql://hapa@db/staging":                      "hapa:staging:",
		"postgres://postgres@127.0.0.1/test?search_path=t1": "hapa:test.t1:",
		"sqlite:///./data/hapa.db":                          "hapa:hapa:",
		"sqlite:////var/lib/hapa/other.db":                  "hapa:other:",
		"sqlite://:memory:":                                 "hapa:memory:",
	} {
		c, err := loadConfig(env(map[string]string{"DATABASE_URL": db}), nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", db, err)
		}
		if c.RedisPrefix != want {
			t.Errorf("DATABASE_URL=%s: prefix %q, want %q", db, c.RedisPrefix, want)
		}
	}
	c, err := loadConfig(env(map[string]string{"REDIS_PREFIX": "team-a:"}), nil, nil)
	if err != nil || c.RedisPrefix != "team-a:" {
		t.Fatalf("REDIS_PREFIX: %q %v", c.RedisPrefix, err)
	}
}
