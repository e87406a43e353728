package main

import (
	"errors"
	"net/url"
	"strings"
)

// publicURL parses PUBLIC_URL: http(s)://host[:port], optionally with a path prefix,
// stored without a trailing slash.
func publicURL(f func(*Config) *string) parser {
	return parser{"url", func(c *Config, v string) error {
		v = strings.TrimRight(strings.TrimSpace(v), "/")
		if v == "" {
			*f(c) = ""
			return nil
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return errors.New("must be http(s)://host[:port] (the address browsers use)")
		}
		*f(c) = v
		return nil
	}}
}

// publicOrigin is PUBLIC_URL's origin, scheme://host[:port], for ALLOWED_ORIGINS of
// the socket; "" when unset.
func (c *Config) publicOrigin() string {
	u, err := url.Parse(c.PublicURL)
	if c.PublicURL == "" || err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// realtimeURL is the socket endpoint the admin playground connects to under PUBLIC_URL
// ("" when unset: the page's own host).
func (c *Config) realtimeURL() string {
	if c.PublicURL == "" {
		return ""
	}
	return "ws" + strings.TrimPrefix(c.PublicURL, "http") + "/api/v1/realtime"
}
