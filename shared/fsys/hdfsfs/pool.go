package hdfsfs

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/colinmarc/hdfs/v2"
)

// longAgo is a deadline in the past: setting it makes blocked reads and writes fail now.
var longAgo = time.Unix(1, 0)

// conn is one pooled client. The client has no context support, so conn enforces contexts
// through its socket: a call's deadline becomes the socket's, and cancellation moves the
// deadline into the past. The client may redial (failover), so the dial function keeps track
// of the current socket.
type conn struct {
	client      *hdfs.Client
	dialTimeout time.Duration

	mu       sync.Mutex
	nc       net.Conn        // the client's current NameNode socket
	addr     string          // and its address
	ctx      context.Context // of the call in progress; nil between calls
	deadline time.Time
	closed   bool
}

func (c *conn) dial(_ context.Context, network, addr string) (net.Conn, error) {
	c.mu.Lock()
	ctx, closed := c.ctx, c.closed
	c.mu.Unlock()
	if closed {
		return nil, net.ErrClosed
	}
	if ctx == nil {
		// The client's lease renewer reconnecting between our calls.
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: c.dialTimeout, KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		nc.Close()
		return nil, net.ErrClosed
	}
	c.nc, c.addr = nc, addr
	// Covers the handshake too (Kerberos reads from the NameNode before the first call).
	nc.SetDeadline(c.deadline)
	return nc, nil
}

// call runs one client call under ctx.
func (c *conn) call(ctx context.Context, timeout time.Duration, fn func() error) error {
	dl, ok := ctx.Deadline()
	if timeout > 0 {
		if t := time.Now().Add(timeout); !ok || t.Before(dl) {
			dl = t
		}
	}
	c.mu.Lock()
	c.ctx, c.deadline = ctx, dl
	if c.nc != nil {
		c.nc.SetDeadline(dl)
	}
	c.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.deadline = longAgo
		if c.nc != nil {
			c.nc.SetDeadline(longAgo)
		}
		c.mu.Unlock()
	})
	err := fn()
	stop()
	c.mu.Lock()
	c.ctx, c.deadline = nil, time.Time{}
	if c.nc != nil {
		c.nc.SetDeadline(time.Time{})
	}
	c.mu.Unlock()
	return err
}

func (c *conn) address() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addr
}

// close shuts the socket first, so that a call the client's lease renewer has in flight fails
// at once instead of keeping the client's lock, and then closes the client.
func (c *conn) close() {
	c.mu.Lock()
	c.closed = true
	if c.nc != nil {
		c.nc.Close()
	}
	c.mu.Unlock()
	c.client.Close()
}

// pool hands out connections exclusively: a Client is one socket behind a mutex, so parallel
// calls need several clients.
type pool struct {
	open  func(ctx context.Context, c *conn) error
	idle  chan *conn
	slots chan struct{}

	mu     sync.Mutex
	closed bool
}

func newPool(size int, open func(ctx context.Context, c *conn) error) *pool {
	return &pool{open: open, idle: make(chan *conn, size), slots: make(chan struct{}, size)}
}

func (p *pool) get(ctx context.Context) (*conn, error) {
	select {
	case c := <-p.idle:
		return c, nil
	default:
	}
	select {
	case c := <-p.idle:
		return c, nil
	case p.slots <- struct{}{}:
		c := &conn{}
		if err := p.open(ctx, c); err != nil {
			<-p.slots
			return nil, err
		}
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *pool) put(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		p.discard(c)
		return
	}
	p.idle <- c // never blocks: there are at most cap(idle) connections
}

// discard closes a connection whose state is unknown (a call was cut short or failed in
// transit), so that its unread reply cannot be taken for the next call's.
func (p *pool) discard(c *conn) {
	c.close()
	<-p.slots
}

func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for {
		select {
		case c := <-p.idle:
			p.discard(c)
		default:
			return
		}
	}
}
