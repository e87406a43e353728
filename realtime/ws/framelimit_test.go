package ws

import (
	"fmt"
	"testing"
	"time"
)

func TestFrameLimiter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t.Run("burst then refill", func(t *testing.T) {
		l := newFrameLimiter(10, 3)
		for i := range 3 {
			if v := l.allow(t0); v != frameOK {
				t.Fatalf("frame %d: %v", i, v)
			}
		}
		if v := l.allow(t0); v != frameRejectNotify {
			t.Fatalf("4th frame: %v, want a notified rejection", v)
		}
		if d := l.retryAfter(); d <= 0 || d > 100*time.Millisecond {
			t.Fatalf("retryAfter = %v", d)
		}
		if v := l.allow(t0.Add(time.Millisecond)); v != frameReject {
			t.Fatalf("5th frame: %v, want a silent rejection", v)
		}
		if v := l.allow(t0.Add(150 * time.Millisecond)); v != frameOK {
			t.Fatalf("after refill: %v", v)
		}
	})
	t.Run("sustained flood is a violation", func(t *testing.T) {
		l := newFrameLimiter(10, 3)
		var last frameVerdict
		for i := range 10 {
			last = l.allow(t0.Add(time.Duration(i) * time.Microsecond))
		}
		if last != frameViolation {
			t.Fatalf("after 10 frames at once: %v, want violation", last)
		}
		if v := l.allow(t0.Add(time.Hour)); v != frameViolation {
			t.Fatalf("violation must stick, got %v", v)
		}
	})
	t.Run("a notice passed on goes to the next rejection", func(t *testing.T) {
		l := newFrameLimiter(10, 5)
		for range 5 {
			l.allow(t0)
		}
		if v := l.allow(t0); v != frameRejectNotify {
			t.Fatalf("first rejection: %v", v)
		}
		l.passOnNotice() // that frame was a cancel, honoured
		if v := l.allow(t0); v != frameRejectNotify {
			t.Fatalf("after passOnNotice: %v, want the notice", v)
		}
		if v := l.allow(t0); v != frameReject {
			t.Fatalf("then: %v, want silent", v)
		}
	})
	t.Run("notices stay a second apart", func(t *testing.T) {
		l := newFrameLimiter(0.01, 3)
		for range 3 {
			l.allow(t0)
		}
		if v := l.allow(t0); v != frameRejectNotify {
			t.Fatalf("first rejection: %v", v)
		}
		l.passOnNotice() // a cancel: the notice goes to the next rejection, at +900 ms
		var notices []time.Duration
		for _, at := range []time.Duration{900 * time.Millisecond, time.Second, 1500 * time.Millisecond, 1900 * time.Millisecond, 2100 * time.Millisecond} {
			if l.allow(t0.Add(at)) == frameRejectNotify {
				notices = append(notices, at)
			}
		}
		want := []time.Duration{900 * time.Millisecond, 1900 * time.Millisecond}
		if fmt.Sprint(notices) != fmt.Sprint(want) {
			t.Fatalf("notices at %v, want %v", notices, want)
		}
	})
	t.Run("steady rate below the limit", func(t *testing.T) {
		l := newFrameLimiter(10, 3)
		for i := range 100 {
			if v := l.allow(t0.Add(time.Duration(i) * 120 * time.Millisecond)); v != frameOK {
				t.Fatalf("frame %d at 8.3/s: %v", i, v)
			}
		}
	})
}
