package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// NewHTTPClient returns a keep-alive client sized for conns concurrent requests to one
// host, without compression (neither HAPA nor vLLM compresses streams).
func NewHTTPClient(conns int) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr}
}

// Body builds the JSON body of request i.
type Body func(i int) []byte

// GenBody is the body of HAPA's code routes (/api/v1/code/generate[/stream]). unique
// appends the request number to the prompt so that neither the cache nor coalescing
// can answer it.
func GenBody(prompt string, temperature float64, maxTokens int, unique bool) Body {
	return templateBody(unique, func(p string) map[string]any {
		return map[string]any{"prompt": p, "model_type": "code_generation",
			"temperature": temperature, "max_tokens": maxTokens}
	}, prompt)
}

// VLLMBody is the body of a streamed vLLM /v1/completions request with the same prompt
// text, adapter ("prompt", the code_generation adapter) and max_tokens as GenBody.
func VLLMBody(prompt string, temperature float64, maxTokens int, unique bool) Body {
	return templateBody(unique, func(p string) map[string]any {
		return map[string]any{"model": "prompt", "prompt": p, "temperature": temperature,
			"max_tokens": maxTokens, "stream": true, "stream_options": map[string]any{"include_usage": true}}
	}, prompt)
}

// templateBody encodes the body once with a marker in the prompt and splices the
// request number in per request: the load generator shares the cores with the
// gateway, so it should spend as little as it can.
func templateBody(unique bool, body func(prompt string) map[string]any, prompt string) Body {
	const marker = `\u0000HAPA-BENCH-N\u0000` // how encoding/json writes the NULs below
	if !unique {
		b, _ := json.Marshal(body(prompt))
		return func(int) []byte { return b }
	}
	b, _ := json.Marshal(body(prompt + " #\x00HAPA-BENCH-N\x00"))
	head, tail, ok := bytes.Cut(b, []byte(marker))
	if !ok {
		panic("bench: body template lost its marker")
	}
	return func(i int) []byte {
		out := make([]byte, 0, len(b)+8)
		out = append(out, head...)
		out = strconv.AppendInt(out, int64(i), 10)
		return append(out, tail...)
	}
}

// hasText reports whether a (chat) completion chunk carries text.
func hasText(data []byte) bool {
	return bytes.Contains(data, []byte(`"text":"`)) && !bytes.Contains(data, []byte(`"text":""`)) ||
		bytes.Contains(data, []byte(`"content":"`)) && !bytes.Contains(data, []byte(`"content":""`))
}

// errClass turns a transport error into a bounded error class.
func errClass(ctx context.Context, err error) string {
	switch {
	case ctx.Err() == context.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case ctx.Err() != nil:
		return "cancelled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "conn refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "conn reset"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no local port"
	case errors.Is(err, syscall.EMFILE):
		return "too many open files"
	case websocket.CloseStatus(err) != -1: // the server closed the socket: say with which code
		return "ws closed " + strconv.Itoa(int(websocket.CloseStatus(err)))
	case errors.Is(err, net.ErrClosed):
		return "ws closed"
	}
	return "conn error"
}

// httpErr reads a non-2xx answer into "http <status> <error_code>".
func httpErr(resp *http.Response) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e struct {
		Code string `json:"error_code"`
	}
	_ = json.Unmarshal(bytes.TrimSpace(b), &e)
	if e.Code != "" {
		return fmt.Sprintf("http %d %s", resp.StatusCode, e.Code)
	}
	return fmt.Sprintf("http %d", resp.StatusCode)
}

func post(ctx context.Context, c *http.Client, url, key string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	return c.Do(req)
}

// RESTTarget is HAPA's one-shot POST /api/v1/code/generate.
func RESTTarget(c *http.Client, base, key string, body Body) Target {
	url := strings.TrimRight(base, "/") + "/api/v1/code/generate"
	return TargetFunc(func(ctx context.Context, i int) Sample {
		resp, err := post(ctx, c, url, key, body(i))
		if err != nil {
			return Sample{Err: errClass(ctx, err)}
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return Sample{Err: httpErr(resp)}
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return Sample{Err: errClass(ctx, err)}
		}
		var out struct {
			Usage struct {
				Completion int `json:"completion_tokens"`
			} `json:"token_usage"`
			Cached    bool `json:"cached"`
			Coalesced bool `json:"coalesced"`
		}
		if json.Unmarshal(b, &out) != nil {
			return Sample{Err: "bad body"}
		}
		return Sample{Tokens: out.Usage.Completion, Cached: out.Cached, Coalesced: out.Coalesced}
	})
}

