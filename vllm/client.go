package vllm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Default limits of ClientConfig and PoolConfig.
const (
	DefaultConnectTimeout    = 5 * time.Second
	DefaultFirstTokenTimeout = 30 * time.Second // REQUEST_TIMEOUT
	DefaultIdleTimeout       = 30 * time.Second
)

// ClientConfig configures one replica's client. Zero durations mean the defaults
// above; negative durations disable that limit.
type ClientConfig struct {
	BaseURL           string        // e.g. http://vllm:8000 (without /v1)
	APIKey            string        // sent as Authorization: Bearer (vLLM --api-key)
	HTTPClient        *http.Client  // nil: the package's own transport (see transport.go)
	ConnectTimeout    time.Duration // until response headers
	FirstTokenTimeout time.Duration // from headers until the first SSE event
	IdleTimeout       time.Duration // between two SSE events
	MaxLine           int           // longest SSE line; 0 means DefaultMaxLine
}

// Client talks to one vLLM server.
type Client struct {
	cfg  ClientConfig
	base string
	http *http.Client
}

// NewClient returns a client of the vLLM server at cfg.BaseURL.
func NewClient(cfg ClientConfig) (*Client, error) {
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	base = strings.TrimSuffix(base, "/v1")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("vllm: base URL %q: want http:// or https://", cfg.BaseURL)
	}
	cfg.ConnectTimeout = orDefault(cfg.ConnectTimeout, DefaultConnectTimeout)
	cfg.FirstTokenTimeout = orDefault(cfg.FirstTokenTimeout, DefaultFirstTokenTimeout)
	cfg.IdleTimeout = orDefault(cfg.IdleTimeout, DefaultIdleTimeout)
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: newTransport()}
	}
	return &Client{cfg: cfg, base: base, http: hc}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// BaseURL returns the replica's URL.
func (c *Client) BaseURL() string { return c.base }

// Stream sends req with stream:true and usage requested and returns once the response
// headers arrived. Errors before that are returned here; later ones by Stream.Err.
func (c *Client) Stream(ctx context.Context, req Request) (*Stream, error) {
	body, err := encodeRequest(req)
	if err != nil {
		return nil, fmt.Errorf("vllm: encode request: %w", err)
	}
	path := "/v1/completions"
	if req.Chat() {
		path = "/v1/chat/completions"
	}
	rctx, cancel := context.WithCancel(ctx)
	watch := newWatchdog(cancel, c.cfg.IdleTimeout)
	hreq, err := http.NewRequestWithContext(rctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("vllm: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "text/event-stream")
	c.auth(hreq)
	started := time.Now()
	watch.arm("connect", c.cfg.ConnectTimeout)
	resp, err := c.http.Do(hreq)
	if err != nil {
		watch.stop()
		cancel()
		if te := watch.expired(c.base); te != nil {
			return nil, te
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("vllm: %s: %w", c.base, err)
	}
	if err := responseError(resp); err != nil {
		watch.stop()
		_ = resp.Body.Close()
		cancel()
		if te := watch.expired(c.base); te != nil {
			return nil, te
		}
		return nil, fmt.Errorf("vllm: %s: %w", c.base, err)
	}
	watch.arm("first token", c.cfg.FirstTokenTimeout)
	return &Stream{
		replica: c.base, ctx: ctx, cancel: cancel, body: resp.Body,
		dec: NewDecoder(resp.Body, c.cfg.MaxLine), watch: watch, started: started,
	}, nil
}

// responseError returns the *APIError of a non-2xx response or of a 2xx one whose body
// is JSON rather than an event stream (vLLM answers validation errors that way).
func responseError(resp *http.Response) error {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode/100 == 2 && ct == "text/event-stream" {
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil && len(raw) == 0 {
		return fmt.Errorf("read %d response: %w", resp.StatusCode, err)
	}
	e, ok := parseError(raw, resp.StatusCode)
	if !ok {
		msg := strings.TrimSpace(string(raw))
		if len(msg) > 200 {
			msg = msg[:200]
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		e = &APIError{Status: resp.StatusCode, Message: msg}
		if resp.StatusCode/100 == 2 {
			e.Type, e.Message = "UnexpectedResponse", "content type "+ct+", not an event stream"
		}
	}
	if e.Status < 400 {
		e.Status = http.StatusBadGateway // HTTP 200 carrying an error without a code
	}
	return e
}

func (c *Client) auth(r *http.Request) {
	if c.cfg.APIKey != "" {
		r.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
}

// Health returns nil when GET /health answers 200 (vLLM: 503 when the engine died).
func (c *Client) Health(ctx context.Context) error {
	resp, err := c.get(ctx, "/health")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("vllm: %s: health: %w", c.base,
			&APIError{Status: resp.StatusCode, Message: http.StatusText(resp.StatusCode)})
	}
	return nil
}

// Model is one entry of GET /v1/models: the base model (Parent empty) or a LoRA
// adapter (Parent is the base model).
type Model struct {
	ID          string `json:"id"`
	Object      string `json:"object"`
	Created     int64  `json:"created"`
	OwnedBy     string `json:"owned_by"`
	Root        string `json:"root"`
	Parent      string `json:"parent"`
	MaxModelLen int    `json:"max_model_len"`
}

// Models lists the served models (GET /v1/models).
func (c *Client) Models(ctx context.Context) ([]Model, error) {
	resp, err := c.get(ctx, "/v1/models")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("vllm: %s: models: %w", c.base, err)
	}
	if resp.StatusCode != http.StatusOK {
		e, ok := parseError(raw, resp.StatusCode)
		if !ok {
			e = &APIError{Status: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
		}
		return nil, fmt.Errorf("vllm: %s: models: %w", c.base, e)
	}
	var list struct {
		Data []Model `json:"data"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("vllm: %s: models: %w", c.base, err)
	}
	return list.Data, nil
}

// get sends a GET bounded by ConnectTimeout; the deadline ends when the body closes.
func (c *Client) get(ctx context.Context, path string) (*http.Response, error) {
	var cancel context.CancelFunc
	if c.cfg.ConnectTimeout > 0 {
		ctx, cancel = context.WithTimeoutCause(ctx, c.cfg.ConnectTimeout, ErrTimeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("vllm: %w", err)
	}
	c.auth(req)
	resp, err := c.http.Do(req)
	if err != nil {
		cancel()
		return nil, c.getError(ctx, path, err)
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

func (c *Client) getError(ctx context.Context, path string, err error) error {
	if errors.Is(context.Cause(ctx), ErrTimeout) {
		return fmt.Errorf("vllm: %s: GET %s: %w", c.base, path, ErrTimeout)
	}
	return fmt.Errorf("vllm: %s: GET %s: %w", c.base, path, err)
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
