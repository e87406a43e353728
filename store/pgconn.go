package store

import (
	"context"
	"database/sql/driver"
	"net"
	"sync"
	"time"

	"github.com/lib/pq"
)

// defaultConnectTimeout bounds opening one PostgreSQL connection when DATABASE_URL
// sets no connect_timeout: without it a server that accepts TCP but never answers
// would hold each of the pool's slots for ever.
const defaultConnectTimeout = 10 * time.Second

// pgConnector opens PostgreSQL connections that give up when their context ends.
//
// lib/pq honours a context only up to the socket: it dials with it, and when a
// query's context ends it marks the connection bad and sends the server a cancel
// request, but the goroutine running the query keeps reading a socket nobody will
// answer. Against a server that accepts bytes and never replies — a hung host, a
// network that drops the replies, a proxy with a dead backend — every caller would
// wait for ever, whatever its deadline (docs/operations.md, "Failure modes"). So each
// connection gets its own dialer, and the dialer ends the socket's wait:
//
//   - while connecting, when the Connect context ends;
//   - afterwards, when lib/pq dials again through it: that is the cancel request of a
//     query whose context ended, and lib/pq has already marked the connection bad,
//     so setting its deadline to now only returns the stuck read as an error.
type pgConnector struct {
	cfg pq.Config
}

func newPGConnector(dsn string) (*pgConnector, error) {
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	return &pgConnector{cfg: cfg}, nil
}

// Connect opens one connection, returning early with ctx's error when ctx ends.
func (p *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := pq.NewConnectorConfig(p.cfg)
	if err != nil {
		return nil, err
	}
	d := &pgDialer{}
	c.Dialer(d)
	stop := context.AfterFunc(ctx, d.abort)
	conn, err := c.Connect(ctx)
	if !stop() { // ctx ended while connecting
		if err == nil {
			conn.Close()
		}
		return nil, ctx.Err()
	}
	d.connected()
	return conn, err
}

// Driver returns lib/pq's driver.
func (p *pgConnector) Driver() driver.Driver { return &pq.Driver{} }

// pgDialer dials one connection's sockets: the connection's own (one per attempt
// while connecting) and, later, lib/pq's cancel requests for it.
type pgDialer struct {
	mu      sync.Mutex
	conn    net.Conn // the connection's socket (the latest attempt while connecting)
	opened  bool     // Connect returned: further dials are cancel requests
	aborted bool
}

func (d *pgDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	if d.opened && d.conn != nil {
		// A query on this connection outlived its context; end its wait.
		d.conn.SetDeadline(time.Now())
	}
	d.mu.Unlock()
	c, err := (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.opened {
		d.conn = c
		if d.aborted {
			c.SetDeadline(time.Now())
		}
	}
	return c, nil
}

func (d *pgDialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

func (d *pgDialer) DialTimeout(network, addr string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, addr)
}

// abort ends the wait of a connection still being opened.
func (d *pgDialer) abort() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.aborted = true
	if d.conn != nil {
		d.conn.SetDeadline(time.Now())
	}
}

func (d *pgDialer) connected() {
	d.mu.Lock()
	d.opened = true
	d.mu.Unlock()
}
