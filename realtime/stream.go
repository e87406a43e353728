package realtime

import "context"

// Stream is one subscriber's view of a generation. Placeholder: the engine issue
// replaces this file with the real fan-out implementation.
type Stream struct {
	info StreamInfo
}

// Info returns what is known about the stream when Start returns.
func (s *Stream) Info() StreamInfo { return s.info }

// Next blocks until text or the terminal event is available, or ctx ends.
func (s *Stream) Next(ctx context.Context) (Event, error) {
	<-ctx.Done()
	return Event{}, ctx.Err()
}

// Close leaves the stream; the upstream request is cancelled when the last subscriber leaves.
func (s *Stream) Close() {}
