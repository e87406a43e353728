package web

import (
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
)

func TestOpenAIChatCacheAndLog(t *testing.T) {
	oe := newOpenAIEnv(t, openAIOpts{})
	ctx := sdkCtx(t)
	first, err := oe.client.Chat.Completions.New(ctx, chatParams("hapa-generate"))
	if err != nil {
		t.Fatal(err)
	}
	// The same request again, streamed: served from the response cache (temperature 0).
	st := oe.client.Chat.Completions.NewStreaming(ctx, chatParams("hapa-generate"))
	var text strings.Builder
	for st.Next() {
		if ch := st.Current(); len(ch.Choices) > 0 {
			text.WriteString(ch.Choices[0].Delta.Content)
		}
	}
	if st.Err() != nil || text.String() != first.Choices[0].Message.Content {
		t.Fatalf("cached stream %q (%v), first %q", text.String(), st.Err(), first.Choices[0].Message.Content)
	}
	if n := oe.sim.Stats().Requests; n != 1 {
		t.Errorf("the simulator got %d requests, want 1 (the second is a cache hit)", n)
	}
	var rows []store.RequestLogRow
	for deadline := time.Now().Add(5 * time.Second); len(rows) < 2 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		rows, err = oe.db.RequestLog().Since(ctx, time.Now().Add(-time.Hour), "", 10)
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(rows) != 2 {
		t.Fatalf("%d request-log rows, want 2", len(rows))
	}
	cached := 0
	for _, r := range rows {
		if r.Route != "POST /v1/chat/completions" || r.Adapter != "prompt" {
			t.Errorf("row route=%q adapter=%q", r.Route, r.Adapter)
		}
		if r.Cached {
			cached++
		}
	}
	if cached != 1 {
		t.Errorf("%d cached rows, want 1", cached)
	}
}
