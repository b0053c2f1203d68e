package hive

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/beltran/gohive"
	"github.com/beltran/gohive/hiveserver"

	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// conn is one HiveServer2 session. gohive's Connection is not safe for concurrent use (one
// cursor, one Thrift sequence), so a conn is used by one goroutine at a time: the pool hands
// it out exclusively.
type conn struct {
	id  uint64
	gc  *gohive.Connection
	log *slog.Logger

	mu       sync.Mutex
	sockets  []net.Conn // every connection dialled for this session, closed with it
	lastUsed time.Time
	// broken: a request failed at the transport level, a reply may still be in flight, so
	// the session must not be reused. tainted: a statement changed session state (SET, USE)
	// that the next user must not inherit.
	broken, tainted bool
	closeOnce       sync.Once
}

var connIDs atomic.Uint64

func (cn *conn) track(nc net.Conn) {
	cn.mu.Lock()
	cn.sockets = append(cn.sockets, nc)
	cn.mu.Unlock()
}

// abort closes the sockets under gohive, which makes any request in progress fail at once.
func (cn *conn) abort() {
	cn.mu.Lock()
	socks := cn.sockets
	cn.mu.Unlock()
	for _, s := range socks {
		s.Close()
	}
}

func (cn *conn) markBroken() {
	cn.mu.Lock()
	cn.broken = true
	cn.mu.Unlock()
}

func (cn *conn) reusable() bool {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return !cn.broken && !cn.tainted
}

// close ends the session politely when the connection is healthy (CloseSession, bounded by the
// socket timeout), then closes the sockets.
func (cn *conn) close() {
	cn.closeOnce.Do(func() {
		cn.mu.Lock()
		broken := cn.broken
		cn.mu.Unlock()
		if cn.gc != nil && !broken {
			func() {
				defer func() { _ = recover() }() // gohive must not take the process down on close
				if err := cn.gc.Close(); err != nil {
					cn.log.Debug("hive: closing session", "err", err)
				}
			}()
		}
		cn.abort()
	})
}

// dial opens a new session: it connects with a gohive configuration of its own (gohive's
// Connect mutates the configuration it is given), then turns variable substitution off.
func dial(ctx context.Context, cfg Config) (*conn, error) {
	cn := &conn{id: connIDs.Add(1)}
	cn.log = cfg.Logger.With("cluster", cfg.Name, "conn", cn.id)

	gc := gohive.NewConnectConfiguration()
	gc.Username = cfg.Username
	gc.Password = cfg.Password
	gc.HiveConfiguration = make(map[string]string, len(cfg.Session))
	for k, v := range cfg.Session {
		gc.HiveConfiguration[k] = v
	}
	gc.FetchSize = cfg.FetchSize
	gc.PollIntervalInMillis = int(cfg.PollInterval / time.Millisecond)
	gc.ConnectTimeout = cfg.ConnectTimeout
	gc.SocketTimeout = cfg.SocketTimeout
	gc.HttpTimeout = cfg.SocketTimeout
	gc.TransportMode = string(cfg.Transport)
	gc.HTTPPath = cfg.HTTPPath
	gc.TLSConfig = cfg.TLS

	auth := string(cfg.Auth)
	switch {
	case cfg.Auth == AuthKerberos:
		if err := kerberosAvailable(); err != nil {
			return nil, err
		}
		auth = kerberosAuth(gc, cfg)
	case cfg.Transport == TransportHTTP:
		// gohive's HTTP transport knows only NONE (user and password as Basic
		// authentication) and KERBEROS.
		auth = "NONE"
	}

	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second, Control: guard(cfg.Host, cfg.AllowedHosts)}
	if cfg.Transport == TransportHTTP {
		// gohive dials once itself before building its HTTP client and never uses (or
		// closes) that socket: hand it a closed pipe instead. Later dials come from the HTTP
		// client, with its own contexts.
		first := true
		var firstMu sync.Mutex
		gc.DialContext = func(dctx context.Context, network, addr string) (net.Conn, error) {
			firstMu.Lock()
			isFirst := first
			first = false
			firstMu.Unlock()
			if isFirst {
				a, b := net.Pipe()
				b.Close()
				cn.track(a)
				return a, nil
			}
			nc, err := dialer.DialContext(dctx, network, addr)
			if err != nil {
				return nil, err
			}
			cn.track(nc)
			return nc, nil
		}
	} else {
		gc.DialContext = func(_ context.Context, network, addr string) (net.Conn, error) {
			// gohive passes context.TODO: dial with the caller's context instead.
			nc, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if cfg.TLS != nil {
				// With DialContext set, gohive expects a ready TLS connection.
				tc := tls.Client(nc, cfg.TLS)
				hctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
				err := tc.HandshakeContext(hctx)
				cancel()
				if err != nil {
					nc.Close()
					return nil, err
				}
				nc = tc
			}
			cn.track(nc)
			return nc, nil
		}
	}

	// gohive's Connect has no context: run it aside and close its sockets when ctx ends or the
	// connect timeout passes, which makes it return.
	cctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout+cfg.SocketTimeout)
	defer cancel()
	stop := context.AfterFunc(cctx, cn.abort)
	type result struct {
		gc  *gohive.Connection
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- result{err: fmt.Errorf("gohive panicked while connecting: %v", r)}
			}
		}()
		c, err := gohive.Connect(cfg.Host, cfg.Port, auth, gc)
		ch <- result{c, err}
	}()
	r := <-ch
	stop()
	if r.err != nil {
		cn.abort()
		err := redact(r.err, cfg.Password)
		if ctx.Err() != nil {
			return nil, ctxError(ctx, "connect")
		}
		if errors.Is(err, merge.ErrForbidden) {
			return nil, fmt.Errorf("hive: connect to %s: %w", cfg, err)
		}
		if authFailure(err) {
			return nil, fmt.Errorf("%w: hive: connect to %s as %s: %w", merge.ErrUnauthenticated, cfg, cfg.Username, err)
		}
		return nil, unavailable("connect to "+cfg.String(), err)
	}
	cn.gc = r.gc
	cn.lastUsed = time.Now()

	// OpenSession carried the setting already; a SET makes sure of it on servers that
	// ignore (or restrict) OpenSession's configuration.
	stmt, err := hql.Set(substituteKey, "false")
	if err != nil {
		cn.close()
		return nil, err
	}
	if _, err := cn.run(ctx, stmt, nil, false, cfg.PollInterval); err != nil {
		cn.markBroken()
		cn.close()
		return nil, err
	}
	cn.log.Debug("hive: session opened", "transport", cfg.Transport, "auth", cfg.Auth)
	return cn, nil
}

