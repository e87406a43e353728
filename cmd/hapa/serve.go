package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/spf13/cobra"
)

// serveCmd is `hapa serve`: every configuration flag, grouped in its help.
func serveCmd(getenv func(string) string) *cobra.Command {
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway (the default command)",
		Long: `Run the gateway: the REST, SSE and OpenAI-compatible API, the editor WebSocket, the admin
console, /metrics and /docs on one port. SIGTERM drains, then stops (docs/operations.md).`,
		Example: `  hapa serve
  hapa serve --port 9000 --database-url postgres://postgres@127.0.0.1:5432/hapa --auto-migrate
  VLLM_SERVER_URL=http://gpu1:8000,http://gpu2:8000 hapa serve
  hapa serve --print-config --env-file deploy/.env`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return cmdServe(c.Context(), c, getenv, c.OutOrStdout())
		},
	}
	c.Flags().Bool("print-config", false, "print the effective configuration (secrets redacted) and exit")
	configFlags(c)
	return c
}

// cmdServe runs the gateway until ctx ends, then shuts down in reverse build order.
func cmdServe(ctx context.Context, c *cobra.Command, getenv func(string) string, stdout io.Writer) error {
	printCfg, _ := c.Flags().GetBool("print-config")
	envFile, _ := c.Flags().GetString("env-file")
	dotenv, err := readDotenv(envFile)
	if err != nil {
		return err
	}
	if printCfg {
		printConfig(stdout, getenv, dotenv, setConfigFlags(c))
	}
	cfg, err := loadConfig(getenv, dotenv, setConfigFlags(c))
	if err != nil || printCfg {
		return err
	}
	cfg.Version = version
	log, logCloser, err := newLogger(cfg, stdout)
	if err != nil {
		return err
	}
	defer logCloser.Close()
	if cfg.MaxWorkers > 0 {
		runtime.GOMAXPROCS(cfg.MaxWorkers)
	}
	defer startGCFloor(uint64(cfg.GCMinHeapMB) << 20)()
	if cfg.SecretKey == "" {
		cfg.SecretKey = rand.Text() + rand.Text()
		log.Warn("SECRET_KEY is not set: using a random key, so tokens are invalid after a restart")
	}

	a, err := build(ctx, cfg, effectiveSettings(getenv, dotenv, setConfigFlags(c)), log, stdout)
	if err != nil {
		return err
	}
	return a.serve(ctx)
}

// listener is one HTTP server with its socket.
type listener struct {
	name string
	ln   net.Listener
	srv  *http.Server
}

// cutGrace is how long, after the shutdown deadline ended the streams still open with
// an error event, handlers get to write it before their connections are closed.
const cutGrace = 2 * time.Second

// serve runs every background loop and HTTP server until ctx ends, then shuts down in
// order (docs/operations.md, "Shutdown"): /readyz answers 503 for SHUTDOWN_DRAIN_DELAY
// so the load balancer stops sending new requests; then the hub sends session.closing
// and the HTTP servers stop accepting, while streams in flight finish until
// SHUTDOWN_TIMEOUT; at that deadline every stream still open ends with a retryable
// E5005 error event ([DONE] on SSE, stream.error on the socket) and is charged what
// it delivered; then background loops stop, the request log is flushed, the store
// closes.
func (a *app) serve(ctx context.Context) error {
	runCtx, stopLoops := context.WithCancel(context.WithoutCancel(ctx))
	var loops sync.WaitGroup
	for _, l := range a.loops {
		loops.Add(1)
		go func() {
			defer loops.Done()
			if err := l.run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error("background loop stopped", "loop", l.name, "err", err)
			}
		}()
	}
	errc := make(chan error, len(a.listeners))
	for _, l := range a.listeners {
		a.log.Info("listening", "server", l.name, "addr", "http://"+l.ln.Addr().String())
		go func() {
			if err := l.srv.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s server: %w", l.name, err)
			}
		}()
	}
	var serveErr error
	select {
	case <-ctx.Done():
		a.log.Info("shutting down", "deadline", a.cfg.ShutdownTimeout)
	case serveErr = <-errc:
		a.log.Error("server failed, shutting down", "err", serveErr)
	}

	a.web.Drain()
	if d := a.cfg.ShutdownDrainDelay; d > 0 && serveErr == nil {
		a.log.Info("draining: /readyz answers 503 before the listeners close", "delay", d)
		select {
		case <-time.After(d):
		case serveErr = <-errc:
		}
	}
	// Servers and the hub wait for their work until the deadline plus cutGrace: at the
	// deadline the timer below ends every stream still open with an error event, which
	// lets them finish.
	hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout+cutGrace)
	defer hcancel()
	cut := time.AfterFunc(a.cfg.ShutdownTimeout, func() {
		e := realtime.NewError(realtime.CodeModelUnavailable, "The server restarted before the stream finished; retry")
		e.RetryAfter = time.Second
		if n := a.engine.AbortAll(e); n > 0 {
			a.log.Warn("shutdown deadline: streams still open end with an error event", "streams", n)
		}
	})
	defer cut.Stop()
	var wg sync.WaitGroup
	if a.hub != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The deadline's AbortAll ends the socket streams (stream.error E5005, the
			// row says so); the hub closes the sockets once they have (1012).
			if err := a.hub.Shutdown(hctx); err != nil {
				a.log.Warn("realtime sessions did not end before the deadline", "err", err)
			}
		}()
	}
	for _, l := range a.listeners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.srv.Shutdown(hctx); err != nil {
				a.log.Warn("forced close", "server", l.name, "err", err)
				l.srv.Close()
			}
		}()
	}
	wg.Wait()
	stopLoops()
	loops.Wait()
	a.closeAll()
	a.log.Info("stopped")
	return serveErr
}

// loop is a background goroutine owned by the app.
type loop struct {
	name string
	run  func(ctx context.Context) error
}

func listen(host string, port int) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
}
