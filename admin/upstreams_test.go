package admin

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm"
)

// switchablePool is a fake pool that takes admin states.
type switchablePool struct {
	mu       sync.Mutex
	replicas []vllm.ReplicaState
}

func (p *switchablePool) Replicas() []vllm.ReplicaState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]vllm.ReplicaState(nil), p.replicas...)
}
func (p *switchablePool) Simulated() bool { return false }
func (p *switchablePool) SetAdminState(u string, s vllm.AdminState) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.replicas {
		if p.replicas[i].URL == u {
			p.replicas[i].Admin = s
		}
	}
	return nil
}
func (p *switchablePool) admin(u string) vllm.AdminState {
	for _, r := range p.Replicas() {
		if r.URL == u {
			return r.Admin
		}
	}
	return ""
}

func newSwitchable() *switchablePool {
	return &switchablePool{replicas: []vllm.ReplicaState{
		{URL: "http://vllm-a:8000", Healthy: true, Circuit: vllm.CircuitClosed, Admin: vllm.AdminActive},
		{URL: "http://vllm-b:8000", Healthy: true, Circuit: vllm.CircuitClosed, Admin: vllm.AdminActive},
	}}
}

func TestUpstreamAdminStates(t *testing.T) {
	t.Parallel()
	pool := newSwitchable()
	e := newEnv(t, func(d *Deps) { d.Upstreams = pool })
	b := e.browser()
	b.login()
	const a, bURL = "http://vllm-a:8000", "http://vllm-b:8000"
	// Per-replica figures of the last hour come from the request log.
	now := e.clock.Now()
	var rows []store.RequestLogRow
	for i := range 20 {
		r := store.RequestLogRow{CreatedAt: now.Add(-time.Duration(i) * time.Minute), Upstream: a, Status: 200, LatencyMs: float64(100 + i), TTFTMs: 30}
		if i < 2 {
			r.Status, r.ErrorCode = 504, "E5001"
		}
		rows = append(rows, r)
	}
	if err := e.db.RequestLog().InsertBatch(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	page := b.get("/admin/upstreams")
	wantStatus(t, page, http.StatusOK)
	rowA := page.Doc.Find(`[data-testid="replica-traffic"][data-url="` + a + `"]`)
	if got := strings.TrimSpace(rowA.Find(`[data-testid="replica-hour"]`).Text()); !strings.HasPrefix(got, "20, 2") {
		t.Fatalf("last hour %q", got)
	}
	if got := strings.TrimSpace(rowA.Find(`[data-testid="replica-latency"]`).Text()); got != "109 / 119" {
		t.Fatalf("latency %q", got)
	}

	after := b.follow(b.post("/admin/upstreams/state", url.Values{"url": {a}, "state": {"draining"}}))
	if pool.admin(a) != vllm.AdminDraining {
		t.Fatalf("pool state %q", pool.admin(a))
	}
	if got := strings.TrimSpace(after.Doc.Find(`[data-url="` + a + `"] [data-testid="replica-admin"]`).Text()); got != "draining" {
		t.Fatalf("page shows %q", got)
	}
	// Taking the last active replica out asks first.
	ask := b.post("/admin/upstreams/state", url.Values{"url": {bURL}, "state": {"disabled"}})
	wantStatus(t, ask, http.StatusOK)
	if ask.testid("upstream-confirm").Length() != 1 || pool.admin(bURL) != vllm.AdminActive {
		t.Fatal("the last active replica was taken out without asking")
	}
	b.follow(b.post("/admin/upstreams/state", url.Values{"url": {bURL}, "state": {"disabled"}, "confirm": {"yes"}}))
	if pool.admin(bURL) != vllm.AdminDisabled {
		t.Fatal("not disabled after confirmation")
	}
	wantStatus(t, b.post("/admin/upstreams/state", url.Values{"url": {"http://other:1"}, "state": {"active"}}), http.StatusBadRequest)
	wantStatus(t, b.post("/admin/upstreams/state", url.Values{"url": {a}, "state": {"paused"}}), http.StatusBadRequest)

	// Another gateway replica on the same database applies the states.
	other := newSwitchable()
	h2, err := New(Config{}, Deps{DB: e.db, Upstreams: other, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h2.SyncUpstreams(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for (other.admin(a) != vllm.AdminDraining || other.admin(bURL) != vllm.AdminDisabled) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if other.admin(a) != vllm.AdminDraining || other.admin(bURL) != vllm.AdminDisabled {
		t.Fatalf("the other replica has %q and %q", other.admin(a), other.admin(bURL))
	}
	audit := b.get("/admin/audit?action=upstream.")
	if n := audit.testid("audit-row").Length(); n != 2 {
		t.Fatalf("%d upstream audit entries", n)
	}
}
