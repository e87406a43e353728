package ws

import (
	"sync"
	"unicode/utf8"
)

// maxDeltaBytes bounds the text of one stream.delta frame: merged text is split into
// frames of at most this size so that one frame never exceeds a client's read limit.
const maxDeltaBytes = 16 << 10

// sendQueue is a session's bounded send queue. Its bound is in control frames and
// streams, not in deltas: each stream keeps its own pending output (the started frame,
// unsent text, the terminal frame) and sits at most once in the ready list, so when the
// writer falls behind, a stream's pending deltas merge into one frame. Text is never
// dropped and seq stays gap-free because seq is assigned when the writer takes a frame.
// Policy when full: push returns false and the session closes with 4008 (slow consumer).
type sendQueue struct {
	mu      sync.Mutex
	control []outFrame
	limit   int
	ready   []*outStream
	open    int           // streams started and not yet finished: the writer waits instead of ending
	wake    chan struct{} // capacity 1: "something is queued" for a waiting writer
	closed  bool
	ping    bool // a keepalive ping is due; the writer sends it before its next frames
	poked   bool // poke reached a running writer: it loops once more (and sees the close request)

	// The writer goroutine runs only while there is work (see session.writeLoop).
	writer  func()         // the writer's body; it calls writers.Done when it returns
	writing bool           // a writer goroutine is running
	writers sync.WaitGroup // the running writer; Wait only after close
}

// outFrame is one encoded frame ready for the socket. last is set on a stream's
// terminal frame so the writer can release the stream once it is written.
type outFrame struct {
	data []byte
	typ  string
	last *outStream
}

// outStream is one stream's pending output; guarded by the queue's mutex.
type outStream struct {
	id      string
	started []byte
	text    []byte
	final   []byte
	seq     int64
	queued  bool
	open    bool // counted in sendQueue.open
	frames  int  // delta frames taken (tests: merging is visible as frames < upstream deltas)
}

func newSendQueue(limit int, writer func()) *sendQueue {
	return &sendQueue{limit: limit, wake: make(chan struct{}, 1), writer: writer}
}

// signal wakes the writer, or starts one; the caller holds q.mu.
func (q *sendQueue) signal() {
	if q.closed {
		return
	}
	if q.writing {
		select {
		case q.wake <- struct{}{}:
		default:
		}
		return
	}
	if q.writer != nil {
		q.writing = true
		q.writers.Add(1) // before close, so Wait (after close) sees it
		go q.writer()
	}
}

// setWriter installs the writer's body and starts it when something is queued.
func (q *sendQueue) setWriter(w func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.writer = w
	q.signal()
}

// pushPing asks the writer for a keepalive ping.
func (q *sendQueue) pushPing() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ping = true
	q.signal()
}

// takePing reports (and clears) a due ping.
func (q *sendQueue) takePing() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := q.ping
	q.ping = false
	return p
}

// poke makes sure a writer runs (a close request with nothing queued). A running
// writer may have checked for the close request already and be on its way to end:
// poked keeps it from ending in takeOrPark.
func (q *sendQueue) poke() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.poked = q.writing
	q.signal()
}

// takeOrPark is take for the writer. With nothing queued it reports whether the writer
// should wait for more (a stream is open) or end; when it ends, the queue is marked
// writer-less in the same critical section, so the next push starts a new writer.
func (q *sendQueue) takeOrPark(dst []outFrame) (_ []outFrame, wait bool) {
	dst = q.take(dst)
	if len(dst) > 0 {
		return dst, true
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.control) > 0 || len(q.ready) > 0 || q.ping || q.poked { // queued or poked between take and here
		q.poked = false
		return dst, true
	}
	if q.open > 0 && !q.closed {
		return dst, true
	}
	q.writing = false
	return dst, false
}

// retire marks the queue writer-less for good: the writer is ending on a close or a
// write error, and no new writer is started either.
func (q *sendQueue) retire() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.writing = false
	q.writer = nil
}

// pushControl queues a control frame; false when the queue is full or closed.
func (q *sendQueue) pushControl(typ string, b []byte) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return true // the socket is going away; nothing to send
	}
	if len(q.control) >= q.limit {
		return false
	}
	q.control = append(q.control, outFrame{data: b, typ: typ})
	q.signal()
	return true
}

// markReady puts st on the ready list once; the caller holds q.mu.
func (q *sendQueue) markReady(st *outStream) {
	if !st.queued {
		st.queued = true
		q.ready = append(q.ready, st)
		q.signal()
	}
}

// started queues st's stream.started frame.
func (q *sendQueue) started(st *outStream, b []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	st.started = b
	if !st.open {
		st.open = true
		q.open++
	}
	q.markReady(st)
}

// text appends to st's pending text; it merges with text not yet taken.
func (q *sendQueue) text(st *outStream, s string) {
	if s == "" {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	st.text = append(st.text, s...)
	q.markReady(st)
}

// finish queues st's terminal frame, sent after its pending text.
func (q *sendQueue) finish(st *outStream, b []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	st.final = b
	q.markReady(st)
}

// take moves everything queued into dst: control frames first, then each ready
// stream's started, delta(s) and terminal frame, in order.
func (q *sendQueue) take(dst []outFrame) []outFrame {
	q.mu.Lock()
	defer q.mu.Unlock()
	dst = append(dst, q.control...)
	clear(q.control)
	q.control = q.control[:0]
	for _, st := range q.ready {
		st.queued = false
		if st.started != nil {
			dst = append(dst, outFrame{data: st.started, typ: EventStreamStarted})
			st.started = nil
		}
		for rest := st.text; len(rest) > 0; {
			n := splitAt(rest, maxDeltaBytes)
			st.seq++
			st.frames++
			dst = append(dst, outFrame{data: deltaFrame(st.id, st.seq, string(rest[:n])), typ: EventStreamDelta})
			rest = rest[n:]
		}
		// The frames copied the text: keep a small buffer for the next deltas (no
		// allocation per token), release one that a burst made large.
		if cap(st.text) <= reuseTextBytes {
			st.text = st.text[:0]
		} else {
			st.text = nil
		}
		if st.final != nil {
			dst = append(dst, outFrame{data: st.final, typ: frameType(st.final), last: st})
			st.final = nil
			if st.open {
				st.open = false
				q.open--
			}
		}
	}
	clear(q.ready)
	q.ready = q.ready[:0]
	return dst
}

// close drops everything queued and makes later pushes no-ops.
func (q *sendQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.control = nil
	q.ready = nil
}

// splitAt returns how many bytes of b (≤ n) to send without splitting a UTF-8 sequence.
// reuseTextBytes is the largest merged-text buffer a stream keeps between frames.
const reuseTextBytes = 4 << 10

func splitAt(b []byte, n int) int {
	if len(b) <= n {
		return len(b)
	}
	i := n
	for i > 0 && !utf8.RuneStart(b[i]) {
		i--
	}
	if i == 0 {
		return n
	}
	return i
}

// frameType tells stream.done from stream.error for observer counts.
func frameType(b []byte) string {
	const doneHead = `{"type":"stream.done"`
	if len(b) >= len(doneHead) && string(b[:len(doneHead)]) == doneHead {
		return EventStreamDone
	}
	return EventStreamError
}
