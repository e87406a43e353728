package storetest

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
)

// Traffic describes synthetic request-log rows for usage tests and benchmarks: Rows
// requests spread over Span before End, from Users users holding Keys keys between
// them (5 % of the requests come with a JWT and no key). Each key mostly keeps to one
// client — an editor socket completing, or REST generation — as real keys do, with
// 4 adapters, 6 routes, a day/night rhythm, 2 % server and 1 % client errors, 3 %
// cancels, 30 % cache hits and 5 % coalesced joiners.
type Traffic struct {
	Rows  int
	Users int
	Keys  int
	Span  time.Duration
	End   time.Time
	Seed  uint64
}

// SeedTraffic creates the users and keys and writes the rows through
// RequestLog.InsertBatch (which keeps the usage rollups) in batches of 1000. It returns
// the key ids.
func SeedTraffic(t testing.TB, db *store.DB, tr Traffic) []int64 {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(tr.Seed, 99))
	users := make([]int64, tr.Users)
	for i := range users {
		u, err := db.Users().Create(ctx, store.User{Email: "user" + strconv.Itoa(i) + "@traffic.example", Name: "User " + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		users[i] = u.ID
	}
	type profile struct {
		key, user int64
		editor    bool
		weight    float64
	}
	profiles := make([]profile, tr.Keys)
	var total float64
	for i := range profiles {
		uid := users[i%len(users)]
		_, k, err := db.APIKeys().Create(ctx, store.NewKey{UserID: &uid, Name: "key " + strconv.Itoa(i), Scopes: store.KnownScopes()})
		if err != nil {
			t.Fatal(err)
		}
		w := math.Exp(rng.NormFloat64()) // a few heavy keys, many light ones
		profiles[i] = profile{key: k.ID, user: uid, editor: rng.IntN(3) != 0, weight: w}
		total += w
	}
	pick := func() profile {
		x := rng.Float64() * total
		for _, p := range profiles {
			if x -= p.weight; x <= 0 {
				return p
			}
		}
		return profiles[len(profiles)-1]
	}
	keys := make([]int64, len(profiles))
	for i, p := range profiles {
		keys[i] = p.key
	}
	batch := make([]store.RequestLogRow, 0, 1000)
	flush := func() {
		if err := db.RequestLog().InsertBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		batch = batch[:0]
	}
	// Day/night: a time is kept with a probability following its UTC hour. Rows are
	// written oldest first, as the gateway writes them: a batch spans minutes.
	times := make([]time.Time, tr.Rows)
	for i := range times {
		for {
			times[i] = tr.End.Add(-time.Duration(rng.Int64N(int64(tr.Span))))
			if rng.Float64() < 0.3+0.7*math.Max(0, math.Sin(float64(times[i].Hour()-6)/24*2*math.Pi)) {
				break
			}
		}
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	for i, at := range times {
		p := pick()
		r := store.RequestLogRow{CreatedAt: at, RequestID: "req-" + strconv.Itoa(i), Status: 200}
		uid := p.user
		r.UserID = &uid
		if rng.IntN(20) != 0 {
			kid := p.key
			r.KeyID = &kid
		}
		editor := p.editor != (rng.IntN(10) == 0)
		if editor {
			r.Kind, r.Adapter, r.Route = "completion", "completion", "WS completion"
			if rng.IntN(4) == 0 {
				r.Route = "POST /api/v1/code/complete"
			}
			r.TokensIn, r.TokensOut = 300+rng.IntN(900), 5+rng.IntN(60)
			r.TTFTMs = math.Exp(rng.NormFloat64()*0.4 + 4.2)
			r.LatencyMs = r.TTFTMs + float64(r.TokensOut)*12*math.Exp(rng.NormFloat64()*0.2)
		} else {
			r.Kind = "generation"
			r.Adapter = []string{"prompt", "prompt", "explain", "test"}[rng.IntN(4)]
			r.Route = []string{"POST /api/v1/code/generate/stream", "POST /api/v1/code/generate", "POST /v1/chat/completions", "WS generation"}[rng.IntN(4)]
			r.TokensIn, r.TokensOut = 150+rng.IntN(400), 50+rng.IntN(700)
			r.TTFTMs = math.Exp(rng.NormFloat64()*0.5 + 5)
			r.LatencyMs = r.TTFTMs + float64(r.TokensOut)*15*math.Exp(rng.NormFloat64()*0.2)
		}
		r.UpstreamIn, r.UpstreamOut, r.Upstream = r.TokensIn, r.TokensOut, "http://vllm-"+strconv.Itoa(rng.IntN(3))+":8000"
		switch x := rng.IntN(100); {
		case x < 2:
			r.Status, r.ErrorCode, r.TokensOut, r.UpstreamOut = 504, "E5001", 0, 0
		case x < 3:
			r.Status, r.ErrorCode, r.TokensOut, r.UpstreamOut, r.TTFTMs = 400, "E4008", 0, 0, 0
		case x < 6:
			r.Status = store.StatusCancelled
			r.TokensOut, r.UpstreamOut = r.TokensOut/3, r.TokensOut/3
		case x < 36:
			r.Cached, r.UpstreamIn, r.UpstreamOut, r.Upstream = true, 0, 0, ""
			r.TTFTMs, r.LatencyMs = 0.1+rng.Float64()*0.3, 0.2+rng.Float64()*0.6
		case x < 41:
			r.Coalesced, r.UpstreamIn, r.UpstreamOut = true, 0, 0
		}
		batch = append(batch, r)
		if len(batch) == cap(batch) {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	return keys
}
