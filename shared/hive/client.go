package hive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// Client talks to one HiveServer2 endpoint through a pool of at most Config.PoolSize sessions.
// Each statement runs on a session it has to itself. A Client is safe for concurrent use.
type Client struct {
	cfg Config
	log *slog.Logger
	// slots holds one token per session that is checked out or being opened; its capacity
	// is the pool size.
	slots chan struct{}
	// bg counts goroutines that outlive a call: statements finishing after their caller
	// gave up, sessions being closed.
	bg sync.WaitGroup

	mu     sync.Mutex
	idle   []*conn
	closed bool
	// opened counts sessions opened over the client's life (for tests and metrics).
	opened int
}

// errClosed is returned after Close.
var errClosed = fmt.Errorf("%w: hive: client closed", merge.ErrUnavailable)

// New validates cfg and returns a Client. Sessions are opened lazily, on first use.
func New(cfg Config) (*Client, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Client{cfg: c, log: c.Logger.With("cluster", c.Name), slots: make(chan struct{}, c.PoolSize)}, nil
}

// Config returns the client's configuration with defaults applied.
func (c *Client) Config() Config { return c.cfg }

// Close closes the idle sessions and waits for statements that their callers abandoned (they
// are being cancelled) and for sessions in use to be returned; new calls fail.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	idle := c.idle
	c.idle = nil
	c.mu.Unlock()
	for _, cn := range idle {
		cn.close()
	}
	c.bg.Wait()
	return nil
}

// SessionsOpened is the number of sessions the client has opened so far.
func (c *Client) SessionsOpened() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opened
}

// acquire checks out a session: an idle one (checked first if it has been idle for a while)
// or a new one. It waits for a free slot while the pool is full.
func (c *Client) acquire(ctx context.Context) (*conn, error) {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctxError(ctx, "waiting for a free session")
	}
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			<-c.slots
			return nil, errClosed
		}
		var cn *conn
		if n := len(c.idle); n > 0 {
			cn = c.idle[n-1]
			c.idle = c.idle[:n-1]
		}
		c.mu.Unlock()
		if cn == nil {
			break
		}
		if c.healthy(ctx, cn) {
			return cn, nil
		}
		c.log.Info("hive: dropping a dead pooled session", "conn", cn.id)
		cn.markBroken()
		cn.close()
	}
	cn, err := dial(ctx, c.cfg)
	if err != nil {
		<-c.slots
		return nil, err
	}
	c.mu.Lock()
	c.opened++
	c.mu.Unlock()
	return cn, nil
}

// healthy checks a pooled session that has been idle longer than HealthCheckAfter with a
// statement that costs HiveServer2 no compilation and no job (SET of a session variable).
func (c *Client) healthy(ctx context.Context, cn *conn) bool {
	if !cn.reusable() {
		return false
	}
	cn.mu.Lock()
	idle := time.Since(cn.lastUsed)
	cn.mu.Unlock()
	if c.cfg.HealthCheckAfter < 0 || idle < c.cfg.HealthCheckAfter {
		return true
	}
	stmt, err := hql.Set(substituteKey, "false")
	if err != nil {
		return false
	}
	hctx, cancel := context.WithTimeout(ctx, c.cfg.ConnectTimeout)
	defer cancel()
	// If the check is abandoned, acquire closes the session, which ends the check too.
	_, _, err = c.runAside(hctx, cn, stmt, nil, false, func() {})
	if err != nil {
		c.log.Debug("hive: health check failed", "conn", cn.id, "err", err)
		return false
	}
	return true
}

// release returns a session to the pool, or closes it if it cannot be reused.
func (c *Client) release(cn *conn) {
	c.mu.Lock()
	keep := !c.closed && cn.reusable()
	if keep {
		c.idle = append(c.idle, cn)
	}
	c.mu.Unlock()
	if !keep {
		c.bg.Add(1)
		go func() {
			defer c.bg.Done()
			cn.close()
		}()
	}
	<-c.slots
}

// runAside runs a statement on another goroutine so that the caller can return as soon as
// ctx ends: the statement is then cancelled on the server (CancelOperation) and abandon runs
// once the session is free again.
func (c *Client) runAside(ctx context.Context, cn *conn, stmt string, ev *Events, rows bool, abandon func()) (res *Result, abandoned bool, err error) {
	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1)
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		res, err := cn.run(ctx, stmt, ev, rows, c.cfg.PollInterval)
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		return o.res, false, o.err
	case <-ctx.Done():
		c.bg.Add(1)
		go func() {
			defer c.bg.Done()
			<-done
			abandon()
		}()
		return nil, true, ctxError(ctx, "statement")
	}
}

// Exec runs a statement that returns no rows (or whose rows are not wanted). ev, if not nil,
// receives progress and log lines while it runs. When ctx ends, Exec returns at once and the
// statement is cancelled on the server.
func (c *Client) Exec(ctx context.Context, stmt string, ev *Events) error {
	_, err := c.do(ctx, stmt, ev, false)
	return err
}

