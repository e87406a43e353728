package ws

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hapa-project/hapa/realtime"
)

type decodedFrame struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Seq  int64  `json:"seq"`
	Text string `json:"text"`
}

func decodeFrames(t *testing.T, fs []outFrame) []decodedFrame {
	t.Helper()
	out := make([]decodedFrame, 0, len(fs))
	for _, f := range fs {
		var d decodedFrame
		if err := json.Unmarshal(f.data, &d); err != nil {
			t.Fatalf("frame %s: %v", f.data, err)
		}
		if d.Type != f.typ {
			t.Fatalf("frame type %q tagged %q", d.Type, f.typ)
		}
		out = append(out, d)
	}
	return out
}

func TestSendQueueMergesDeltasOfOneStream(t *testing.T) {
	q := newSendQueue(4, nil)
	a, b := &outStream{id: "a"}, &outStream{id: "b"}
	q.started(a, startedFrame("a", realtime.KindGeneration, realtime.StreamInfo{}))
	for _, s := range []string{"def ", "f(", "):"} {
		q.text(a, s)
	}
	q.started(b, startedFrame("b", realtime.KindCompletion, realtime.StreamInfo{}))
	q.text(b, "x")
	q.pushControl(EventPong, []byte(`{"type":"pong"}`))
	q.text(a, "\n    pass")
	q.finish(a, doneFrame("a", realtime.Done{FinishReason: "stop"}))

	got := decodeFrames(t, q.take(nil))
	want := []decodedFrame{
		{Type: EventPong},
		{Type: EventStreamStarted, ID: "a"},
		{Type: EventStreamDelta, ID: "a", Seq: 1, Text: "def f():\n    pass"},
		{Type: EventStreamDone, ID: "a"},
		{Type: EventStreamStarted, ID: "b"},
		{Type: EventStreamDelta, ID: "b", Seq: 1, Text: "x"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d frames %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("frame %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	q.text(b, "y")
	got = decodeFrames(t, q.take(nil))
	if len(got) != 1 || got[0].Seq != 2 || got[0].Text != "y" {
		t.Errorf("second take = %+v, want b seq 2", got)
	}
	if f := q.take(nil); len(f) != 0 {
		t.Errorf("empty queue gave %d frames", len(f))
	}
}

func TestSendQueueSeqGapFreeUnderAnyInterleaving(t *testing.T) {
	q := newSendQueue(8, nil)
	st := &outStream{id: "s"}
	var want, got strings.Builder
	var seq int64
	for i := range 500 {
		piece := strings.Repeat("é", i%7+1)
		want.WriteString(piece)
		q.text(st, piece)
		if i%(i%5+1) == 0 { // the writer takes at irregular moments
			for _, f := range decodeFrames(t, q.take(nil)) {
				if f.Seq != seq+1 {
					t.Fatalf("seq %d after %d", f.Seq, seq)
				}
				seq = f.Seq
				got.WriteString(f.Text)
			}
		}
	}
	for _, f := range decodeFrames(t, q.take(nil)) {
		seq++
		if f.Seq != seq {
			t.Fatalf("seq %d, want %d", f.Seq, seq)
		}
		got.WriteString(f.Text)
	}
	if got.String() != want.String() {
		t.Fatal("concatenated text differs from the input")
	}
	if st.frames >= 500 {
		t.Errorf("%d frames for 500 pieces: nothing merged", st.frames)
	}
}

func TestSendQueueSplitsLargeMergedText(t *testing.T) {
	q := newSendQueue(1, nil)
	st := &outStream{id: "s"}
	big := strings.Repeat("ü", maxDeltaBytes) // 2 bytes each: 2 × maxDeltaBytes
	q.text(st, big)
	frames := decodeFrames(t, q.take(nil))
	var joined strings.Builder
	for i, f := range frames {
		if len(f.Text) > maxDeltaBytes || !utf8.ValidString(f.Text) || f.Seq != int64(i+1) {
			t.Fatalf("frame %d: %d bytes, seq %d", i, len(f.Text), f.Seq)
		}
		joined.WriteString(f.Text)
	}
	if joined.String() != big || len(frames) != 2 {
		t.Fatalf("%d frames, text intact: %v", len(frames), joined.String() == big)
	}
}

func TestSendQueueBound(t *testing.T) {
	q := newSendQueue(2, nil)
	if !q.pushControl(EventPong, []byte(`{}`)) || !q.pushControl(EventPong, []byte(`{}`)) {
		t.Fatal("push under the bound failed")
	}
	if q.pushControl(EventPong, []byte(`{}`)) {
		t.Fatal("push over the bound succeeded: want false (session closes 4008)")
	}
	// Stream output does not count against the bound.
	st := &outStream{id: "s"}
	for range 1000 {
		q.text(st, "x")
	}
	if n := len(q.take(nil)); n != 3 {
		t.Fatalf("took %d frames, want 2 control + 1 merged delta", n)
	}
	q.close()
	if !q.pushControl(EventPong, []byte(`{}`)) {
		t.Fatal("push after close must be a silent no-op")
	}
}

func TestSplitAt(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want int
	}{
		{"abc", 5, 3}, {"abcdef", 4, 4}, {"aé", 2, 1}, {"€€", 4, 3}, {"€", 1, 1},
	}
	for _, tt := range tests {
		if got := splitAt([]byte(tt.in), tt.n); got != tt.want {
			t.Errorf("splitAt(%q, %d) = %d, want %d", tt.in, tt.n, got, tt.want)
		}
	}
}
