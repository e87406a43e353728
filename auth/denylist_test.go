package auth

import (
	"strconv"
	"testing"
	"time"
)

func TestDenylistExpiry(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	d := newDenylist(func() time.Time { return now })
	d.add("a", now.Add(time.Minute))
	d.add("b", now.Add(time.Hour))
	d.add("b", now.Add(time.Second)) // an earlier expiry does not shorten it
	d.add("old", now.Add(-time.Second))
	if !d.has("a") || !d.has("b") || d.has("c") || d.has("old") || d.has("") {
		t.Fatal("membership wrong")
	}
	now = now.Add(2 * time.Minute)
	if d.has("a") || !d.has("b") {
		t.Error("expiry not honoured")
	}
	d.sweepAt = 0 // the next add sweeps
	d.add("c", now.Add(time.Minute))
	if _, ok := d.ids["a"]; ok || len(d.ids) != 2 {
		t.Errorf("expired entry kept: %v", d.ids)
	}
}

func TestDenylistBounded(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	d := newDenylist(func() time.Time { return now })
	for i := range denylistMax + 10 {
		d.add(strconv.Itoa(i), now.Add(time.Hour+time.Duration(i)*time.Second))
	}
	if len(d.ids) != denylistMax || d.has("0") || !d.has(strconv.Itoa(denylistMax+9)) {
		t.Fatalf("%d entries; the earliest to expire must go first", len(d.ids))
	}
}