// Query runs a statement and returns its result set.
func (c *Client) Query(ctx context.Context, stmt string, ev *Events) (*Result, error) {
	return c.do(ctx, stmt, ev, true)
}

// maxRetries bounds how many times a repeatable statement whose connection dropped is sent
// again: a cluster that drops every connection should fail the caller soon.
const maxRetries = 2

// do runs a statement on a pooled session. A statement the server refused because it had lost
// the session was not run and is sent once more; a repeatable one (hql.Kind) whose connection
// dropped is sent again up to maxRetries times, after a backoff. Others that dropped may have
// run: the caller decides (the engine resumes from its recorded step).
func (c *Client) do(ctx context.Context, stmt string, ev *Events, rows bool) (*Result, error) {
	kind := hql.KindOf(stmt)
	lost, retries := false, 0
	for {
		cn, err := c.acquire(ctx)
		if err != nil {
			return nil, err
		}
		if changesSession(stmt) {
			cn.mu.Lock()
			cn.tainted = true
			cn.mu.Unlock()
		}
		c.log.Debug("hive: statement", "conn", cn.id, "statement", stmt)
		res, abandoned, err := c.runAside(ctx, cn, stmt, ev, rows, func() { c.release(cn) })
		if !abandoned {
			c.release(cn)
		}
		var nr *errNotRun
		if errors.As(err, &nr) && !lost && ctx.Err() == nil {
			// The server had lost the session (restart, idle timeout): the statement was not
			// run, so a fresh session can run it.
			lost = true
			c.log.Info("hive: session lost, retrying on a new one", "conn", cn.id, "err", err)
			continue
		}
		if nr != nil {
			err = nr.err
		}
		if errors.Is(err, errDropped) && kind.Repeatable() && retries < maxRetries && ctx.Err() == nil {
			retries++
			c.log.Warn("hive: connection dropped, sending the statement again on a new session",
				"conn", cn.id, "kind", kind, "retry", retries, "err", err)
			if err := c.backoff(ctx, retries); err != nil {
				return nil, err
			}
			continue
		}
		return res, err
	}
}

// backoff waits before the nth retry, or until ctx ends.
func (c *Client) backoff(ctx context.Context, n int) error {
	t := time.NewTimer(c.cfg.RetryBackoff << (n - 1))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctxError(ctx, "waiting to send a statement again")
	}
}

// changesSession reports whether a statement changes state that the next user of the session
// would inherit: such sessions are closed after use instead of pooled.
func changesSession(stmt string) bool {
	s := strings.ToUpper(strings.TrimSpace(stmt))
	for _, p := range []string{"SET ", "SET\t", "USE ", "RESET", "ADD ", "DELETE ", "SOURCE "} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return s == "SET"
}

// Session is a pooled session checked out for a sequence of statements that must share it:
// SET followed by the statement the settings are for. It is not safe for concurrent use.
// Close returns it; a session whose settings were changed is closed rather than pooled.
type Session struct {
	c  *Client
	cn *conn
}

// Session checks out a session for exclusive use until Session.Close.
func (c *Client) Session(ctx context.Context) (*Session, error) {
	cn, err := c.acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &Session{c: c, cn: cn}, nil
}

var errSessionDone = fmt.Errorf("%w: hive: session closed or abandoned after a cancelled statement", merge.ErrUnavailable)

// Set runs SET key=value on the session (validated by hql.Set).
func (s *Session) Set(ctx context.Context, key, value string) error {
	stmt, err := hql.Set(key, value)
	if err != nil {
		return err
	}
	return s.Exec(ctx, stmt, nil)
}

// Exec runs a statement on the session; see Client.Exec. If ctx ends first, the statement is
// cancelled and the session is given up: later calls fail.
func (s *Session) Exec(ctx context.Context, stmt string, ev *Events) error {
	_, err := s.do(ctx, stmt, ev, false)
	return err
}

// Query runs a statement on the session and returns its result set.
func (s *Session) Query(ctx context.Context, stmt string, ev *Events) (*Result, error) {
	return s.do(ctx, stmt, ev, true)
}

func (s *Session) do(ctx context.Context, stmt string, ev *Events, rows bool) (*Result, error) {
	if s.cn == nil {
		return nil, errSessionDone
	}
	cn := s.cn
	if changesSession(stmt) {
		cn.mu.Lock()
		cn.tainted = true
		cn.mu.Unlock()
	}
	s.c.log.Debug("hive: statement", "conn", cn.id, "statement", stmt)
	res, abandoned, err := s.c.runAside(ctx, cn, stmt, ev, rows, func() { s.c.release(cn) })
	if abandoned {
		// The runner owns the session now and returns it when the cancel is through.
		s.cn = nil
	}
	var nr *errNotRun
	if errors.As(err, &nr) {
		err = nr.err
	}
	return res, err
}

// Close returns the session to the pool (or closes it, if it is broken or its settings were
// changed). It is safe to call more than once.
func (s *Session) Close() {
	if s.cn == nil {
		return
	}
	cn := s.cn
	s.cn = nil
	s.c.release(cn)
}