// guard returns the dialer's Control hook, which runs for each address after name resolution
// and before any packet is sent: it refuses the addresses merge.CheckClusterAddr forbids
// unless allow lists them or the host name itself.
func guard(host string, allow *merge.HostAllowlist) func(network, address string, _ syscall.RawConn) error {
	if allow.AllowsName(host) {
		return nil
	}
	return func(_, address string, _ syscall.RawConn) error {
		h, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip, err := netip.ParseAddr(h)
		if err != nil {
			return err
		}
		return merge.CheckClusterAddr(ip, allow)
	}
}

// redact removes the password from an error message (gohive puts credentials in HTTP URLs),
// by merge.Redact's rule.
func redact(err error, password string) error {
	if err == nil {
		return err
	}
	if msg := err.Error(); merge.Redact(msg, password) != msg {
		return &redacted{msg: merge.Redact(msg, password), err: err}
	}
	return err
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }

// Unwrap keeps the cause visible to errors.Is and errors.As; only Error is redacted.
func (r *redacted) Unwrap() error { return r.err }

// Progress is the state of a running statement as HiveServer2 reports it.
type Progress struct {
	// State is the operation state: INITIALIZED, PENDING, RUNNING, FINISHED, ...
	State string
	// Percent is the completed share (0-100), or -1 when Hive reports none (MapReduce).
	Percent float64
	// Header and Rows are the per-stage (Tez vertex) progress table; Footer its summary.
	Header []string
	Rows   [][]string
	Footer string
	// TaskStatus is Hive's JSON task list (MapReduce), if any.
	TaskStatus string
}

// Events receives what a statement reports while it runs. Either field may be nil. The
// callbacks run on the goroutine that polls the statement; they must not block for long.
type Events struct {
	Progress func(Progress)
	Log      func(line string)
}

// Result is the result set of a query. Values are string, int64, float64, bool, []byte, or nil
// for NULL.
type Result struct {
	Columns []string
	// Types are HiveServer2's type names: STRING_TYPE, BIGINT_TYPE, ...
	Types []string
	Rows  [][]any
}

// Strings returns the rows as strings for the metadata parsers (NULL becomes "").
func (r *Result) Strings() [][]string { return StringRows(r.Rows) }

