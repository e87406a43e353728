package store

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestParseRedisURL: every documented form of REDIS_URL (docs/operations.md, "Redis
// Sentinel and Cluster") and what it sets.
func TestParseRedisURL(t *testing.T) {
	tests := []struct {
		name, url string
		mode      RedisMode
		addrs     []string
		check     func(t *testing.T, o RedisOptions)
	}{
		{"one server", "redis://127.0.0.1:6379/2", RedisSingle, []string{"127.0.0.1:6379"}, func(t *testing.T, o RedisOptions) {
			if o.Single.DB != 2 || o.Single.TLSConfig != nil {
				t.Errorf("db %d, tls %v", o.Single.DB, o.Single.TLSConfig)
			}
		}},
		{"one server with a password and TLS", "rediss://:s3cret@cache.example/0?dial_timeout=3s", RedisSingle, []string{"cache.example:6379"}, func(t *testing.T, o RedisOptions) {
			if o.Single.Password != "s3cret" || o.Single.TLSConfig == nil || o.Single.DialTimeout != 3*time.Second {
				t.Errorf("%+v", o.Single)
			}
		}},
		{"unix socket", "unix:///run/redis.sock?db=3", RedisSingle, []string{"/run/redis.sock"}, func(t *testing.T, o RedisOptions) {
			if o.Single.Network != "unix" || o.Single.DB != 3 {
				t.Errorf("%+v", o.Single)
			}
		}},
		{"sentinel", "redis-sentinel://:masterpw@10.0.0.1:26379,10.0.0.2:26380,10.0.0.3/1?master=mymaster", RedisSentinel,
			[]string{"10.0.0.1:26379", "10.0.0.2:26380", "10.0.0.3:26379"}, func(t *testing.T, o RedisOptions) {
				f := o.Failover
				if f.MasterName != "mymaster" || f.DB != 1 || f.Password != "masterpw" || f.Username != "" ||
					f.SentinelPassword != "" || f.TLSConfig != nil {
					t.Errorf("%+v", f)
				}
			}},
		{"sentinel with its own credentials and TLS", "rediss-sentinel://app:masterpw@s1.example,s2.example:26379?master=m1&sentinel_username=sen&sentinel_password=senpw&pool_size=7",
			RedisSentinel, []string{"s1.example:26379", "s2.example:26379"}, func(t *testing.T, o RedisOptions) {
				f := o.Failover
				if f.Username != "app" || f.Password != "masterpw" || f.SentinelUsername != "sen" || f.SentinelPassword != "senpw" ||
					f.TLSConfig == nil || f.TLSConfig.ServerName != "s1.example" || f.PoolSize != 7 || f.DB != 0 {
					t.Errorf("%+v", f)
				}
			}},
		{"sentinel password only", "redis-sentinel://h:26379?master=m&sentinel_password=p%40ss", RedisSentinel, []string{"h:26379"}, func(t *testing.T, o RedisOptions) {
			if o.Failover.SentinelPassword != "p@ss" || o.Failover.Password != "" {
				t.Errorf("%+v", o.Failover)
			}
		}},
		{"cluster", "redis-cluster://:pw@127.0.0.1:7000,127.0.0.1:7001,[::1]:7002", RedisCluster,
			[]string{"127.0.0.1:7000", "127.0.0.1:7001", "[::1]:7002"}, func(t *testing.T, o RedisOptions) {
				if o.Cluster.Password != "pw" || o.Cluster.TLSConfig != nil {
					t.Errorf("%+v", o.Cluster)
				}
			}},
		{"cluster with TLS, database 0 and options", "rediss-cluster://user:pw@node1.example,node2.example:7001/0?read_timeout=2s&max_redirects=5",
			RedisCluster, []string{"node1.example:6379", "node2.example:7001"}, func(t *testing.T, o RedisOptions) {
				c := o.Cluster
				if c.Username != "user" || c.Password != "pw" || c.TLSConfig == nil || c.ReadTimeout != 2*time.Second || c.MaxRedirects != 5 {
					t.Errorf("%+v", c)
				}
			}},
		{"cluster of one seed", "redis-cluster://[::1]", RedisCluster, []string{"[::1]:6379"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ParseRedisURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if o.Mode != tt.mode || !slices.Equal(o.Addrs(), tt.addrs) {
				t.Fatalf("mode %s addrs %v, want %s %v", o.Mode, o.Addrs(), tt.mode, tt.addrs)
			}
			if tt.check != nil {
				tt.check(t, o)
			}
		})
	}
}

// TestParseRedisURLErrors: a bad REDIS_URL is one line that says what is wrong and
// never repeats the password.
func TestParseRedisURLErrors(t *testing.T) {
	tests := []struct{ name, url, want string }{
		{"no scheme", "127.0.0.1:6379", "not a URL"},
		{"unknown scheme", "http://:hunter2@nope", `scheme "http" is not one of`},
		{"bad port", "redis://:hunter2@host:99999/0", "the port must be a number"},
		{"bad database", "redis://:hunter2@host/abc", "invalid database number"},
		{"unknown option", "redis://:hunter2@host/0?speed=fast", "unexpected option: speed"},
		{"sentinel without master", "redis-sentinel://:hunter2@h1,h2", "needs ?master=<name>"},
		{"sentinel with no host", "redis-sentinel://:hunter2@/0?master=m", "no host"},
		{"sentinel with an empty host", "redis-sentinel://:hunter2@h1,,h2?master=m", "an empty entry"},
		{"sentinel with a bad port", "redis-sentinel://:hunter2@h1:x?master=m", `"h1:x": the port must be a number`},
		{"sentinel with a bad database", "redis-sentinel://:hunter2@h1/x?master=m", "invalid database number"},
		{"sentinel with go-redis's master_name", "redis-sentinel://h1?master_name=m", "option master_name is not accepted here: use master=<name>"},
		{"sentinel password as go-redis option", "redis-sentinel://h1?master=m&password=hunter2", "option password is not accepted here"},
		{"sentinel with an unknown option", "redis-sentinel://h1?master=m&colour=red", "unexpected option: colour"},
		{"cluster database", "redis-cluster://:hunter2@h1,h2/3", `database "3": a Redis Cluster has only database 0`},
		{"cluster db option", "redis-cluster://h1?db=1", "option db is not accepted here"},
		{"cluster addr option", "redis-cluster://h1?addr=h2:1", "option addr is not accepted here"},
		{"cluster with no host", "redis-cluster://:hunter2@", "no host"},
		{"cluster with unbracketed IPv6", "redis-cluster://::1:7000,h", `"::1:7000" is not host:port`},
		{"cluster with a bad duration", "redis-cluster://h1?dial_timeout=soon", "dial_timeout"},
		{"fragment", "redis-cluster://h1#x", "fragment"},
		{"bad escape in password", "redis-cluster://:hun%zzter2@h1", "invalid URL escape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRedisURL(tt.url)
			if err == nil {
				t.Fatalf("ParseRedisURL(%q) accepted", tt.url)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q, want it to say %q", msg, tt.want)
			}
			if strings.Contains(msg, "hunter2") || strings.Contains(msg, "\n") {
				t.Errorf("error %q repeats the password or spans lines", msg)
			}
		})
	}
}

