package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// The completion events an editor reports (docs/api.md, "Completion feedback").
const (
	CompletionShown     = "shown"
	CompletionAccepted  = "accepted"
	CompletionDismissed = "dismissed"
)

// CompletionEvent is what an editor did with one completion it received.
type CompletionEvent struct {
	ID           int64     `db:"id" json:"-"`
	CompletionID string    `db:"completion_id" json:"completion_id"`
	Event        string    `db:"event" json:"event"`
	CreatedAt    time.Time `db:"created_at" json:"created_at"`       // when the gateway received it
	CompletionAt time.Time `db:"completion_at" json:"completion_at"` // when the completion was made
	LatencyMs    float64   `db:"latency_ms" json:"latency_ms"`       // CreatedAt - CompletionAt
	KeyID        *int64    `db:"key_id" json:"key_id,omitempty"`
	UserID       *int64    `db:"user_id" json:"user_id,omitempty"`
	Language     string    `db:"language" json:"language"`
	Adapter      string    `db:"adapter" json:"adapter"`
	ModelFamily  string    `db:"model_family" json:"model_family"`
	// AcceptedChars and AcceptedLines are what an accepted completion kept (a partial
	// accept keeps less than the whole); nil when not reported.
	AcceptedChars *int `db:"accepted_chars" json:"accepted_chars,omitempty"`
	AcceptedLines *int `db:"accepted_lines" json:"accepted_lines,omitempty"`
}

// CompletionEvents is the accessor of the completion_events table.
type CompletionEvents struct{ db *DB }

// CompletionEvents returns the completion_events accessor.
func (db *DB) CompletionEvents() *CompletionEvents { return &CompletionEvents{db: db} }

const completionEventColumns = `completion_id, event, created_at, completion_at, latency_ms, key_id, user_id,
	language, adapter, model_family, accepted_chars, accepted_lines`

// completionEventsPerInsert bounds one INSERT (12 parameters a row).
const completionEventsPerInsert = 200

// InsertBatch writes events in one transaction; an event already stored for the same
// completion is ignored, so a report sent twice counts once.
func (s *CompletionEvents) InsertBatch(ctx context.Context, evs []CompletionEvent) error {
	if len(evs) == 0 {
		return nil
	}
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		for start := 0; start < len(evs); start += completionEventsPerInsert {
			chunk := evs[start:min(start+completionEventsPerInsert, len(evs))]
			var b strings.Builder
			b.WriteString(`INSERT INTO completion_events (` + completionEventColumns + `) VALUES `)
			args := make([]any, 0, 12*len(chunk))
			for i, e := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
				at := e.CreatedAt
				if at.IsZero() {
					at = s.db.nowUTC()
				}
				args = append(args, e.CompletionID, e.Event, ts(at), ts(e.CompletionAt), e.LatencyMs, e.KeyID, e.UserID,
					e.Language, e.Adapter, e.ModelFamily, e.AcceptedChars, e.AcceptedLines)
			}
			b.WriteString(` ON CONFLICT (completion_id, event) DO NOTHING`)
			if _, err := tx.ExecContext(ctx, tx.Rebind(b.String()), args...); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("insert completion events", err)
}

// Of returns the events of one completion, oldest first.
func (s *CompletionEvents) Of(ctx context.Context, completionID string) ([]CompletionEvent, error) {
	out := []CompletionEvent{}
	q := s.db.x.Rebind(`SELECT id, ` + completionEventColumns + ` FROM completion_events WHERE completion_id = ? ORDER BY created_at, id`)
	return out, wrap("completion events", s.db.x.SelectContext(ctx, &out, q, completionID))
}

