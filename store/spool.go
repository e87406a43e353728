package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrSpoolFull is returned by Append when the spool holds its maximum size: the
// records were not kept (Dropped counts them).
var ErrSpoolFull = errors.New("store: spool full")

// Spool is a bounded queue of records on local disk — what could not be written to
// the database waits there, also across a restart, until Replay hands it back
// (docs/operations.md, "Failure modes"). Records are opaque lines (JSON without
// newlines). Segments are files named <seq>.jsonl in the spool's directory: Append
// writes to the newest, Replay closes it and hands back the closed ones, oldest
// first. Each Append is one write(2), so a crash of the process (kill -9) loses
// nothing appended; a crash of the machine may lose what the kernel had not written.
//
// It is safe for concurrent use; one Replay runs at a time.
type Spool struct {
	dir string
	max int64

	mu     sync.Mutex
	f      *os.File // the newest segment, nil until the first Append
	seq    int      // number of the newest segment
	size   int64    // bytes of every segment
	count  int64    // records in every segment
	replay sync.Mutex

	dropped atomic.Int64
}

// OpenSpool opens (creating it when missing) the spool in dir, bounded to maxBytes
// (≤ 0: 256 MiB). Records left by a previous process are kept for Replay.
func OpenSpool(dir string, maxBytes int64) (*Spool, error) {
	if maxBytes <= 0 {
		maxBytes = 256 << 20
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: spool: %w", err)
	}
	s := &Spool{dir: dir, max: maxBytes}
	segs, err := s.segments()
	if err != nil {
		return nil, err
	}
	for _, seq := range segs {
		n, size, err := countLines(s.path(seq))
		if err != nil {
			return nil, err
		}
		s.count += n
		s.size += size
		s.seq = max(s.seq, seq)
	}
	return s, nil
}

func (s *Spool) path(seq int) string { return filepath.Join(s.dir, strconv.Itoa(seq)+".jsonl") }

// segments lists the segment numbers in dir, ascending.
func (s *Spool) segments() ([]int, error) {
	es, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("store: spool: %w", err)
	}
	var out []int
	for _, e := range es {
		if n, ok := strings.CutSuffix(e.Name(), ".jsonl"); ok {
			if seq, err := strconv.Atoi(n); err == nil {
				out = append(out, seq)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

func countLines(path string) (n, size int64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("store: spool: %w", err)
	}
	return int64(bytes.Count(b, []byte{'\n'})), int64(len(b)), nil
}

// Append adds records (each one line, without its newline) in one write. When they
// do not fit in the spool's bound none is kept: ErrSpoolFull, counted by Dropped.
func (s *Spool) Append(records ...[]byte) error {
	if len(records) == 0 {
		return nil
	}
	n := 0
	for _, r := range records {
		n += len(r) + 1
	}
	buf := make([]byte, 0, n)
	for _, r := range records {
		buf = append(append(buf, r...), '\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.size+int64(len(buf)) > s.max {
		s.dropped.Add(int64(len(records)))
		return ErrSpoolFull
	}
	if s.f == nil {
		s.seq++
		f, err := os.OpenFile(s.path(s.seq), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("store: spool: %w", err)
		}
		s.f = f
	}
	if _, err := s.f.Write(buf); err != nil {
		return fmt.Errorf("store: spool: %w", err)
	}
	s.size += int64(len(buf))
	s.count += int64(len(records))
	return nil
}

// Len returns the records and bytes waiting in the spool.
func (s *Spool) Len() (records, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count, s.size
}

// Dropped returns how many records Append could not keep (the spool was full).
func (s *Spool) Dropped() int64 { return s.dropped.Load() }

// Replay hands the spooled records back, oldest first, in batches of at most batch
// records, to fn. A segment is removed once fn accepted all of it; when fn fails the
// records it did not accept stay for the next Replay, and Replay returns fn's error.
// Records appended meanwhile go to a new segment, replayed next time.
func (s *Spool) Replay(ctx context.Context, batch int, fn func([][]byte) error) (int, error) {
	s.replay.Lock()
	defer s.replay.Unlock()
	s.mu.Lock()
	if s.f != nil { // close the newest segment: appends go to a new one
		s.f.Close()
		s.f = nil
	}
	s.mu.Unlock()
	segs, err := s.segments()
	if err != nil {
		return 0, err
	}
	done := 0
	for _, seq := range segs {
		if ctx.Err() != nil {
			return done, ctx.Err()
		}
		n, err := s.replaySegment(seq, batch, fn)
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// replaySegment replays one closed segment; on failure it rewrites the segment with
// the records fn did not accept.
func (s *Spool) replaySegment(seq, batch int, fn func([][]byte) error) (int, error) {
	path := s.path(seq)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("store: spool: %w", err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		if l := sc.Bytes(); len(l) > 0 {
			lines = append(lines, slices.Clone(l))
		}
	}
	done := 0
	for done < len(lines) {
		end := min(done+max(batch, 1), len(lines))
		if err := fn(lines[done:end]); err != nil {
			s.keep(path, lines[done:], int64(len(b)), done)
			return done, err
		}
		done = end
	}
	if err := os.Remove(path); err != nil {
		return done, fmt.Errorf("store: spool: %w", err)
	}
	s.mu.Lock()
	s.size -= int64(len(b))
	s.count -= int64(len(lines))
	s.mu.Unlock()
	return done, nil
}

// keep rewrites path with the records left after a failed replay (written beside it,
// then renamed over it, so a crash leaves one or the other whole).
func (s *Spool) keep(path string, left [][]byte, oldSize int64, replayed int) {
	var buf bytes.Buffer
	for _, l := range left {
		buf.Write(l)
		buf.WriteByte('\n')
	}
	tmp := path + ".tmp"
	if os.WriteFile(tmp, buf.Bytes(), 0o600) == nil && os.Rename(tmp, path) == nil {
		s.mu.Lock()
		s.size -= oldSize - int64(buf.Len())
		s.count -= int64(replayed)
		s.mu.Unlock()
	}
}

// Close closes the newest segment; the records stay on disk.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
