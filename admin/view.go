package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// chrome builds the frame of a page for the request's admin.
func (h *Handler) chrome(r *http.Request, active, title string) Chrome {
	c := Chrome{Title: title, Active: active, Version: h.cfg.Version}
	if s := sessionFrom(r.Context()); s != nil {
		c.User = s.User.Email
	}
	if h.deps.Upstreams != nil {
		c.Simulated = h.deps.Upstreams.Simulated()
	}
	return c
}

func itoa[T ~int | ~int64](n T) string { return strconv.FormatInt(int64(n), 10) }

// ftoa formats f with prec decimals.
func ftoa(f float64, prec int) string { return strconv.FormatFloat(f, 'f', prec, 64) }

// pct formats a ratio 0..1 as a percentage.
func pct(ratio float64) string { return ftoa(ratio*100, 1) + " %" }

// rfc3339 is the machine-readable form put in <time datetime>.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// utcText is the fallback text of a <time>: UTC, replaced by the viewer's locale
// when JavaScript runs.
func utcText(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// ms formats a millisecond figure.
func ms(v float64) string {
	if v >= 100 {
		return ftoa(v, 0)
	}
	return ftoa(v, 1)
}

// urlQuery escapes s for a query value.
func urlQuery(s string) string { return url.QueryEscape(s) }
