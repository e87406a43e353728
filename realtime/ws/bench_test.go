package ws

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/ws/wsclient"
	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
)

// Benchmarks of the WebSocket layer (figures in docs/protocol.md):
//
//	go test -run '^$' -bench 'WS' -benchtime 20x ./realtime/
//	HAPA_BENCH_SOCKETS=5000 go test -run '^$' -bench WSIdleSockets -benchtime 1x ./realtime/

// BenchmarkWSIdleSockets measures the server's memory per idle authenticated socket.
// The clients are bare TCP connections that did the upgrade by hand (no goroutine, no
// buffers), so the heap and RSS growth is the server's, plus ~1 KiB of client net.Conn.
func BenchmarkWSIdleSockets(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("HAPA_BENCH_SOCKETS")); err == nil && v > 0 {
		n = v
	}
	w := newWSHarness(b, wsOpt{cfg: Config{MaxConnsPerKey: -1}})
	w.auth.add("bench")
	u, _ := url.Parse(w.srv.URL)
	for b.Loop() {
		conns := make([]net.Conn, 0, n)
		before, rss0, g0 := memNow()
		for range n {
			conns = append(conns, rawUpgrade(b, u.Host, "bench"))
		}
		waitUntil(b, "all sessions", func() bool { return w.hub.Stats().Sessions == n })
		after, rss1, g1 := memNow()
		b.ReportMetric(float64(after-before)/float64(n), "heap-B/socket")
		b.ReportMetric(float64(rss1-rss0)/float64(n), "rss-B/socket")
		b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/socket")
		for _, c := range conns {
			_ = c.Close()
		}
		waitUntil(b, "sessions gone", func() bool { return w.hub.Stats().Sessions == 0 })
	}
}

// memNow returns heap+stack in use, RSS and the goroutine count, after a GC.
func memNow() (heap, rss int64, goroutines int) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			pages, _ := strconv.ParseInt(f[1], 10, 64)
			rss = pages * int64(os.Getpagesize())
		}
	}
	return int64(m.HeapInuse + m.StackInuse), rss, runtime.NumGoroutine()
}

// rawUpgrade performs the WebSocket handshake by hand and reads session.created.
func rawUpgrade(b testing.TB, host, key string) net.Conn {
	c, err := net.Dial("tcp", host)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(c, "GET /api/v1/realtime HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"+
		"Sec-WebSocket-Protocol: hapa.v1\r\nX-API-Key: %s\r\n\r\n", host, key)
	br := bufio.NewReaderSize(c, 1024)
	line, err := br.ReadString('\n')
	if err != nil || !strings.Contains(line, "101") {
		b.Fatalf("upgrade: %q %v", line, err)
	}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			b.Fatal(err)
		}
		if l == "\r\n" {
			break
		}
	}
	hdr := make([]byte, 2)
	if _, err := br.Read(hdr); err != nil || hdr[0] != 0x81 { // FIN + text: session.created
		b.Fatalf("first frame header %x %v", hdr, err)
	}
	return c
}

func benchSim() sim.Config { return sim.Config{Seed: 1} } // TTFT 0, ITL 0: the gateway is the bottleneck