// errNotRun marks a failure that happened before HiveServer2 accepted the statement, so running
// it again on another session cannot run it twice.
type errNotRun struct{ err error }

func (e *errNotRun) Error() string { return e.err.Error() }
func (e *errNotRun) Unwrap() error { return e.err }

// run executes one statement on the session: asynchronously, polling its status and logs until
// it ends, cancelling it when ctx ends, and fetching its rows when rows is set. It blocks in
// gohive calls (each bounded by the socket timeout); callers that must return promptly run it
// on another goroutine.
func (cn *conn) run(ctx context.Context, stmt string, ev *Events, rows bool, poll time.Duration) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			cn.markBroken()
			err = unavailable("statement", fmt.Errorf("gohive panicked: %v", r))
		}
		cn.mu.Lock()
		cn.lastUsed = time.Now()
		cn.mu.Unlock()
	}()
	if err := ctx.Err(); err != nil {
		return nil, &errNotRun{ctxError(ctx, "statement")}
	}
	cur := cn.gc.Cursor()
	defer func() {
		if cn.reusable() {
			cur.Close() // CloseOperation
			if cur.Err != nil && transportFailure(cur.Err) {
				cn.markBroken()
			}
		}
	}()

	// The caller's context is not passed: thrift keeps retrying socket timeouts while a
	// context with a deadline is alive, which would defeat SocketTimeout.
	cur.Execute(context.Background(), stmt, true)
	if cur.Err != nil {
		e := cur.Err
		if transportFailure(e) {
			cn.markBroken()
			return nil, dropped("execute", e)
		}
		if sessionGone(e) {
			cn.markBroken()
			return nil, &errNotRun{fromGohive("execute", e)}
		}
		return nil, fromGohive("execute", e)
	}

	var last *hiveserver.TGetOperationStatusResp
	wait := time.NewTimer(0)
	defer wait.Stop()
	// Poll quickly at first, then back off to the poll interval: most metadata statements
	// finish within milliseconds, merges take minutes.
	backoff := time.Millisecond
	for {
		st := cur.Poll(true)
		if cur.Err != nil {
			e := cur.Err
			if transportFailure(e) {
				cn.markBroken()
				return nil, dropped("status", e)
			}
			if sessionGone(e) {
				cn.markBroken()
			}
			return nil, fromGohive("status", e)
		}
		if st == nil || st.OperationState == nil {
			return nil, unavailable("status", errors.New("GetOperationStatus without an operation state"))
		}
		last = st
		cn.report(cur, st, ev)
		state := *st.OperationState
		if state != hiveserver.TOperationState_INITIALIZED_STATE &&
			state != hiveserver.TOperationState_PENDING_STATE &&
			state != hiveserver.TOperationState_RUNNING_STATE {
			break
		}
		backoff = min(2*backoff, poll)
		wait.Reset(backoff)
		select {
		case <-wait.C:
		case <-ctx.Done():
			cn.cancel(cur)
			return nil, ctxError(ctx, "statement")
		}
	}
	cn.logs(cur, ev) // the last lines

	switch state := *last.OperationState; state {
	case hiveserver.TOperationState_FINISHED_STATE:
	case hiveserver.TOperationState_ERROR_STATE:
		msg := last.GetErrorMessage()
		if msg == "" {
			msg = last.GetTaskStatus()
		}
		if msg == "" && last.Status != nil {
			msg = last.Status.GetErrorMessage()
		}
		if msg == "" {
			msg = "the statement failed without a message"
		}
		return nil, newError(last.GetSqlState(), last.GetErrorCode(), msg)
	case hiveserver.TOperationState_TIMEDOUT_STATE:
		return nil, unavailable("statement", errors.New("HiveServer2 timed the statement out (hive.query.timeout.seconds)"))
	default:
		// CANCELED (by someone else), CLOSED, UNKNOWN.
		return nil, unavailable("statement", fmt.Errorf("the operation ended in state %s", state))
	}
	if !rows || (last.HasResultSet != nil && !*last.HasResultSet) {
		return &Result{}, nil
	}
	return cn.fetch(cur)
}

// cancel sends CancelOperation for the running statement.
func (cn *conn) cancel(cur *gohive.Cursor) {
	cur.Cancel()
	if cur.Err != nil {
		cn.log.Warn("hive: cancelling a statement failed", "err", cur.Err)
		if transportFailure(cur.Err) {
			cn.markBroken()
		}
		return
	}
	cn.log.Info("hive: statement cancelled")
}

