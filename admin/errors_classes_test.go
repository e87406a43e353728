package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
)

// A client cancel is no error on the console (not E5004, not in the error rate), and
// client errors are on the errors page, filtered by class.
func TestErrorsPageClasses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	now := e.clock.Now()
	if err := e.db.RequestLog().InsertBatch(ctx, []store.RequestLogRow{
		{CreatedAt: now.Add(-time.Minute), RequestID: "ok", Adapter: "prompt", Status: 200},
		{CreatedAt: now.Add(-2 * time.Minute), RequestID: "left", Adapter: "prompt", Status: store.StatusCancelled},
		{CreatedAt: now.Add(-3 * time.Minute), RequestID: "long", Adapter: "prompt", Status: 422, ErrorCode: "E4008"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.ClientErrors().Add(ctx, []store.ClientErrorCount{{Minute: now.Add(-2 * time.Minute), Code: "E4003", Count: 3}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Incidents().Insert(ctx, store.Incident{ID: "INC-20261201-0000000A", Code: "E5001",
		CreatedAt: now.Add(-time.Minute), Path: "/api/v1/users/me", HTTPStatus: 504}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login()
	codes := func(res response) map[string]string {
		out := map[string]string{}
		for _, n := range res.testid("code-row").Nodes {
			row := res.Doc.FindNodes(n)
			out[row.AttrOr("data-code", "")] = strings.TrimSpace(row.Find(`[data-testid="code-count"]`).Text())
		}
		return out
	}
	for class, want := range map[string]map[string]string{
		"":    {"E4003": "3", "E4008": "1", "E5001": "1"},
		"all": {"E4003": "3", "E4008": "1", "E5001": "1"},
		"4xx": {"E4003": "3", "E4008": "1"},
		"5xx": {"E5001": "1"},
	} {
		res := b.get("/admin/errors?period=1h&class=" + class)
		wantStatus(t, res, http.StatusOK)
		if got := codes(res); len(got) != len(want) || func() bool {
			for c, n := range want {
				if got[c] != n {
					return true
				}
			}
			return false
		}() {
			t.Errorf("class %q: codes %v, want %v", class, got, want)
		}
		current := class
		if current == "" {
			current = "all"
		}
		if cur := res.Doc.Find(`[data-testid="errors-classes"] [aria-current="true"]`).AttrOr("data-testid", ""); cur != "errors-class-"+current {
			t.Errorf("class %q: current filter %q", class, cur)
		}
		if txt := res.testid("errors-cancelled").Text(); !strings.Contains(txt, "Cancelled by the client: 1 of 3 requests") {
			t.Errorf("class %q: cancelled %q", class, txt)
		}
	}
	res := b.get("/admin/")
	for id, want := range map[string]string{"stat-errors": "33.3 %", "stat-cancelled": "33.3 %"} {
		if got := res.testid(id).Find(".value").Text(); !strings.Contains(got, want) {
			t.Errorf("overview %s = %q, want %q", id, got, want)
		}
	}
}
