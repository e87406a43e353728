package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestIncidentWorkflow(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		in := db.Incidents()
		a, err := in.Insert(ctx, Incident{Code: "E5001", Path: "/x", RequestID: "req-1"})
		mustNoErr(t, err)
		b, err := in.Insert(ctx, Incident{Code: "E5005", CreatedAt: time.Now().Add(-time.Hour)})
		mustNoErr(t, err)

		step := func(action, note string, want error) {
			t.Helper()
			err := in.Transition(ctx, a.ID, action, "ops@example.com", note)
			if (want == nil && err != nil) || (want != nil && !errors.Is(err, want)) {
				t.Fatalf("%s: %v, want %v", action, err, want)
			}
		}
		step(IncidentReopen, "", ErrConflict) // already open
		step(IncidentAcknowledge, "looking", nil)
		step(IncidentAcknowledge, "", ErrConflict)
		w, err := in.Work(ctx, a.ID)
		mustNoErr(t, err)
		if w.State() != StateAcknowledged || w.AcknowledgedBy != "ops@example.com" || w.AcknowledgedAt == nil {
			t.Fatalf("after ack %+v", w)
		}
		step(IncidentNote, "vLLM replica 2 restarted", nil)
		step(IncidentResolve, "fixed", nil)
		step(IncidentResolve, "", ErrConflict)
		counts, err := in.StateCounts(ctx)
		mustNoErr(t, err)
		if counts[StateResolved] != 1 || counts[StateOpen] != 1 || counts[StateAcknowledged] != 0 {
			t.Fatalf("counts %v", counts)
		}
		res, err := in.List(ctx, IncidentFilter{State: StateResolved})
		mustNoErr(t, err)
		if len(res) != 1 || res[0].ID != a.ID || res[0].ResolvedBy != "ops@example.com" {
			t.Fatalf("resolved list %+v", res)
		}
		step(IncidentReopen, "came back", nil)
		w, err = in.Work(ctx, a.ID)
		mustNoErr(t, err)
		if w.State() != StateOpen || w.ResolvedAt != nil || w.AcknowledgedAt != nil || len(w.Notes) != 4 {
			t.Fatalf("after reopen %+v", w)
		}
		if w.Notes[0].Action != IncidentAcknowledge || w.Notes[0].Note != "looking" || w.Notes[3].Note != "came back" {
			t.Fatalf("notes %+v", w.Notes)
		}
		open, err := in.List(ctx, IncidentFilter{State: StateOpen, Code: "E5005"})
		mustNoErr(t, err)
		if len(open) != 1 || open[0].ID != b.ID {
			t.Fatalf("open E5005 %+v", open)
		}
		if err := in.Transition(ctx, "INC-nope", IncidentResolve, "x", ""); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown incident: %v", err)
		}
		// Retention deletes an incident with its notes.
		_, err = in.DeleteOlderThan(ctx, time.Now().Add(time.Hour))
		mustNoErr(t, err)
		var n int
		mustNoErr(t, db.x.GetContext(ctx, &n, `SELECT COUNT(*) FROM incident_notes`))
		if n != 0 {
			t.Fatalf("%d notes left after their incident was deleted", n)
		}
	})
}
