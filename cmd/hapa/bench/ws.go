package bench

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hapa-project/hapa/realtime/ws/wsclient"
)

// WSPool is a set of open hapa.v1 sockets.
type WSPool struct {
	Clients []*wsclient.Client
	Errors  map[string]int // dial failures by class
}

// WSURL turns an http(s) base URL into the realtime endpoint's ws(s) URL.
func WSURL(base string) string {
	u := strings.TrimRight(base, "/") + "/api/v1/realtime"
	if rest, ok := strings.CutPrefix(u, "https://"); ok {
		return "wss://" + rest
	}
	return "ws://" + strings.TrimPrefix(u, "http://")
}

// DialPool opens n sockets, parallel at most conc at a time. Failed dials are counted,
// not retried.
func DialPool(ctx context.Context, hc *http.Client, base, key string, n, conc int) *WSPool {
	url := WSURL(base)
	p := &WSPool{Clients: make([]*wsclient.Client, n), Errors: map[string]int{}}
	var mu sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(conc, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := wsclient.Dial(ctx, url, key, &wsclient.Options{HTTPClient: hc})
				if err != nil {
					class := errClass(ctx, err)
					var de *wsclient.DialError
					if errors.As(err, &de) {
						class = "upgrade " + strconv.Itoa(de.Status)
					}
					mu.Lock()
					p.Errors[class]++
					mu.Unlock()
					continue
				}
				p.Clients[i] = c
			}
		}()
	}
	wg.Wait()
	out := p.Clients[:0]
	for _, c := range p.Clients {
		if c != nil {
			out = append(out, c)
		}
	}
	p.Clients = out
	return p
}

// Close closes every socket, parallel.
func (p *WSPool) Close() {
	var wg sync.WaitGroup
	ch := make(chan *wsclient.Client)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range ch {
				c.Close()
			}
		}()
	}
	for _, c := range p.Clients {
		ch <- c
	}
	close(ch)
	wg.Wait()
}

// Open counts the sockets still open.
func (p *WSPool) Open() int {
	n := 0
	for _, c := range p.Clients {
		if c.Err() == nil {
			n++
		}
	}
	return n
}

// WSTarget runs generation.create on socket i mod len(Clients) and reads it to its
// terminal frame; the first token is the first stream.delta.
func WSTarget(p *WSPool, prompt string, temperature float64, maxTokens int, unique bool) Target {
	return TargetFunc(func(ctx context.Context, i int) Sample {
		if len(p.Clients) == 0 {
			return Sample{Err: "no sockets"}
		}
		c := p.Clients[i%len(p.Clients)]
		pr := prompt
		if unique {
			pr += " #" + strconv.Itoa(i)
		}
		temp := temperature
		st, err := c.Generate(ctx, wsclient.GenerationCreate{Prompt: pr, ModelType: "code_generation",
			MaxTokens: maxTokens, Temperature: &temp})
		if err != nil {
			return Sample{Err: errClass(ctx, err)}
		}
		var s Sample
		for {
			ev, err := st.Next(ctx)
			if err != nil {
				return Sample{Err: errClass(ctx, err)}
			}
			switch ev.Type {
			case "stream.delta":
				if s.FirstToken.IsZero() {
					s.FirstToken = time.Now()
				}
			case "stream.done":
				if ev.Usage != nil {
					s.Tokens = ev.Usage.CompletionTokens
				}
				s.Cached, s.Coalesced = ev.Cached, ev.Coalesced
				if ev.FinishReason == "cancelled" {
					s.Err = "cancelled"
				}
				return s
			case "stream.error":
				code := "?"
				if ev.Error != nil {
					code = ev.Error.Code
				}
				return Sample{Err: "ws " + code}
			}
		}
	})
}
