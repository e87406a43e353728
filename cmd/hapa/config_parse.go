package main

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/hapa-project/hapa/store"
)

// The parsers below turn one setting's text into its Config field. Each also names the
// kind of value it takes, which the flag's help shows (`--port int`, `--cache-ttl seconds`).

// parser parses one setting into Config; kind is the value's type in help texts.
type parser struct {
	kind string
	fn   func(c *Config, v string) error
}

func (p parser) set(c *Config, v string) error { return p.fn(c, v) }

func str(f func(*Config) *string) parser {
	return parser{"string", func(c *Config, v string) error { *f(c) = v; return nil }}
}

func boolean(f func(*Config) *bool) parser {
	return parser{"bool", func(c *Config, v string) error {
		switch strings.ToLower(v) {
		case "1", "true", "yes", "on":
			*f(c) = true
		case "0", "false", "no", "off":
			*f(c) = false
		default:
			return fmt.Errorf("%q is not a boolean (true/false)", v)
		}
		return nil
	}}
}

func integer(f func(*Config) *int, lo, hi int) parser {
	return parser{"int", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		if n < lo || n > hi {
			return fmt.Errorf("%d is out of range [%d, %d]", n, lo, hi)
		}
		*f(c) = n
		return nil
	}}
}

func int64v(f func(*Config) *int64, lo, hi int64) parser {
	return parser{"int", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		if n < lo || n > hi {
			return fmt.Errorf("%d is out of range [%d, %d]", n, lo, hi)
		}
		*f(c) = n
		return nil
	}}
}

func float(f func(*Config) *float64, lo, hi float64) parser {
	return parser{"float", func(c *Config, v string) error {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
		if n < lo || n > hi {
			return fmt.Errorf("%g is out of range [%g, %g]", n, lo, hi)
		}
		*f(c) = n
		return nil
	}}
}

func duration(f func(*Config) *time.Duration) parser {
	return parser{"duration", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 500ms, 10s, 1m)", v)
		}
		if d < 0 {
			return fmt.Errorf("%s is negative", v)
		}
		*f(c) = d
		return nil
	}}
}

// seconds parses the seed's plain-seconds values ("1800"); Go durations are accepted too.
func seconds(f func(*Config) *time.Duration) parser {
	return parser{"seconds", func(c *Config, v string) error {
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			if n < 0 {
				return fmt.Errorf("%s is negative", v)
			}
			*f(c) = time.Duration(n * float64(time.Second))
			return nil
		}
		return duration(f).set(c, v)
	}}
}

func optSeconds(f func(*Config) *time.Duration) parser {
	return parser{"seconds", func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		return seconds(f).set(c, v)
	}}
}

func list(f func(*Config) *[]string) parser {
	return parser{"list", func(c *Config, v string) error {
		*f(c) = splitList(v)
		return nil
	}}
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func urls(f func(*Config) *[]string) parser {
	return parser{"urls", func(c *Config, v string) error {
		items := splitList(v)
		for _, s := range items {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("%q is not an http(s) URL", s)
			}
		}
		out := make([]string, len(items))
		for i, s := range items {
			out[i] = strings.TrimRight(s, "/")
		}
		*f(c) = out
		return nil
	}}
}

func prefixes(f func(*Config) *[]netip.Prefix) parser {
	return parser{"cidrs", func(c *Config, v string) error {
		var out []netip.Prefix
		for _, s := range splitList(v) {
			if !strings.Contains(s, "/") {
				s += "/32"
				if strings.Contains(s, ":") {
					s = strings.TrimSuffix(s, "/32") + "/128"
				}
			}
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return fmt.Errorf("%q is not an IP or CIDR", s)
			}
			out = append(out, p.Masked())
		}
		*f(c) = out
		return nil
	}}
}

func dburl(f func(*Config) *string) parser {
	return parser{"url", func(c *Config, v string) error {
		switch {
		case strings.HasPrefix(v, "sqlite://"), strings.HasPrefix(v, "postgres://"), strings.HasPrefix(v, "postgresql://"):
			*f(c) = v
			return nil
		}
		scheme, _, _ := strings.Cut(v, ":")
		return fmt.Errorf("unsupported scheme %q (use sqlite:///path, sqlite://:memory: or postgres://…)", scheme)
	}}
}

// redisurl takes a REDIS_URL in one of store.ParseRedisURL's forms.
func redisurl(f func(*Config) *string) parser {
	return parser{"url", func(c *Config, v string) error {
		if v != "" {
			if _, err := store.ParseRedisURL(v); err != nil {
				return err // never the value: it may hold a password
			}
		}
		*f(c) = v
		return nil
	}}
}

func oneOf(f func(*Config) *string, allowed ...string) parser {
	return parser{strings.Join(allowed, "|"), func(c *Config, v string) error {
		for _, a := range allowed {
			if v == a {
				*f(c) = v
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
	}}
}

func oneOfFold(f func(*Config) *string, allowed ...string) parser {
	return parser{oneOf(f, allowed...).kind, func(c *Config, v string) error {
		return oneOf(f, allowed...).set(c, strings.ToUpper(v))
	}}
}

// size parses "50MB", "512KB", "1GB" or a byte count.
func size(f func(*Config) *int64) parser {
	return parser{"size", func(c *Config, v string) error {
		s := strings.ToUpper(strings.TrimSpace(v))
		mult := int64(1)
		for _, u := range []struct {
			suffix string
			m      int64
		}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
			if strings.HasSuffix(s, u.suffix) {
				s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.m
				break
			}
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a size (e.g. 50MB)", v)
		}
		*f(c) = n * mult
		return nil
	}}
}

// parseDotenv reads KEY=VALUE lines: `export ` prefixes, # comments, single or double
// quotes (double quotes understand \n, \" and \\). A malformed line is an error that
// names its line number; nothing is applied then.
func parseDotenv(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !validEnvName(key) {
			return nil, fmt.Errorf(".env line %d: expected KEY=VALUE", n)
		}
		v, err := unquote(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf(".env line %d: %w", n, err)
		}
		out[key] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf(".env: %w", err)
	}
	return out, nil
}

func validEnvName(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func unquote(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	switch v[0] {
	case '"':
		end := strings.LastIndexByte(v, '"')
		if end == 0 {
			return "", fmt.Errorf("unterminated double quote")
		}
		r := strings.NewReplacer(`\n`, "\n", `\"`, `"`, `\\`, `\`)
		return r.Replace(v[1:end]), nil
	case '\'':
		end := strings.LastIndexByte(v, '\'')
		if end == 0 {
			return "", fmt.Errorf("unterminated single quote")
		}
		return v[1:end], nil
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v, nil
}

// databaseName names the database of a DATABASE_URL for the default REDIS_PREFIX: the
// PostgreSQL database (and its search_path schema, when one is given), or the SQLite
// file's name without its extension ("memory" for :memory:).
func databaseName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "hapa"
	}
	name := strings.Trim(u.Path, "/")
	if u.Scheme == "sqlite" {
		name = strings.TrimSuffix(path.Base(u.Opaque+u.Host+u.Path), path.Ext(u.Path))
		if strings.Contains(raw, ":memory:") {
			name = "memory"
		}
	} else if sp := u.Query().Get("search_path"); sp != "" {
		name += "." + sp
	}
	if name == "" || name == "." || name == "/" {
		return "hapa"
	}
	return name
}
