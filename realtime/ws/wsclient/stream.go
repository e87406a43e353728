package wsclient

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Stream is one completion or generation on a Client. Its frames are buffered without
// bound, so a slow reader never stalls the socket.
type Stream struct {
	ID string
	c  *Client

	mu     sync.Mutex
	q      []Event
	err    error // socket ended before the terminal frame
	notify chan struct{}
}

func newStream(c *Client, id string) *Stream {
	return &Stream{ID: id, c: c, notify: make(chan struct{}, 1)}
}

func (s *Stream) push(ev Event) {
	s.mu.Lock()
	s.q = append(s.q, ev)
	s.mu.Unlock()
	s.signal()
}

func (s *Stream) fail(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	s.signal()
}

func (s *Stream) signal() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// Next returns the stream's next frame (stream.started, stream.delta, stream.done or
// stream.error); after the terminal frame it returns io.EOF.
func (s *Stream) Next(ctx context.Context) (Event, error) {
	for {
		s.mu.Lock()
		if len(s.q) > 0 {
			ev := s.q[0]
			s.q = s.q[1:]
			if ev.Terminal() {
				s.err = io.EOF
			}
			s.mu.Unlock()
			return ev, nil
		}
		err := s.err
		s.mu.Unlock()
		if err != nil {
			return Event{}, err
		}
		select {
		case <-s.notify:
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// Result is a whole stream, read by Collect.
type Result struct {
	Started *Event // nil when the stream was refused before it started
	Text    string // the concatenated delta text
	Deltas  int    // number of stream.delta frames
	Done    *Event // stream.done, or nil
	Err     *Error // the error of stream.error, or nil
}

// Collect reads the stream to its end and checks the protocol's invariants: started
// before any delta, seq 1, 2, … without gaps, exactly one terminal frame.
func (s *Stream) Collect(ctx context.Context) (Result, error) {
	var r Result
	var b strings.Builder
	for {
		ev, err := s.Next(ctx)
		if err != nil {
			r.Text = b.String()
			return r, err
		}
		switch ev.Type {
		case "stream.started":
			if r.Started != nil || r.Deltas > 0 {
				return r, fmt.Errorf("wsclient: %s: stream.started out of order", s.ID)
			}
			r.Started = &ev
		case "stream.delta":
			if r.Started == nil {
				return r, fmt.Errorf("wsclient: %s: delta before stream.started", s.ID)
			}
			if ev.Seq != int64(r.Deltas)+1 {
				return r, fmt.Errorf("wsclient: %s: seq %d after %d", s.ID, ev.Seq, r.Deltas)
			}
			r.Deltas++
			b.WriteString(ev.Text)
		case "stream.done":
			r.Done, r.Text = &ev, b.String()
			return r, nil
		case "stream.error":
			r.Err, r.Text = ev.Error, b.String()
			if r.Err == nil {
				r.Err = &Error{Code: "?", Message: "stream.error without error"}
			}
			return r, nil
		}
	}
}
