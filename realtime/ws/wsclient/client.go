package wsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"
)

// Options configures Dial. The zero value sends the key as X-API-Key.
type Options struct {
	HTTPClient *http.Client
	Header     http.Header // extra handshake headers (e.g. Origin)
	// BrowserAuth sends the key as the subprotocol hapa.auth.<key>, as browsers must.
	BrowserAuth bool
	ReadLimit   int64 // largest server frame; default 1 MiB
}

// Client is one hapa.v1 socket. Its methods are safe for concurrent use.
type Client struct {
	conn    *websocket.Conn
	created Event
	ctx     context.Context
	cancel  context.CancelFunc
	readEnd chan struct{}
	err     error // why the socket ended; set before readEnd closes

	mu      sync.Mutex
	streams map[string]*Stream
	waiters map[string]chan Event // by event_id
	other   chan Event            // frames of no stream and no waiter (error, session.closing)
	seq     atomic.Int64
}

// Dial opens a socket and reads session.created. A refused upgrade returns an error
// that includes the HTTP status.
func Dial(ctx context.Context, url, key string, opts *Options) (*Client, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	d := &websocket.DialOptions{HTTPClient: o.HTTPClient, HTTPHeader: o.Header.Clone(),
		Subprotocols: []string{"hapa.v1"}, CompressionMode: websocket.CompressionDisabled}
	if d.HTTPHeader == nil {
		d.HTTPHeader = http.Header{}
	}
	switch {
	case key == "":
	case o.BrowserAuth:
		d.Subprotocols = append(d.Subprotocols, "hapa.auth."+key)
	default:
		d.HTTPHeader.Set("X-API-Key", key)
	}
	conn, resp, err := websocket.Dial(ctx, url, d)
	if err != nil {
		if resp != nil {
			return nil, &DialError{Status: resp.StatusCode, Err: err}
		}
		return nil, err
	}
	if o.ReadLimit == 0 {
		o.ReadLimit = 1 << 20
	}
	conn.SetReadLimit(o.ReadLimit)
	_, b, err := conn.Read(ctx)
	if err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("wsclient: reading session.created: %w", err)
	}
	var first Event
	if err := json.Unmarshal(b, &first); err != nil || first.Type != "session.created" {
		conn.CloseNow()
		return nil, fmt.Errorf("wsclient: first frame is %q, want session.created", first.Type)
	}
	c := &Client{conn: conn, created: first, readEnd: make(chan struct{}),
		streams: map[string]*Stream{}, waiters: map[string]chan Event{}, other: make(chan Event, 256)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	go c.readLoop()
	return c, nil
}

// DialError is a refused upgrade.
type DialError struct {
	Status int
	Err    error
}

func (e *DialError) Error() string {
	return "wsclient: upgrade refused: HTTP " + strconv.Itoa(e.Status)
}
func (e *DialError) Unwrap() error { return e.Err }

// Session returns the session.created frame.
func (c *Client) Session() Event { return c.created }

// Events delivers frames that belong to no stream and no pending call: error frames
// without a known event_id and session.closing. It holds 256 frames; more are dropped.
func (c *Client) Events() <-chan Event { return c.other }

// Done is closed when the socket has ended; Err then says why.
func (c *Client) Done() <-chan struct{} { return c.readEnd }

// Err returns why the socket ended (a websocket.CloseError carries the close code), or
// nil while it is open.
func (c *Client) Err() error {
	select {
	case <-c.readEnd:
		return c.err
	default:
		return nil
	}
}

// CloseStatus returns the close code the socket ended with, -1 if none (yet).
func (c *Client) CloseStatus() int { return int(websocket.CloseStatus(c.Err())) }

// Close closes the socket normally (1000) and waits for the read loop to end.
func (c *Client) Close() error {
	err := c.conn.Close(websocket.StatusNormalClosure, "")
	c.cancel()
	<-c.readEnd
	return err
}

func (c *Client) nextID(prefix string) string { return prefix + strconv.FormatInt(c.seq.Add(1), 10) }

// Send writes any event as one JSON text frame.
func (c *Client) Send(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.conn.Write(ctx, websocket.MessageText, b)
}

// SendRaw writes one frame as given (tests of bad input).
func (c *Client) SendRaw(ctx context.Context, binary bool, b []byte) error {
	typ := websocket.MessageText
	if binary {
		typ = websocket.MessageBinary
	}
	return c.conn.Write(ctx, typ, b)
}

