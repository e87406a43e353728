package limits

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"
)

// Rate is one rate-limit rule: at most Limit requests per Period (fixed window).
type Rate struct {
	Limit  int64
	Period time.Duration
}

func (r Rate) String() string { return fmt.Sprintf("%d/%s", r.Limit, r.Period) }

// Route groups of the rate limiter. Every REST route and WebSocket create event
// belongs to one; GroupDefault takes the rest.
const (
	GroupGeneration = "generation" // one-shot code generation
	GroupStream     = "stream"     // streaming code generation (SSE, WS generation.create)
	GroupCompletion = "completion" // inline completions (REST complete, WS completion.create)
	GroupOps        = "ops"        // operations endpoints (admin scope)
	GroupAuth       = "auth"       // logins, token refresh, key issuance: per client IP, against password guessing
	GroupDefault    = "default"    // DEFAULT_RATE_LIMIT per RATE_LIMIT_WINDOW_MINUTES
)

// DefaultRules are the per-group defaults. Completion is sized for typing: an editor
// asks for a completion after a debounce of ~150–300 ms while the user types, which is
// up to ~4–6 requests per second in bursts; 600/min lets one typist keep a steady
// 10 requests/s for a minute and still bounds a runaway client.
func DefaultRules() map[string]Rate {
	return map[string]Rate{
		GroupGeneration: {50, time.Minute},
		GroupStream:     {20, time.Minute},
		GroupCompletion: {600, time.Minute},
		GroupOps:        {100, time.Minute},
		GroupAuth:       {20, time.Minute},
		GroupDefault:    {100, time.Hour},
	}
}

// ParseRules parses RATE_LIMIT_RULES: comma-separated "group=N/period" where period is
// s, m, h or d with an optional count ("100/10m"). The error lists every bad rule.
func ParseRules(s string) (map[string]Rate, error) {
	out := map[string]Rate{}
	var errs []error
	for _, raw := range strings.Split(s, ",") {
		rule := strings.TrimSpace(raw)
		if rule == "" {
			continue
		}
		group, spec, ok := strings.Cut(rule, "=")
		group = strings.TrimSpace(group)
		if !ok || group == "" {
			errs = append(errs, fmt.Errorf("rule %q: want group=N/period", rule))
			continue
		}
		r, err := parseRate(strings.TrimSpace(spec))
		if err != nil {
			errs = append(errs, fmt.Errorf("rule %q: %w", rule, err))
			continue
		}
		if _, dup := out[group]; dup {
			errs = append(errs, fmt.Errorf("rule %q: group %q given twice", rule, group))
			continue
		}
		out[group] = r
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("realtime: RATE_LIMIT_RULES: %w", err)
	}
	return out, nil
}

// parseRate parses "N/period".
func parseRate(spec string) (Rate, error) {
	n, per, ok := strings.Cut(spec, "/")
	if !ok {
		return Rate{}, errors.New("want N/period, period one of s, m, h, d")
	}
	limit, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
	if err != nil || limit <= 0 {
		return Rate{}, fmt.Errorf("limit %q: want a positive integer", n)
	}
	per = strings.TrimSpace(per)
	if per == "" {
		return Rate{}, errors.New("missing period (s, m, h or d)")
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[per[len(per)-1]]
	if unit == 0 {
		return Rate{}, fmt.Errorf("period %q: want s, m, h or d", per)
	}
	count := int64(1)
	if len(per) > 1 {
		count, err = strconv.ParseInt(per[:len(per)-1], 10, 64)
		if err != nil || count <= 0 {
			return Rate{}, fmt.Errorf("period %q: want s, m, h or d with an optional positive count", per)
		}
	}
	return Rate{Limit: limit, Period: time.Duration(count) * unit}, nil
}

// mergeRules returns the defaults with DefaultRate (when set) and rules laid over them.
func mergeRules(def Rate, rules map[string]Rate) map[string]Rate {
	t := DefaultRules()
	if def.Limit > 0 && def.Period > 0 {
		t[GroupDefault] = def
	}
	maps.Copy(t, rules)
	return t
}
