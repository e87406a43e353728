package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// healthCmd is `hapa health`: it probes a running gateway over HTTP and answers with one line and the exit
// code: 0 when it is ready, 1 otherwise. It is the container's health check (the
// distroless image has no shell or curl: HEALTHCHECK CMD ["/usr/local/bin/hapa","health"])
// and an exec probe. By default it asks GET /readyz on 127.0.0.1 and the PORT of the
// configuration (docs/kubernetes.md).
func healthCmd(getenv func(string) string) *cobra.Command {
	c := &cobra.Command{
		Use:   "health",
		Short: "Probe a running gateway (/readyz): exit 0 ready, 1 not",
		Long: `Probe a running gateway over HTTP and answer with one line and the exit code: 0 when it
is ready, 1 otherwise. It is the container's health check (the image has no shell or
curl) and a Kubernetes exec probe. By default it asks GET /readyz on 127.0.0.1 and the
PORT of the configuration (HOST when it names one address).`,
		Example: `  hapa health
  hapa health --path /livez
  hapa health --url https://hapa.example.com/readyz --timeout 5s`,
		Args: cobra.NoArgs,
	}
	fs := c.Flags()
	rawURL := fs.String("url", "", "probe this URL (overrides --addr and --path)")
	addr := fs.String("addr", "", "`host:port` of the gateway (default 127.0.0.1 and PORT, or HOST when it names one address)")
	path := fs.String("path", "/readyz", "path to probe: /readyz (database), /livez (process) or /health (body status)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	envFile := fs.String("env-file", ".env", "read HOST and PORT from this `file` when it exists")
	c.RunE = func(c *cobra.Command, _ []string) error {
		return cmdHealth(c.Context(), getenv, *rawURL, *addr, *path, *timeout, *envFile, c.OutOrStdout())
	}
	return c
}

func cmdHealth(ctx context.Context, getenv func(string) string, rawURL, addr, path string, timeout time.Duration, envFile string, stdout io.Writer) error {
	target := rawURL
	if target == "" {
		hp := addr
		if hp == "" {
			dotenv, err := readDotenv(envFile)
			if err != nil {
				return err
			}
			hp, err = healthAddr(getenv, dotenv)
			if err != nil {
				return err
			}
		}
		p := path
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		target = "http://" + hp + p
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("health: %q is not an http(s) URL", target)
	}
	if timeout <= 0 {
		return errors.New("health: --timeout must be positive")
	}
	return probe(ctx, u.String(), timeout, stdout)
}

// healthAddr is where `hapa health` finds the local gateway: HOST when it names one
// address (a wildcard such as 0.0.0.0 means loopback), and PORT (default 8000).
func healthAddr(getenv func(string) string, dotenv map[string]string) (string, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		if v := strings.TrimSpace(dotenv[k]); v != "" {
			return v
		}
		return def
	}
	port, err := strconv.Atoi(get("PORT", "8000"))
	if err != nil || port < 1 || port > 65535 {
		return "", fmt.Errorf("health: PORT %q is not a port number", get("PORT", "8000"))
	}
	host := get("HOST", "0.0.0.0")
	if ip := net.ParseIP(strings.Trim(host, "[]")); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return joinHostPort(strings.Trim(host, "[]"), port), nil
}

// probe GETs target once; a 2xx answer whose JSON body (if any) has no failing
// "status" is healthy. /health answers 200 even when the database is down, so its
// body's "unhealthy" counts as a failure.
func probe(ctx context.Context, target string, timeout time.Duration, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	req.Header.Set("User-Agent", "hapa-health/"+version)
	start := time.Now()
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: GET %s: %s", target, oneLine(errors.Unwrap(err), err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	took := time.Since(start).Round(time.Millisecond)
	var status struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(body, &status)
	switch {
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return fmt.Errorf("unhealthy: GET %s: %d %s", target, resp.StatusCode, snippet(body))
	case status.Status == "unhealthy" || status.Status == "unavailable":
		return fmt.Errorf("unhealthy: GET %s: %d status %q", target, resp.StatusCode, status.Status)
	}
	fmt.Fprintf(stdout, "healthy: GET %s: %d in %s\n", target, resp.StatusCode, took)
	return nil
}

// oneLine prefers the inner error of a *url.Error (the URL is already in the message).
func oneLine(inner, outer error) string {
	e := outer
	if inner != nil {
		e = inner
	}
	return strings.Join(strings.Fields(e.Error()), " ")
}

// snippet is the start of a body on one line.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