// call sends v with a fresh event_id and waits for the frame that echoes it.
func (c *Client) call(ctx context.Context, v map[string]any) (Event, error) {
	eid := c.nextID("e")
	v["event_id"] = eid
	ch := make(chan Event, 1)
	c.mu.Lock()
	c.waiters[eid] = ch
	c.mu.Unlock()
	defer func() { c.mu.Lock(); delete(c.waiters, eid); c.mu.Unlock() }()
	if err := c.Send(ctx, v); err != nil {
		return Event{}, err
	}
	select {
	case ev := <-ch:
		if ev.Type == "error" && ev.Error != nil {
			return ev, ev.Error
		}
		return ev, nil
	case <-c.readEnd:
		return Event{}, c.err
	case <-ctx.Done():
		return Event{}, ctx.Err()
	}
}

// Update sends session.update and returns the session object of session.updated.
func (c *Client) Update(ctx context.Context, u SessionUpdate) (json.RawMessage, error) {
	m := map[string]any{"type": "session.update"}
	if u.Profile != nil {
		m["profile"] = u.Profile
	}
	if u.Editor != nil {
		m["editor"] = u.Editor
	}
	if u.Workspace != nil {
		m["workspace"] = *u.Workspace
	}
	ev, err := c.call(ctx, m)
	return ev.Session, err
}

// Ping sends the protocol-level ping and waits for pong.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.call(ctx, map[string]any{"type": "ping"})
	return err
}

// Feedback sends completion.feedback and returns its event_id. The server answers only
// a refusal: an "error" event with that event_id on Events().
func (c *Client) Feedback(ctx context.Context, f CompletionFeedback) (string, error) {
	eid := c.nextID("f")
	return eid, c.Send(ctx, struct {
		Type    string `json:"type"`
		EventID string `json:"event_id"`
		CompletionFeedback
	}{"completion.feedback", eid, f})
}

// Generate starts a generation stream.
func (c *Client) Generate(ctx context.Context, g GenerationCreate) (*Stream, error) {
	if g.ID == "" {
		g.ID = c.nextID("g")
	}
	return c.create(ctx, g.ID, struct {
		Type string `json:"type"`
		GenerationCreate
	}{"generation.create", g})
}

// Complete starts a completion stream.
func (c *Client) Complete(ctx context.Context, cc CompletionCreate) (*Stream, error) {
	if cc.ID == "" {
		cc.ID = c.nextID("c")
	}
	return c.create(ctx, cc.ID, struct {
		Type string `json:"type"`
		CompletionCreate
	}{"completion.create", cc})
}

func (c *Client) create(ctx context.Context, id string, v any) (*Stream, error) {
	s := newStream(c, id)
	c.mu.Lock()
	if _, dup := c.streams[id]; dup {
		c.mu.Unlock()
		return nil, errors.New("wsclient: stream id " + strconv.Quote(id) + " is in flight")
	}
	c.streams[id] = s
	c.mu.Unlock()
	if err := c.Send(ctx, v); err != nil {
		c.drop(id, s)
		return nil, err
	}
	return s, nil
}

// Cancel sends stream.cancel; the stream still ends with its stream.done (cancelled).
func (c *Client) Cancel(ctx context.Context, id string) error {
	return c.Send(ctx, map[string]string{"type": "stream.cancel", "id": id})
}

func (c *Client) drop(id string, s *Stream) {
	c.mu.Lock()
	if c.streams[id] == s {
		delete(c.streams, id)
	}
	c.mu.Unlock()
}

func (c *Client) readLoop() {
	defer close(c.readEnd)
	for {
		_, b, err := c.conn.Read(c.ctx)
		if err != nil {
			c.err = err
			c.mu.Lock()
			for id, s := range c.streams {
				s.fail(err)
				delete(c.streams, id)
			}
			c.mu.Unlock()
			return
		}
		var ev Event
		if json.Unmarshal(b, &ev) != nil {
			continue
		}
		c.mu.Lock()
		s := c.streams[ev.ID]
		w := c.waiters[ev.EventID]
		if s != nil && ev.Terminal() {
			delete(c.streams, ev.ID)
		}
		c.mu.Unlock()
		switch {
		case ev.EventID != "" && w != nil:
			select {
			case w <- ev:
			default:
			}
		case ev.ID != "" && s != nil && ev.Type != "error":
			s.push(ev)
		default:
			select {
			case c.other <- ev:
			default:
			}
		}
	}
}