// TestNewRedisClientKinds: each form builds the client go-redis has for it, with
// HAPA's short timeouts where the URL set none.
func TestNewRedisClientKinds(t *testing.T) {
	tests := []struct {
		url  string
		kind string
	}{
		{"redis://127.0.0.1:1/0", "*redis.Client"},
		{"redis-sentinel://127.0.0.1:1?master=m", "*redis.Client"},
		{"redis-cluster://127.0.0.1:1,127.0.0.1:2", "*redis.ClusterClient"},
	}
	for _, tt := range tests {
		rdb, err := NewRedis(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		var kind string
		switch c := rdb.(type) {
		case *redis.Client:
			kind = "*redis.Client"
			if o := c.Options(); !o.ContextTimeoutEnabled || o.DialTimeout != 2*time.Second || o.ReadTimeout != time.Second {
				t.Errorf("%s: timeouts %+v", tt.url, o)
			}
		case *redis.ClusterClient:
			kind = "*redis.ClusterClient"
			if o := c.Options(); !o.ContextTimeoutEnabled || o.DialTimeout != 2*time.Second || o.WriteTimeout != time.Second {
				t.Errorf("%s: timeouts %+v", tt.url, o)
			}
		}
		if kind != tt.kind {
			t.Errorf("%s: %T, want %s", tt.url, rdb, tt.kind)
		}
		rdb.Close()
	}
	if _, err := NewRedis("redis-sentinel://h1"); err == nil || !strings.HasPrefix(err.Error(), "store: REDIS_URL: ") {
		t.Errorf("NewRedis error %v, want it to name REDIS_URL", err)
	}
}

// FuzzParseRedisURL: any text gives options or a one-line error, never a panic.
func FuzzParseRedisURL(f *testing.F) {
	for _, s := range []string{"redis://h:6379/0", "redis-sentinel://:p@a,b:1/2?master=m", "redis-cluster://[::1]:1,h",
		"rediss-cluster://u:p@h?x=1", "redis-sentinel://@,?master", "unix:///s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseRedisURL(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if len(o.Addrs()) == 0 {
			t.Fatalf("%q parsed without an address", s)
		}
	})
}