func (cn *conn) report(cur *gohive.Cursor, st *hiveserver.TGetOperationStatusResp, ev *Events) {
	if ev == nil {
		return
	}
	if ev.Progress != nil {
		p := Progress{State: trimState(st.OperationState.String()), Percent: -1, TaskStatus: st.GetTaskStatus()}
		if u := st.ProgressUpdateResponse; u != nil {
			p.Percent = 100 * u.ProgressedPercentage
			p.Header, p.Rows, p.Footer = u.HeaderNames, u.Rows, u.FooterSummary
		}
		ev.Progress(p)
	}
	cn.logs(cur, ev)
}

func trimState(s string) string {
	if n := len(s) - len("_STATE"); n > 0 && s[n:] == "_STATE" {
		return s[:n]
	}
	return s
}

// logs fetches the log lines produced since the last call. Servers without operation logging
// answer with an error status, which only means there are none.
func (cn *conn) logs(cur *gohive.Cursor, ev *Events) {
	if ev == nil || ev.Log == nil {
		return
	}
	cur.Err = nil
	lines := cur.FetchLogs()
	if cur.Err != nil {
		if transportFailure(cur.Err) {
			cn.markBroken()
		}
		cur.Err = nil
		return
	}
	for _, l := range lines {
		ev.Log(l)
	}
}

// fetch reads the whole result set, keeping NULLs (gohive's FetchOne reports them only
// through pointer-to-pointer destinations).
func (cn *conn) fetch(cur *gohive.Cursor) (*Result, error) {
	bg := context.Background()
	desc := cur.Description()
	if cur.Err != nil {
		if transportFailure(cur.Err) {
			cn.markBroken()
			return nil, dropped("result metadata", cur.Err)
		}
		return nil, fromGohive("result metadata", cur.Err)
	}
	res := &Result{Columns: make([]string, len(desc)), Types: make([]string, len(desc)), Rows: [][]any{}}
	for i, d := range desc {
		if len(d) >= 2 {
			res.Columns[i], res.Types[i] = d[0], d[1]
		}
	}
	for {
		more := cur.HasMore(bg)
		if cur.Err != nil {
			if transportFailure(cur.Err) {
				cn.markBroken()
				return nil, dropped("fetch", cur.Err)
			}
			return nil, fromGohive("fetch", cur.Err)
		}
		if !more {
			return res, nil
		}
		dests := make([]any, len(desc))
		for i, typ := range res.Types {
			dests[i] = destFor(typ)
		}
		cur.FetchOne(bg, dests...)
		if cur.Err != nil {
			if transportFailure(cur.Err) {
				cn.markBroken()
				return nil, dropped("fetch", cur.Err)
			}
			return nil, fromGohive("fetch", cur.Err)
		}
		row := make([]any, len(dests))
		for i, d := range dests {
			row[i] = valueOf(d)
		}
		res.Rows = append(res.Rows, row)
	}
}

func destFor(typ string) any {
	switch typ {
	case "BOOLEAN_TYPE":
		return new(*bool)
	case "TINYINT_TYPE":
		return new(*int8)
	case "SMALLINT_TYPE":
		return new(*int16)
	case "INT_TYPE":
		return new(*int32)
	case "BIGINT_TYPE":
		return new(*int64)
	case "FLOAT_TYPE", "DOUBLE_TYPE":
		return new(*float64)
	case "BINARY_TYPE":
		return new([]byte)
	}
	return new(*string)
}

func valueOf(d any) any {
	switch p := d.(type) {
	case **bool:
		if *p != nil {
			return **p
		}
	case **int8:
		if *p != nil {
			return int64(**p)
		}
	case **int16:
		if *p != nil {
			return int64(**p)
		}
	case **int32:
		if *p != nil {
			return int64(**p)
		}
	case **int64:
		if *p != nil {
			return **p
		}
	case **float64:
		if *p != nil {
			return **p
		}
	case **string:
		if *p != nil {
			return **p
		}
	case *[]byte:
		if *p != nil {
			return *p
		}
	}
	return nil
}

// ctxError describes a context that ended: cancellation stays context.Canceled, a deadline is
// also merge.ErrUnavailable (Hive did not answer in time).
func ctxError(ctx context.Context, op string) error {
	err := ctx.Err()
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: hive %s: %w", merge.ErrUnavailable, op, err)
	}
	return fmt.Errorf("hive %s: %w", op, err)
}