// DeleteOlderThan removes events received before t and returns how many.
func (s *CompletionEvents) DeleteOlderThan(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.x.ExecContext(ctx, s.db.x.Rebind(`DELETE FROM completion_events WHERE created_at < ?`), ts(t))
	if err != nil {
		return 0, wrap("prune completion events", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("prune completion events", err)
}

// Acceptance is the acceptance of the completions of one group (a language, an
// adapter, a model family, a key or a user) over a period.
type Acceptance struct {
	Group     string `db:"grp" json:"group"`
	Shown     int64  `db:"shown" json:"shown"`
	Accepted  int64  `db:"accepted" json:"accepted"`
	Dismissed int64  `db:"dismissed" json:"dismissed"`
	// Rate is Accepted / Shown (0 without shown completions).
	Rate          float64 `db:"-" json:"acceptance_rate"`
	AcceptedChars int64   `db:"accepted_chars" json:"accepted_chars"`
	// AcceptMs is the mean time from shown to accepted, over the accepted completions
	// whose shown event was reported too.
	AcceptMs float64 `db:"accept_ms" json:"shown_to_accepted_ms"`
}

// AcceptanceGroups are the groupings Acceptance accepts.
var AcceptanceGroups = []string{"language", "adapter", "model_family", "key_id", "user_id"}

// where is the WHERE clause (and its arguments) of the events q selects: those that
// arrived in [Since, Until) of its key, user and adapter when set. q.Route does not
// apply (completion events come from the completion routes only); a negative key or
// user selects nothing, as it does for usage.
func (q UsageQuery) eventsWhere() (string, []any) {
	w, args := `e.created_at >= ?`, []any{ts(q.Since)}
	if !q.Until.IsZero() {
		w, args = w+` AND e.created_at < ?`, append(args, ts(q.Until))
	}
	if q.KeyID != 0 {
		w, args = w+` AND e.key_id = ?`, append(args, q.KeyID)
	}
	if q.UserID != 0 {
		w, args = w+` AND e.user_id = ?`, append(args, q.UserID)
	}
	if q.Adapter != "" {
		w, args = w+` AND e.adapter = ?`, append(args, q.Adapter)
	}
	return w, args
}

// Acceptance returns the acceptance per group of the completions whose events arrived
// in q's period (of q's key, user and adapter when set), largest Shown first. by is
// one of AcceptanceGroups; "" groups everything into one row with Group "all".
func (s *CompletionEvents) Acceptance(ctx context.Context, q UsageQuery, by string) ([]Acceptance, error) {
	group := `'all'`
	switch by {
	case "":
	case "language", "adapter", "model_family":
		group = "e." + by
	case "key_id", "user_id":
		group = "COALESCE(CAST(e." + by + " AS TEXT), '')"
	default:
		return nil, fmt.Errorf("store: acceptance by %q: want one of %v", by, AcceptanceGroups)
	}
	where, args := q.eventsWhere()
	sql := `SELECT ` + group + ` AS grp,
		SUM(CASE WHEN e.event = 'shown' THEN 1 ELSE 0 END) AS shown,
		SUM(CASE WHEN e.event = 'accepted' THEN 1 ELSE 0 END) AS accepted,
		SUM(CASE WHEN e.event = 'dismissed' THEN 1 ELSE 0 END) AS dismissed,
		COALESCE(SUM(CASE WHEN e.event = 'accepted' THEN e.accepted_chars ELSE 0 END), 0) AS accepted_chars,
		COALESCE(AVG(CASE WHEN e.event = 'accepted' THEN e.latency_ms - sh.latency_ms END), 0) AS accept_ms
	FROM completion_events e
	LEFT JOIN completion_events sh ON e.event = 'accepted' AND sh.completion_id = e.completion_id AND sh.event = 'shown'
	WHERE ` + where + `
	GROUP BY 1
	ORDER BY shown DESC, grp`
	out := []Acceptance{}
	if err := s.db.x.SelectContext(ctx, &out, s.db.x.Rebind(sql), args...); err != nil {
		return nil, wrap("completion acceptance", err)
	}
	for i := range out {
		out[i].Rate = rate(out[i].Accepted, out[i].Shown)
	}
	return out, nil
}

// rate is accepted / shown, 0 without shown completions.
func rate(accepted, shown int64) float64 {
	if shown == 0 {
		return 0
	}
	return float64(accepted) / float64(shown)
}

// AcceptancePoint is the acceptance of one time bucket.
type AcceptancePoint struct {
	Start    time.Time `json:"start"`
	Shown    int64     `json:"shown"`
	Accepted int64     `json:"accepted"`
	Rate     float64   `json:"acceptance_rate"`
}

// AcceptanceSeries returns the acceptance of q's events per q.Step — an hour or a UTC
// day — from q.Since to q.Until (now when zero), one point per bucket, empty buckets
// included.
func (s *CompletionEvents) AcceptanceSeries(ctx context.Context, q UsageQuery) ([]AcceptancePoint, error) {
	var bucket string
	switch {
	case q.Step == time.Hour && s.db.dialect == Postgres:
		bucket = `date_trunc('hour', e.created_at AT TIME ZONE 'UTC')`
	case q.Step == time.Hour:
		bucket = `strftime('%Y-%m-%d %H:00:00', e.created_at)`
	case q.Step == 24*time.Hour && s.db.dialect == Postgres:
		bucket = `date_trunc('day', e.created_at AT TIME ZONE 'UTC')`
	case q.Step == 24*time.Hour:
		bucket = `strftime('%Y-%m-%d 00:00:00', e.created_at)`
	default:
		return nil, fmt.Errorf("store: acceptance series: step %s, want 1h or 24h", q.Step)
	}
	q.Since = q.Since.UTC().Truncate(q.Step)
	until := q.Until
	if until.IsZero() {
		until = s.db.now()
	}
	var rows []struct {
		Bucket   string `db:"bucket"`
		Shown    int64  `db:"shown"`
		Accepted int64  `db:"accepted"`
	}
	where, args := q.eventsWhere()
	sql := `SELECT CAST(` + bucket + ` AS TEXT) AS bucket,
		SUM(CASE WHEN e.event = 'shown' THEN 1 ELSE 0 END) AS shown,
		SUM(CASE WHEN e.event = 'accepted' THEN 1 ELSE 0 END) AS accepted
	FROM completion_events e WHERE ` + where + ` GROUP BY bucket`
	if err := s.db.x.SelectContext(ctx, &rows, s.db.x.Rebind(sql), args...); err != nil {
		return nil, wrap("completion acceptance series", err)
	}
	byStart := map[time.Time][2]int64{}
	for _, r := range rows {
		t, err := time.Parse("2006-01-02 15:04:05", r.Bucket[:min(19, len(r.Bucket))])
		if err != nil {
			return nil, fmt.Errorf("store: acceptance series: bucket %q: %w", r.Bucket, err)
		}
		byStart[t] = [2]int64{r.Shown, r.Accepted}
	}
	var out []AcceptancePoint
	for t := q.Since; t.Before(until); t = t.Add(q.Step) {
		c := byStart[t]
		out = append(out, AcceptancePoint{Start: t, Shown: c[0], Accepted: c[1], Rate: rate(c[1], c[0])})
	}
	return out, nil
}
