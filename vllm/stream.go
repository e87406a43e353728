package vllm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// errClosed marks a stream ended by Close before its end; Err reports nil for it.
var errClosed = errors.New("vllm: stream closed")

// Stream is one streaming generation. It reads like bufio.Scanner:
//
//	for s.Next() { use(s.Delta()) }
//	if err := s.Err(); err != nil { … }
//
// Close releases the upstream connection (aborting generation when the stream has not
// ended) and is safe to call at any time, more than once, from any goroutine.
type Stream struct {
	replica string
	ctx     context.Context
	cancel  context.CancelFunc
	body    io.ReadCloser
	dec     *Decoder
	watch   *watchdog

	chunk    wireChunk
	usage    Usage
	delta    Delta
	errMu    sync.Mutex
	err      error
	done     atomic.Bool
	gotToken atomic.Bool
	finished bool // a finish_reason was seen
	held     bool // delta was read ahead by the pool and not yet returned

	started    time.Time
	firstByte  time.Time
	firstToken time.Time

	endOnce sync.Once
	onEnd   func(err error, gotToken bool) // pool accounting; nil for a bare client
}

// Next advances to the next delta. It returns false at the end of the stream or on
// error; Err tells which. Chunks without text, finish reason or usage (the chat role
// chunk) are skipped.
func (s *Stream) Next() bool {
	if s.done.Load() {
		return false
	}
	if s.held {
		s.held = false
		return true
	}
	for {
		if more, delta := s.read(); !more || delta {
			return more
		}
	}
}

// read reads one event: more is false at the end of the stream, delta is true for a
// chunk Next returns (false for one it skips).
func (s *Stream) read() (more, delta bool) {
	data, err := s.dec.Next()
	if err != nil {
		return s.stop(s.readError(err))
	}
	if s.firstByte.IsZero() {
		s.firstByte = time.Now()
		s.watch.arm("idle", s.watchIdle())
	} else {
		s.watch.kick()
	}
	if bytes.Equal(data, []byte("[DONE]")) {
		if !s.finished {
			return s.stop(ErrTruncated)
		}
		s.drain()
		return s.stop(nil)
	}
	if err := s.chunk.decode(data, &s.delta, &s.usage); err != nil {
		return s.stop(fmt.Errorf("vllm: %s: %w", s.replica, err))
	}
	if s.delta.FinishReason != "" {
		s.finished = true
	}
	if s.delta.Text == "" && s.delta.FinishReason == "" && s.delta.Usage == nil {
		return true, false
	}
	if s.delta.Text != "" && s.firstToken.IsZero() {
		s.firstToken = time.Now()
		s.gotToken.Store(true)
	}
	return true, true
}

// stop ends the stream from the reading goroutine (read), which then reads no more:
// the decoder's buffer goes back to its pool.
func (s *Stream) stop(err error) (more, delta bool) {
	s.end(err)
	s.dec.Release()
	return false, false
}

// Buffered reports whether Next can return without waiting on the network: a delta
// read ahead, or one already in the read buffer. A reader that relays each delta as a
// write uses it to merge the deltas that queued up while it was writing. To tell a
// delta from a chunk Next skips, it reads the buffered events ahead (from the goroutine
// calling Next, after the last Delta was used): a skipped chunk alone is not buffered,
// and the end of the stream in the buffer is (Next returns false at once).
func (s *Stream) Buffered() bool {
	if s.done.Load() {
		return false
	}
	for !s.held {
		if !s.dec.Buffered() {
			return false
		}
		more, delta := s.read()
		if !more {
			return true
		}
		s.held = delta
	}
	return true
}

// Delta returns the delta Next advanced to. Its Usage, when set, stays valid.
func (s *Stream) Delta() Delta { return s.delta }

// Err returns the error that ended the stream, nil after a clean end or Close.
func (s *Stream) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	if errors.Is(s.err, errClosed) {
		return nil
	}
	return s.err
}

// Close ends the stream and closes its connection.
func (s *Stream) Close() error {
	s.end(errClosed)
	return nil
}

// Replica returns the base URL of the replica serving the stream.
func (s *Stream) Replica() string { return s.replica }

// Started returns when the request was sent.
func (s *Stream) Started() time.Time { return s.started }

// FirstByte returns when the first SSE event arrived (zero before).
func (s *Stream) FirstByte() time.Time { return s.firstByte }

// FirstToken returns when the first non-empty text arrived (zero before). Like Delta,
// read it from the goroutine calling Next.
func (s *Stream) FirstToken() time.Time { return s.firstToken }

// watchIdle is the idle limit, stored on the watchdog by the client.
func (s *Stream) watchIdle() time.Duration { return s.watch.idle }

func (s *Stream) readError(err error) error {
	if errors.Is(err, io.EOF) {
		if s.finished {
			return nil // vLLM behind some proxies loses [DONE]; the finish is enough
		}
		return fmt.Errorf("vllm: %s: %w", s.replica, ErrTruncated)
	}
	if te := s.watch.expired(s.replica); te != nil {
		return te
	}
	if ctxErr := s.ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if errors.Is(err, ErrLineTooLong) {
		return fmt.Errorf("vllm: %s: %w", s.replica, err)
	}
	return fmt.Errorf("vllm: %s: read stream: %w", s.replica, err)
}

// drain reads the little left after [DONE] so the connection can be reused.
func (s *Stream) drain() {
	_, _ = io.Copy(io.Discard, io.LimitReader(s.body, 4<<10))
}

// end finishes the stream once: stops the watchdog, closes the body and the request
// context (closing the connection when unread), and reports to the pool.
func (s *Stream) end(err error) {
	s.endOnce.Do(func() {
		s.errMu.Lock()
		s.err = err
		s.errMu.Unlock()
		s.done.Store(true)
		s.watch.stop()
		_ = s.body.Close()
		s.cancel()
		if s.onEnd != nil {
			s.onEnd(err, s.gotToken.Load())
		}
	})
}
