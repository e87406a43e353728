package admin

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

func TestUsagePage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login()
	const rows = 3000
	keys := storetest.SeedTraffic(t, e.db, storetest.Traffic{Rows: rows, Users: 12, Keys: 20, Span: 7 * 24 * time.Hour,
		End: e.clock.Now(), Seed: 3})
	count := func(f store.LogFilter) int64 {
		t.Helper()
		f.Since = e.clock.Now().Add(-40 * 24 * time.Hour)
		st, err := e.db.RequestLog().Stats(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		return int64(st.Total.Requests)
	}
	tileNum := func(r response, id string) int64 {
		t.Helper()
		txt := strings.TrimSpace(r.testid(id).Find(".value").Contents().First().Text())
		n, err := strconv.ParseInt(txt, 10, 64)
		if err != nil {
			t.Fatalf("tile %s = %q", id, txt)
		}
		return n
	}
	sumColumn := func(r response, table string) int64 {
		var n int64
		r.testid(table + "-row").Each(func(_ int, s *goquery.Selection) {
			v, _ := strconv.ParseInt(strings.TrimSpace(s.Find(`[data-testid="usage-group-requests"]`).Text()), 10, 64)
			n += v
		})
		return n
	}

	for _, q := range []string{"", "?period=30d", "?period=30d&step=hour", "?period=24h", "?period=7d&step=hour"} {
		res := b.get("/admin/usage" + q)
		wantStatus(t, res, http.StatusOK)
		for _, id := range []string{"usage-chart-requests", "usage-chart-tokens", "usage-chart-latency"} {
			if res.testid(id).Find("svg").Length() != 1 && res.testid(id).Find(".empty").Length() != 1 {
				t.Fatalf("%s: no chart %s", q, id)
			}
		}
	}
	month := b.get("/admin/usage?period=30d")
	if got := tileNum(month, "usage-requests"); got != rows {
		t.Fatalf("30 days: %d requests, want %d", got, rows)
	}
	if got := sumColumn(month, "usage-by-adapter"); got != rows {
		t.Fatalf("adapters add up to %d", got)
	}
	if got := sumColumn(month, "usage-by-route"); got != rows {
		t.Fatalf("routes add up to %d", got)
	}
	if n := month.testid("usage-top-keys-row").Length(); n != usageTopN {
		t.Fatalf("%d top keys", n)
	}
	if n := month.testid("usage-chart-requests").Find("ul.legend li").Length(); n != 4 {
		t.Fatalf("requests chart has %d series", n)
	}
	// A key's usage is that key's rows; a user's those of the user.
	k := keys[4]
	one := b.get("/admin/usage?period=30d&key=" + itoa(k))
	if got, want := tileNum(one, "usage-requests"), count(store.LogFilter{KeyID: k}); got != want {
		t.Fatalf("key %d: %d requests, want %d", k, got, want)
	}
	if one.testid("usage-key-label").Length() != 1 || one.testid("usage-top-keys").Length() != 0 {
		t.Fatal("the key filter is not shown, or top keys are")
	}
	u, _ := e.db.Users().ByEmail(context.Background(), "user3@traffic.example")
	byUser := b.get("/admin/usage?period=30d&user=user3%40traffic.example")
	if got, want := tileNum(byUser, "usage-requests"), count(store.LogFilter{UserID: u.ID}); got != want {
		t.Fatalf("user: %d requests, want %d", got, want)
	}
	adapter := b.get("/admin/usage?period=30d&adapter=completion")
	if got, want := tileNum(adapter, "usage-requests"), count(store.LogFilter{Adapter: "completion"}); got != want {
		t.Fatalf("adapter: %d requests, want %d", got, want)
	}
	if b.get("/admin/usage?user=nobody%40example.com").testid("usage-problems").Length() != 1 {
		t.Fatal("an unknown user is not reported")
	}

	// Inline completions: the acceptance of the page's period and filters.
	made := e.clock.Now().Add(-time.Hour)
	var evs []store.CompletionEvent
	for i, c := range []struct {
		id, event, lang string
		key             int64
	}{{"c1", "shown", "python", keys[0]}, {"c1", "accepted", "python", keys[0]}, {"c2", "shown", "python", keys[0]},
		{"c3", "shown", "go", keys[1]}, {"c3", "accepted", "go", keys[1]}, {"c4", "shown", "go", keys[1]}} {
		key := c.key
		evs = append(evs, store.CompletionEvent{CompletionID: c.id, Event: c.event, CreatedAt: made.Add(time.Duration(i) * time.Second),
			CompletionAt: made, KeyID: &key, Language: c.lang, Adapter: "autocomplete", ModelFamily: "deepseek-coder"})
	}
	if err := e.db.CompletionEvents().InsertBatch(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	week := b.get("/admin/usage")
	if got := tileNum(week, "usage-completions-shown"); got != 4 {
		t.Fatalf("completions shown %d, want 4", got)
	}
	if n := week.testid("usage-acceptance-language-row").Length(); n != 2 || week.testid("usage-acceptance-key-row").Length() != 2 {
		t.Fatalf("%d languages, %d keys in the acceptance tables", n, week.testid("usage-acceptance-key-row").Length())
	}
	if rate := strings.TrimSpace(week.testid("usage-completions-rate").Find(".value").Contents().First().Text()); rate != "50.0 %" {
		t.Fatalf("acceptance rate %q", rate)
	}
	oneKey := b.get("/admin/usage?key=" + itoa(keys[1]))
	if got := tileNum(oneKey, "usage-completions-accepted"); got != 1 || oneKey.testid("usage-acceptance-key").Length() != 0 {
		t.Fatalf("one key: %d accepted, key table %d", got, oneKey.testid("usage-acceptance-key").Length())
	}
	if week.testid("usage-chart-acceptance").Find("svg polyline").Length() == 0 {
		t.Fatal("no acceptance-rate line")
	}

	// CSV exports add up to the same totals.
	for _, group := range []string{"time", "key", "user", "adapter", "route"} {
		href, _ := month.testid("usage-csv-" + group).Attr("href")
		res := b.get(href)
		wantStatus(t, res, http.StatusOK)
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("%s: content type %q", group, ct)
		}
		recs, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if recs[0][1] != "requests" {
			t.Fatalf("%s: header %v", group, recs[0])
		}
		var n int64
		for _, r := range recs[1:] {
			v, _ := strconv.ParseInt(r[1], 10, 64)
			n += v
		}
		if n != rows {
			t.Fatalf("CSV by %s adds up to %d", group, n)
		}
	}
	wantStatus(t, b.get("/admin/usage.csv?group=nope"), http.StatusBadRequest)
}