// BenchmarkWSRelay compares tokens/s and time to first token of one generation at a
// time over the socket, through the engine alone, and from the simulator directly.
func BenchmarkWSRelay(b *testing.B) {
	w := newWSHarness(b, wsOpt{sim: benchSim(), cfg: Config{FrameRate: 1e6, FrameBurst: 1e6}})
	c := w.dial(b, "bench")
	ctx := context.Background()
	simSrv := httptest.NewServer(sim.New(benchSim())) // a twin of the harness's simulator
	defer simSrv.Close()
	direct, err := vllm.NewClient(vllm.ClientConfig{BaseURL: simSrv.URL})
	if err != nil {
		b.Fatal(err)
	}
	prompt := func(i int) string { return fmt.Sprintf("write a parser for format number %d with tests", i) }
	const maxTokens = 1024
	report := func(b *testing.B, tokens int64, ttft time.Duration, elapsed time.Duration) {
		b.ReportMetric(float64(tokens)/elapsed.Seconds(), "tokens/s")
		b.ReportMetric(float64(ttft.Microseconds())/float64(b.N)/1000, "ttft-ms")
		b.ReportMetric(float64(tokens)/float64(b.N), "tokens/op")
	}
	b.Run("websocket", func(b *testing.B) {
		var tokens int64
		var ttft time.Duration
		start := time.Now()
		for i := 0; b.Loop(); i++ {
			t0 := time.Now()
			s, err := c.Generate(ctx, wsclient.GenerationCreate{Prompt: prompt(i), MaxTokens: maxTokens, Temperature: hot(0.9)})
			if err != nil {
				b.Fatal(err)
			}
			for {
				ev, err := s.Next(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if ev.Type == "stream.delta" && ev.Seq == 1 {
					ttft += time.Since(t0)
				}
				if ev.Terminal() {
					if ev.Usage == nil {
						b.Fatalf("%+v", ev.Error)
					}
					tokens += int64(ev.Usage.CompletionTokens)
					break
				}
			}
		}
		report(b, tokens, ttft, time.Since(start))
	})
	b.Run("websocket-8-streams", func(b *testing.B) { // aggregate relay rate of one busy socket
		var tokens atomic.Int64
		start := time.Now()
		for i := 0; b.Loop(); i++ {
			var wg sync.WaitGroup
			for j := range 8 {
				s, err := c.Generate(ctx, wsclient.GenerationCreate{Prompt: prompt(i*8 + j + 3<<20), MaxTokens: maxTokens, Temperature: hot(0.9)})
				if err != nil {
					b.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					if r, err := s.Collect(ctx); err == nil && r.Done != nil {
						tokens.Add(int64(r.Done.Usage.CompletionTokens))
					}
				}()
			}
			wg.Wait()
		}
		b.ReportMetric(float64(tokens.Load())/time.Since(start).Seconds(), "tokens/s")
	})
	b.Run("engine", func(b *testing.B) {
		var tokens int64
		var ttft time.Duration
		start := time.Now()
		for i := 0; b.Loop(); i++ {
			t0 := time.Now()
			st, err := w.e.Start(ctx, realtime.Request{Kind: realtime.KindGeneration, Prompt: prompt(i + 1<<20), MaxTokens: maxTokens, Temperature: hot(0.9)})
			if err != nil {
				b.Fatal(err)
			}
			first := true
			for {
				ev, err := st.Next(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if ev.Text != "" && first {
					ttft += time.Since(t0)
					first = false
				}
				if ev.Done != nil {
					tokens += int64(ev.Done.Usage.CompletionTokens)
					break
				}
				if ev.Err != nil {
					b.Fatal(ev.Err)
				}
			}
			st.Close()
		}
		report(b, tokens, ttft, time.Since(start))
	})
	b.Run("simulator", func(b *testing.B) {
		var tokens int64
		var ttft time.Duration
		start := time.Now()
		for i := 0; b.Loop(); i++ {
			t0 := time.Now()
			st, err := direct.Stream(ctx, vllm.Request{Model: "prompt", MaxTokens: maxTokens, Temperature: 0.9,
				Messages: []vllm.Message{{Role: "user", Content: prompt(i + 2<<20)}}})
			if err != nil {
				b.Fatal(err)
			}
			first := true
			for st.Next() {
				d := st.Delta()
				if d.Text != "" && first {
					ttft += time.Since(t0)
					first = false
				}
				if d.Usage != nil {
					tokens += int64(d.Usage.CompletionTokens)
				}
			}
			if err := st.Err(); err != nil {
				b.Fatal(err)
			}
			_ = st.Close()
		}
		report(b, tokens, ttft, time.Since(start))
	})
}

// BenchmarkWSDeltaRelayOnly isolates the socket layer: a fake engine stream emits
// 10,000 four-byte pieces as fast as they are read; the figure is pieces ("tokens")
// relayed per second to a client that keeps up, and how many frames carried them.
func BenchmarkWSDeltaRelayOnly(b *testing.B) {
	const pieces = 10000
	w := newWSHarness(b, wsOpt{cfg: Config{FrameRate: 1e6, FrameBurst: 1e6}, fake: func(realtime.Request) eventSource {
		return &fakeSource{piece: "tok ", n: pieces}
	}})
	c := w.dial(b, "bench")
	ctx := context.Background()
	var frames int
	start := time.Now()
	for b.Loop() {
		s, err := c.Generate(ctx, wsclient.GenerationCreate{Prompt: "x"})
		if err != nil {
			b.Fatal(err)
		}
		r, err := s.Collect(ctx)
		if err != nil || r.Done == nil || len(r.Text) != 4*pieces {
			b.Fatalf("%v %+v %d", err, r.Err, len(r.Text))
		}
		frames += r.Deltas
	}
	b.ReportMetric(float64(pieces*b.N)/time.Since(start).Seconds(), "tokens/s")
	b.ReportMetric(float64(frames)/float64(b.N), "frames/op")
}