// SSETarget is HAPA's POST /api/v1/code/generate/stream, read to data: [DONE]. The
// first token is the first "token" event.
func SSETarget(c *http.Client, base, key string, body Body) Target {
	url := strings.TrimRight(base, "/") + "/api/v1/code/generate/stream"
	return TargetFunc(func(ctx context.Context, i int) Sample {
		resp, err := post(ctx, c, url, key, body(i))
		if err != nil {
			return Sample{Err: errClass(ctx, err)}
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return Sample{Err: httpErr(resp)}
		}
		var s Sample
		err = readSSE(resp.Body, func(data []byte) bool {
			var ev struct {
				Type     string `json:"type"`
				Code     string `json:"error_code"`
				Metadata struct {
					Usage struct {
						Completion int `json:"completion_tokens"`
					} `json:"usage"`
					Cached    bool `json:"cached"`
					Coalesced bool `json:"coalesced"`
				} `json:"metadata"`
			}
			// Token events are by far the most frequent; spot them without decoding.
			if bytes.HasPrefix(data, []byte(`{"type":"token"`)) {
				if s.FirstToken.IsZero() {
					s.FirstToken = time.Now()
				}
				return true
			}
			if json.Unmarshal(data, &ev) != nil {
				return true
			}
			switch ev.Type {
			case "token":
				if s.FirstToken.IsZero() {
					s.FirstToken = time.Now()
				}
			case "done":
				s.Tokens = ev.Metadata.Usage.Completion
				s.Cached, s.Coalesced = ev.Metadata.Cached, ev.Metadata.Coalesced
			case "error":
				s.Err = "sse error " + ev.Code
				return false
			}
			return true
		})
		if err != nil && s.Err == "" {
			s.Err = errClass(ctx, err)
		}
		return s
	})
}

// VLLMStreamTarget is a streamed POST /v1/completions straight to a vLLM server (the
// simulator), read to data: [DONE]; the first token is the first chunk with text.
func VLLMStreamTarget(c *http.Client, base string, body Body) Target {
	return VLLMPathTarget(c, base, "/v1/completions", body)
}

// VLLMPathTarget is VLLMStreamTarget on path: /v1/completions or /v1/chat/completions
// (whose first token is the first chunk with delta content).
func VLLMPathTarget(c *http.Client, base, path string, body Body) Target {
	url := strings.TrimRight(base, "/") + path
	return TargetFunc(func(ctx context.Context, i int) Sample {
		resp, err := post(ctx, c, url, "", body(i))
		if err != nil {
			return Sample{Err: errClass(ctx, err)}
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return Sample{Err: httpErr(resp)}
		}
		var s Sample
		err = readSSE(resp.Body, func(data []byte) bool {
			if s.FirstToken.IsZero() && hasText(data) {
				s.FirstToken = time.Now()
			}
			if bytes.Contains(data, []byte(`"completion_tokens"`)) {
				var ev struct {
					Usage *struct {
						Completion int `json:"completion_tokens"`
					} `json:"usage"`
				}
				if json.Unmarshal(data, &ev) == nil && ev.Usage != nil {
					s.Tokens = ev.Usage.Completion
				}
			}
			return true
		})
		if err != nil {
			s.Err = errClass(ctx, err)
		}
		return s
	})
}

// readSSE calls fn with the payload of every "data: " line until data: [DONE], the end
// of the body or fn returning false. A body that ends without [DONE] is an error.
func readSSE(r io.Reader, fn func(data []byte) bool) error {
	br := bufio.NewReaderSize(r, 4<<10)
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: gather it whole.
			full := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				full = append(full, line...)
			}
			line = full
		}
		if data, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
			data = bytes.TrimRight(data, "\r\n")
			if bytes.Equal(data, []byte("[DONE]")) {
				return nil
			}
			if !fn(data) {
				return nil
			}
		}
		if err != nil {
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
}

// GetTarget is a plain GET of base+path (the machine's HTTP floor, e.g. /health).
func GetTarget(c *http.Client, base, path string) Target {
	url := strings.TrimRight(base, "/") + path
	return TargetFunc(func(ctx context.Context, i int) Sample {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return Sample{Err: "bad request"}
		}
		resp, err := c.Do(req)
		if err != nil {
			return Sample{Err: errClass(ctx, err)}
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return Sample{Err: httpErr(resp)}
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return Sample{Err: errClass(ctx, err)}
		}
		return Sample{}
	})
}
