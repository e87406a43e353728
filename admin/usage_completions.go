package admin

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/hapa-project/hapa/store"
)

// The usage page's "Inline completions" section: what editors did with the
// completions they were shown (docs/api.md, "Completion feedback"), over the page's
// period and its key, user and adapter filters.

// AcceptanceRow is the acceptance of one language, adapter, model family, key or user.
type AcceptanceRow struct {
	Name      string
	URL       string // the usage page filtered to it (keys, users, adapters)
	Shown     int64
	Accepted  int64
	Dismissed int64
	Rate      string
	AcceptMs  string // mean time from shown to accepted
	Chars     int64  // characters kept by accepted completions
}

// CompletionsView is the section.
type CompletionsView struct {
	Total                           AcceptanceRow
	Counts, Rate                    SeriesChart
	ByLanguage, ByAdapter, ByFamily []AcceptanceRow
	ByKey, ByUser                   []AcceptanceRow
}

// completions builds the section for uq.
func (h *Handler) completions(ctx context.Context, r *http.Request, uq store.UsageQuery, layout string) (CompletionsView, error) {
	ev := h.db.CompletionEvents()
	var v CompletionsView
	all, err := ev.Acceptance(ctx, uq, "")
	if err != nil {
		return v, err
	}
	v.Total = acceptanceRow(store.Acceptance{Group: "all"})
	if len(all) == 1 {
		v.Total = acceptanceRow(all[0])
	}
	series, err := ev.AcceptanceSeries(ctx, uq)
	if err != nil {
		return v, err
	}
	starts := make([]time.Time, len(series))
	var accepted, other, rate []float64
	for i, p := range series {
		starts[i] = p.Start
		accepted, other = append(accepted, float64(p.Accepted)), append(other, float64(max(p.Shown-p.Accepted, 0)))
		r := -1.0 // nothing shown: a gap in the line
		if p.Shown > 0 {
			r = p.Rate * 100
		}
		rate = append(rate, r)
	}
	step := "per " + map[bool]string{true: "day", false: "hour"}[uq.Step == 24*time.Hour]
	v.Counts = newSeriesChart("Completions shown "+step, "completions", starts, layout,
		Series{Name: "accepted", Class: "s1", Values: accepted}, Series{Name: "shown, not accepted", Class: "s4", Values: other})
	v.Rate = newScaledChart("Acceptance rate "+step, "%", 100, starts, layout,
		Series{Name: "accepted ÷ shown", Class: "s1", Values: rate, Line: true})

	for _, g := range []struct {
		by  string
		dst *[]AcceptanceRow
	}{{"language", &v.ByLanguage}, {"adapter", &v.ByAdapter}, {"model_family", &v.ByFamily}} {
		rows, err := ev.Acceptance(ctx, uq, g.by)
		if err != nil {
			return v, err
		}
		for _, a := range rows {
			row := acceptanceRow(a)
			if g.by == "adapter" {
				q := r.URL.Query()
				q.Set("adapter", a.Group)
				row.URL = "/admin/usage?" + q.Encode()
			}
			*g.dst = append(*g.dst, row)
		}
	}
	if uq.KeyID == 0 {
		if v.ByKey, err = h.acceptanceOf(ctx, r, uq, "key_id"); err != nil {
			return v, err
		}
	}
	if uq.KeyID == 0 && uq.UserID == 0 {
		if v.ByUser, err = h.acceptanceOf(ctx, r, uq, "user_id"); err != nil {
			return v, err
		}
	}
	return v, nil
}

// acceptanceOf is the acceptance per key or user, the ten with the most completions
// shown, named as in the top lists.
func (h *Handler) acceptanceOf(ctx context.Context, r *http.Request, uq store.UsageQuery, by string) ([]AcceptanceRow, error) {
	rows, err := h.db.CompletionEvents().Acceptance(ctx, uq, by)
	if err != nil {
		return nil, err
	}
	rows = rows[:min(len(rows), usageTopN)]
	ids := make([]int64, 0, len(rows))
	for _, a := range rows {
		if id, err := strconv.ParseInt(a.Group, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	var keys map[int64]store.KeyLabel
	var users map[int64]string
	if by == "key_id" {
		keys, err = h.db.APIKeys().Labels(ctx, ids)
	} else {
		users, err = h.db.Users().Emails(ctx, ids)
	}
	if err != nil {
		return nil, err
	}
	out := make([]AcceptanceRow, 0, len(rows))
	for _, a := range rows {
		row := acceptanceRow(a)
		id, err := strconv.ParseInt(a.Group, 10, 64)
		switch {
		case err != nil && by == "key_id":
			row.Name = "no key (JWT)"
		case err != nil:
			row.Name = "no user"
		case by == "key_id":
			row.Name = "key " + a.Group + " (deleted)"
			if k, ok := keys[id]; ok {
				row.Name = k.Prefix + "… " + k.Owner
			}
		default:
			row.Name = "user " + a.Group + " (deleted)"
			if e, ok := users[id]; ok {
				row.Name = e
			}
		}
		if err == nil {
			q := r.URL.Query()
			q.Set(map[string]string{"key_id": "key", "user_id": "user"}[by], a.Group)
			row.URL = "/admin/usage?" + q.Encode()
		}
		out = append(out, row)
	}
	return out, nil
}

// acceptanceRow formats one group's acceptance.
func acceptanceRow(a store.Acceptance) AcceptanceRow {
	row := AcceptanceRow{Name: a.Group, Shown: a.Shown, Accepted: a.Accepted, Dismissed: a.Dismissed, Chars: a.AcceptedChars,
		Rate: "–", AcceptMs: "–"}
	if row.Name == "" {
		row.Name = "(unknown)"
	}
	if a.Shown > 0 {
		row.Rate = pct(a.Rate)
	}
	if a.Accepted > 0 && a.AcceptMs > 0 {
		row.AcceptMs = ms(a.AcceptMs)
	}
	return row
}
