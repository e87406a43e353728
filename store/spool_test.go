package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestSpool(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSpool(dir, 1<<20)
	mustNoErr(t, err)
	for i := range 10 {
		mustNoErr(t, s.Append([]byte(fmt.Sprintf(`{"n":%d}`, i))))
	}
	mustNoErr(t, s.Append([]byte(`{"n":10}`), []byte(`{"n":11}`)))
	mustNoErr(t, s.Close())

	// Another process (a restart) finds the records.
	s, err = OpenSpool(dir, 1<<20)
	mustNoErr(t, err)
	if n, _ := s.Len(); n != 12 {
		t.Fatalf("after reopening: %d records, want 12", n)
	}
	mustNoErr(t, s.Append([]byte(`{"n":12}`)))

	// The database accepts two batches of 5, then fails: the rest stays.
	var got []string
	fail := errors.New("database down")
	calls := 0
	n, err := s.Replay(context.Background(), 5, func(batch [][]byte) error {
		if calls++; calls == 3 {
			return fail
		}
		for _, b := range batch {
			got = append(got, string(b))
		}
		return nil
	})
	if !errors.Is(err, fail) || n != 10 || len(got) != 10 || got[0] != `{"n":0}` || got[9] != `{"n":9}` {
		t.Fatalf("replay: %d %v %v", n, err, got)
	}
	mustNoErr(t, s.Append([]byte(`{"n":13}`))) // appended after the failed replay
	if left, _ := s.Len(); left != 4 {
		t.Fatalf("%d records left, want 4", left)
	}
	got = nil
	n, err = s.Replay(context.Background(), 100, func(batch [][]byte) error {
		for _, b := range batch {
			got = append(got, string(b))
		}
		return nil
	})
	want := []string{`{"n":10}`, `{"n":11}`, `{"n":12}`, `{"n":13}`}
	if err != nil || n != 4 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("second replay: %d %v %v", n, err, got)
	}
	if left, size := s.Len(); left != 0 || size != 0 {
		t.Fatalf("after replay: %d records, %d bytes", left, size)
	}
}

func TestSpoolBounded(t *testing.T) {
	s, err := OpenSpool(t.TempDir(), 100)
	mustNoErr(t, err)
	rec := make([]byte, 40)
	for i := range rec {
		rec[i] = 'x'
	}
	mustNoErr(t, s.Append(rec))
	mustNoErr(t, s.Append(rec))
	if err := s.Append(rec); !errors.Is(err, ErrSpoolFull) {
		t.Fatalf("third 41-byte record in 100 bytes: %v", err)
	}
	if s.Dropped() != 1 {
		t.Fatalf("dropped %d", s.Dropped())
	}
}
