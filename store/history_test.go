package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestHistory(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		clk := newClock()
		db.now = clk.Now
		alice, err := db.Users().Create(ctx, User{Email: "alice@example.com"})
		mustNoErr(t, err)
		bob, err := db.Users().Create(ctx, User{Email: "bob@example.com"})
		mustNoErr(t, err)
		h := db.History()
		s1, err := h.CreateSession(ctx, NewSession{UserID: alice.ID, Title: "HAPA Session", Tags: []string{"vscode", "hapa"}, ProjectName: "web"})
		mustNoErr(t, err)
		clk.Add(time.Minute)
		s2, err := h.CreateSession(ctx, NewSession{UserID: alice.ID, PrimaryLanguage: "go"})
		mustNoErr(t, err)
		if len(s1.SessionID) != len("session_")+8 || s2.SessionTitle != "Session session_" {
			t.Fatalf("sessions %+v %+v", s1, s2)
		}
		line := 12
		for i, e := range []HistoryEntry{
			{ConversationType: "question", Content: "How do I reverse a list?"},
			{ConversationType: "answer", Content: "Use reversed()", CodeSnippet: "list(reversed(xs))", LineNumber: &line},
			{ConversationType: "question", Content: "And 100% in place?"},
		} {
			clk.Add(time.Minute)
			e.UserID, e.SessionID = alice.ID, s1.SessionID
			got, err := h.AddEntry(ctx, e)
			mustNoErr(t, err)
			if i == 1 && (got.EntryID == "" || got.Language != "python") {
				t.Fatalf("entry %+v", got)
			}
		}
		if _, err := h.AddEntry(ctx, HistoryEntry{UserID: bob.ID, SessionID: s1.SessionID, ConversationType: "question"}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("AddEntry to another user's session = %v", err)
		}
		got, err := h.Session(ctx, alice.ID, s1.SessionID)
		mustNoErr(t, err)
		if got.TotalEntries != 3 || got.QuestionCount != 2 || got.AnswerCount != 1 || !got.LastActivity.Equal(clk.Now()) ||
			!slices.Equal(got.Tags, JSONStrings{"vscode", "hapa"}) {
			t.Fatalf("session after entries %+v", got)
		}
		list, err := h.ListSessions(ctx, alice.ID, 10)
		mustNoErr(t, err)
		if len(list) != 2 || list[0].SessionID != s1.SessionID {
			t.Fatalf("ListSessions = %+v", list)
		}
		if l, _ := h.ListSessions(ctx, bob.ID, 10); len(l) != 0 {
			t.Fatalf("bob sees %+v", l)
		}
		entries, err := h.Entries(ctx, alice.ID, s1.SessionID, 2)
		mustNoErr(t, err)
		if len(entries) != 2 || entries[0].Content != "And 100% in place?" || entries[1].LineNumber == nil || *entries[1].LineNumber != 12 {
			t.Fatalf("Entries = %+v", entries)
		}
		if _, err := h.Entries(ctx, bob.ID, s1.SessionID, 10); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Entries by non-owner = %v", err)
		}
		tests := []struct {
			name string
			f    SearchFilter
			want int
		}{
			{"content, case-insensitive", SearchFilter{Query: "REVERSE"}, 2},
			{"content only", SearchFilter{Query: "a LIST"}, 1},
			{"code snippet", SearchFilter{Query: "reversed(xs)"}, 1},
			{"percent is literal", SearchFilter{Query: "100%"}, 1},
			{"type", SearchFilter{ConversationType: "question"}, 2},
			{"session filter", SearchFilter{SessionIDs: []string{s2.SessionID}}, 0},
			{"date range", SearchFilter{From: clk.Now().Add(-90 * time.Second), To: clk.Now().Add(time.Second)}, 2},
			{"language", SearchFilter{Language: "go"}, 0},
			{"limit", SearchFilter{Limit: 1}, 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := h.Search(ctx, alice.ID, tt.f)
				mustNoErr(t, err)
				if len(got) != tt.want {
					t.Fatalf("Search = %d entries, want %d", len(got), tt.want)
				}
			})
		}
		if got, _ := h.Search(ctx, bob.ID, SearchFilter{Query: "reverse"}); len(got) != 0 {
			t.Fatal("bob found alice's entries")
		}
		st, err := h.Stats(ctx, alice.ID)
		mustNoErr(t, err)
		if st.TotalSessions != 2 || st.ActiveSessions != 2 || st.TotalEntries != 3 || st.TotalQuestions != 2 ||
			st.TotalAnswers != 1 || st.LanguageDistribution["go"] != 1 || st.LanguageDistribution["python"] != 1 {
			t.Fatalf("Stats = %+v", st)
		}
		if _, err := h.DeleteSession(ctx, bob.ID, s1.SessionID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("DeleteSession by non-owner = %v", err)
		}
		n, err := h.DeleteSession(ctx, alice.ID, s1.SessionID)
		mustNoErr(t, err)
		if n != 3 {
			t.Fatalf("DeleteSession removed %d entries", n)
		}
		var left int
		mustNoErr(t, db.x.GetContext(ctx, &left, `SELECT COUNT(*) FROM history_entries`))
		if left != 0 {
			t.Fatalf("%d entries survived their session", left)
		}
	})
}
