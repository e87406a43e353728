package auth

import (
	"testing"
	"time"
)

func TestDenylistExpiry(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	d := newDenylist(func() time.Time { return now })
	d.add("a", now.Add(time.Minute))
	d.add("b", now.Add(time.Hour))
	if !d.has("a") || !d.has("b") || d.has("c") {
		t.Fatal("membership wrong")
	}
	now = now.Add(2 * time.Minute)
	if d.has("a") || !d.has("b") {
		t.Error("expiry not honoured")
	}
	d.add("c", now.Add(time.Minute)) // purges a
	if _, ok := d.ids["a"]; ok || len(d.ids) != 2 {
		t.Errorf("expired entry kept: %v", d.ids)
	}
}
