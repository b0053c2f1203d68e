package hive_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"github.com/hivemerge/hivemerge/shared/merge"
)

var users = map[string]string{"alice": "s3cret-pw"}

// endpoint is one way of reaching HiveServer2.
type endpoint struct {
	name      string
	transport hive.Transport
	auth      hive.Auth
	tls       bool
}

var endpoints = []endpoint{
	{"binary NOSASL", hive.TransportBinary, hive.AuthNoSASL, false},
	{"binary SASL PLAIN (NONE)", hive.TransportBinary, hive.AuthNone, false},
	{"binary SASL PLAIN (LDAP) over TLS", hive.TransportBinary, hive.AuthLDAP, true},
	{"HTTP", hive.TransportHTTP, hive.AuthNoSASL, false},
	{"HTTP Basic (LDAP) over TLS", hive.TransportHTTP, hive.AuthLDAP, true},
}

// serverLog records what the sandbox logs, so tests can see what the server saw.
type serverLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *serverLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *serverLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.msgs = append(l.msgs, r.Message)
	l.mu.Unlock()
	return nil
}
func (l *serverLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *serverLog) WithGroup(string) slog.Handler      { return l }

func (l *serverLog) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if m == msg {
			n++
		}
	}
	return n
}

type sandbox struct {
	srv       *hivesandbox.Server
	ep        endpoint
	log       *serverLog
	clientTLS *tls.Config
}

func startSandbox(t testing.TB, ep endpoint) *sandbox {
	t.Helper()
	sb := &sandbox{ep: ep, log: &serverLog{}}
	cfg := hivesandbox.Config{Addr: "127.0.0.1:0", Warehouse: t.TempDir(), Logger: slog.New(sb.log)}
	if ep.transport == hive.TransportHTTP {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	if ep.auth != hive.AuthNoSASL {
		cfg.Users = users
	}
	if ep.tls {
		var err error
		if cfg.TLS, sb.clientTLS, err = hivesandbox.SelfSignedTLS(); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := hivesandbox.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	sb.srv = srv
	return sb
}

func (sb *sandbox) config(t testing.TB) hive.Config {
	t.Helper()
	addr := sb.srv.Addr()
	if sb.ep.transport == hive.TransportHTTP {
		addr = sb.srv.HTTPAddr()
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	cfg := hive.Config{
		Name:           "sandbox",
		Host:           host,
		Port:           p,
		Transport:      sb.ep.transport,
		Auth:           sb.ep.auth,
		TLS:            sb.clientTLS,
		PoolSize:       4,
		PollInterval:   5 * time.Millisecond,
		ConnectTimeout: 10 * time.Second,
		SocketTimeout:  30 * time.Second,
		Logger:         slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if sb.ep.auth != hive.AuthNoSASL {
		cfg.Username, cfg.Password = "alice", users["alice"]
	}
	return cfg
}

func (sb *sandbox) client(t testing.TB, mutate ...func(*hive.Config)) *hive.Client {
	t.Helper()
	cfg := sb.config(t)
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := hive.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var orders = hql.Table{Database: "sales", Name: "orders"}

// seed creates sales.orders with three small files (4 rows) in hr=00 and one in hr=01. Test data is
// written as literal HiveQL: it is fixed text, not user input.
func seed(t testing.TB, c *hive.Client) {
	t.Helper()
	ctx := context.Background()
	for _, stmt := range []string{
		"CREATE DATABASE sales",
		"CREATE TABLE sales.orders (id BIGINT, amount DOUBLE, note STRING) PARTITIONED BY (dt STRING, hr STRING) STORED AS TEXTFILE",
		"INSERT INTO sales.orders PARTITION (dt='2024-01-01', hr='00') VALUES (1, 2.5, 'a'), (2, 3.5, NULL)",
		"INSERT INTO sales.orders PARTITION (dt='2024-01-01', hr='00') VALUES (3, 4.5, 'c')",
		"INSERT INTO sales.orders PARTITION (dt='2024-01-01', hr='00') VALUES (5, 0.5, 'e')",
		"INSERT INTO sales.orders PARTITION (dt='2024-01-01', hr='01') VALUES (4, 1.0, 'd')",
	} {
		if err := c.Exec(ctx, stmt, nil); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

func mustSpec(t testing.TB, tb *hive.Table, vals map[string]string) hql.Spec {
	t.Helper()
	s, err := tb.Spec(vals)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestEndpoints reads metadata through every transport and authentication.
func TestEndpoints(t *testing.T) {
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			sb := startSandbox(t, ep)
			c := sb.client(t)
			seed(t, c)
			ctx := context.Background()

			tb, err := c.DescribeTable(ctx, orders)
			if err != nil {
				t.Fatalf("DescribeTable: %v", err)
			}
			if got := tb.DataColumns(); strings.Join(got, ",") != "id,amount,note" {
				t.Errorf("columns %v", got)
			}
			if len(tb.PartitionKeys) != 2 || tb.TableType != hive.ManagedTable || tb.Format != hive.FormatText {
				t.Errorf("table %+v", tb)
			}
			parts, err := c.Partitions(ctx, orders, mustSpec(t, tb, nil))
			if err != nil {
				t.Fatalf("Partitions: %v", err)
			}
			if len(parts) != 2 || parts[0].Spec()["hr"] != "00" {
				t.Errorf("partitions %+v", parts)
			}
			hr00 := mustSpec(t, tb, parts[0].Spec())
			st, err := c.TableStatus(ctx, orders, hr00)
			if err != nil {
				t.Fatalf("TableStatus: %v", err)
			}
			if !st.FilesKnown() || *st.TotalNumberFiles != 3 {
				t.Errorf("hr=00 should have 3 files: %+v", st)
			}
			pd, err := c.DescribePartition(ctx, orders, hr00)
			if err != nil {
				t.Fatalf("DescribePartition: %v", err)
			}
			if !strings.HasSuffix(pd.Location, "/dt=2024-01-01/hr=00") {
				t.Errorf("partition location %q", pd.Location)
			}
			sum, err := c.Checksum(ctx, orders, tb.DataColumns(), hr00)
			if err != nil {
				t.Fatalf("Checksum: %v", err)
			}
			if sum.Rows != 4 {
				t.Errorf("checksum %+v, want 4 rows", sum)
			}
			props, err := c.TableProperties(ctx, orders)
			if err != nil {
				t.Fatalf("TableProperties: %v", err)
			}
			if len(props.Values) == 0 {
				t.Error("no table properties")
			}
			res, err := c.Query(ctx, "SELECT id, note FROM sales.orders WHERE dt='2024-01-01' AND hr='00' AND id = 2", nil)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if len(res.Rows) != 1 || res.Rows[0][0] != int64(2) || res.Rows[0][1] != nil {
				t.Errorf("rows %#v (want id 2 with a NULL note)", res.Rows)
			}
		})
	}
}

func TestWrongPassword(t *testing.T) {
	for _, ep := range []endpoint{endpoints[2], endpoints[4]} {
		t.Run(ep.name, func(t *testing.T) {
			sb := startSandbox(t, ep)
			const wrong = "not-the-password"
			c := sb.client(t, func(c *hive.Config) { c.Password = wrong })
			err := c.Exec(context.Background(), "SHOW DATABASES", nil)
			if !errors.Is(err, merge.ErrUnauthenticated) {
				t.Fatalf("err = %v, want merge.ErrUnauthenticated", err)
			}
			if strings.Contains(err.Error(), wrong) {
				t.Errorf("error reveals the password: %v", err)
			}
		})
	}
}

// TestConcurrentStatements runs 32 goroutines over a pool of 4 sessions: every statement is
// answered, none sees another's replies ("out of order sequence response"), and no more than
// 4 sessions are opened.
func TestConcurrentStatements(t *testing.T) {
	for _, ep := range []endpoint{endpoints[0], endpoints[3]} {
		t.Run(ep.name, func(t *testing.T) {
			sb := startSandbox(t, ep)
			c := sb.client(t)
			seed(t, c)
			ctx := context.Background()
			tb, err := c.DescribeTable(ctx, orders)
			if err != nil {
				t.Fatal(err)
			}
			hr00 := mustSpec(t, tb, map[string]string{"dt": "2024-01-01", "hr": "00"})
			hr01 := mustSpec(t, tb, map[string]string{"dt": "2024-01-01", "hr": "01"})

			const goroutines, each = 32, 6
			errs := make(chan error, goroutines*each)
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range each {
						spec, want := hr00, int64(4)
						if (g+i)%2 == 1 {
							spec, want = hr01, 1
						}
						sum, err := c.Checksum(ctx, orders, tb.DataColumns(), spec)
						if err == nil && sum.Rows != want {
							err = fmt.Errorf("goroutine %d: checksum of %s has %d rows, want %d", g, spec, sum.Rows, want)
						}
						if err == nil && i%3 == 0 {
							_, err = c.Partitions(ctx, orders, spec)
						}
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			n := 0
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
				n++
			}
			if n != goroutines*each {
				t.Errorf("%d answers, want %d", n, goroutines*each)
			}
			if got := c.SessionsOpened(); got > 4 {
				t.Errorf("opened %d sessions with a pool of 4", got)
			}
		})
	}
}

// TestDroppedConnectionIsReplaced kills the connection under a statement and under a pooled
// idle session; the client replaces both.
func TestDroppedConnectionIsReplaced(t *testing.T) {
	sb := startSandbox(t, endpoints[1])
	c := sb.client(t, func(c *hive.Config) { c.PoolSize = 1; c.HealthCheckAfter = time.Nanosecond })
	ctx := context.Background()
	if err := c.Exec(ctx, "CREATE DATABASE d1", nil); err != nil {
		t.Fatal(err)
	}

	remove := sb.srv.Inject(hivesandbox.Fault{Match: `^CREATE DATABASE d2`, Action: hivesandbox.FaultDropConnection, Times: 1})
	err := c.Exec(ctx, "CREATE DATABASE d2", nil)
	remove()
	if !errors.Is(err, merge.ErrUnavailable) {
		t.Fatalf("statement on a dropped connection: %v, want merge.ErrUnavailable", err)
	}
	if _, err := c.Query(ctx, "SHOW DATABASES", nil); err != nil {
		t.Fatalf("after the drop: %v", err)
	}
	if got := c.SessionsOpened(); got != 2 {
		t.Errorf("opened %d sessions, want 2 (one replaced)", got)
	}

	// The health check of the idle session is the statement that finds it dead now.
	sb.srv.Inject(hivesandbox.Fault{Match: `^SET hive\.variable\.substitute=false$`, Action: hivesandbox.FaultDropConnection, Times: 1})
	res, err := c.Query(ctx, "SHOW DATABASES", nil)
	if err != nil {
		t.Fatalf("statement after the idle session died: %v", err)
	}
	if len(res.Rows) < 2 {
		t.Errorf("SHOW DATABASES = %v", res.Rows)
	}
	if got := c.SessionsOpened(); got != 3 {
		t.Errorf("opened %d sessions, want 3", got)
	}
}

// TestLostSessionIsRetried restarts HiveServer2 behind a proxy that keeps the client's TCP
// connection open (as a load balancer does): the next statement reaches a server that does
// not know the session and is refused without being run, so the client runs it once more on
// a new session.
func TestLostSessionIsRetried(t *testing.T) {
	dir := t.TempDir()
	start := func(addr string) *hivesandbox.Server {
		srv, err := hivesandbox.Start(context.Background(), hivesandbox.Config{Addr: addr, Warehouse: dir})
		if err != nil {
			t.Fatalf("start sandbox: %v", err)
		}
		return srv
	}
	srv := start("127.0.0.1:0")
	px := startProxy(t, srv.Addr())
	host, port, _ := net.SplitHostPort(px.ln.Addr().String())
	p, _ := strconv.Atoi(port)
	c, err := hive.New(hive.Config{Host: host, Port: p, Auth: hive.AuthNoSASL, PoolSize: 1, PollInterval: 5 * time.Millisecond,
		HealthCheckAfter: -1, SocketTimeout: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Exec(ctx, "CREATE DATABASE d1", nil); err != nil {
		t.Fatal(err)
	}

	addr := srv.Addr()
	srv.Close()
	px.waitDrops(1) // the proxy saw the server go away
	srv = start(addr)
	defer srv.Close()
	defer c.Close() // before the server stops, so that closing the session gets an answer

	if err := c.Exec(ctx, "CREATE DATABASE d2", nil); err != nil {
		t.Fatalf("Exec after the server lost the session: %v", err)
	}
	if got := c.SessionsOpened(); got != 2 {
		t.Errorf("opened %d sessions, want 2", got)
	}
	res, err := c.Query(ctx, "SHOW DATABASES LIKE 'd1|d2'", nil)
	if err != nil || len(res.Rows) != 2 {
		t.Fatalf("databases %v, %v", res, err)
	}
}

// proxy forwards TCP connections to a server; when the server side closes, it keeps the
// client side open and connects again on the client's next bytes.
type proxy struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	drops    int
	dropped  *sync.Cond
}

func startProxy(t testing.TB, upstream string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, upstream: upstream}
	p.dropped = sync.NewCond(&p.mu)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *proxy) waitDrops(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.drops < n {
		p.dropped.Wait()
	}
}

func (p *proxy) serve(client net.Conn) {
	defer client.Close()
	var up net.Conn
	var upDead chan struct{}
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if err != nil {
			if up != nil {
				up.Close()
			}
			return
		}
		if up != nil {
			select {
			case <-upDead:
				up = nil
			default:
			}
		}
		if up == nil {
			if up, err = net.Dial("tcp", p.upstream); err != nil {
				return
			}
			upDead = make(chan struct{})
			go func(u net.Conn, dead chan struct{}) {
				io.Copy(client, u)
				u.Close()
				close(dead)
				p.mu.Lock()
				p.drops++
				p.mu.Unlock()
				p.dropped.Broadcast()
			}(up, upDead)
		}
		if _, err := up.Write(buf[:n]); err != nil {
			return
		}
	}
}

// TestCancelHungStatement cancels a statement that never finishes: Exec returns, and the
// server receives CancelOperation.
func TestCancelHungStatement(t *testing.T) {
	for _, ep := range []endpoint{endpoints[0], endpoints[3]} {
		t.Run(ep.name, func(t *testing.T) {
			sb := startSandbox(t, ep)
			c := sb.client(t)
			seed(t, c)
			sb.srv.Inject(hivesandbox.Fault{Match: `^INSERT OVERWRITE`, Action: hivesandbox.FaultHang})
			tb, err := c.DescribeTable(context.Background(), orders)
			if err != nil {
				t.Fatal(err)
			}
			stmt, err := hql.InsertOverwrite(orders, orders, mustSpec(t, tb, map[string]string{"dt": "2024-01-01", "hr": "00"}), tb.DataColumns())
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ev := &hive.Events{Progress: func(p hive.Progress) {
				if p.State == "RUNNING" {
					cancel() // the statement is on the server and hanging
				}
			}}
			err = c.Exec(ctx, stmt, ev)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Exec = %v, want context.Canceled", err)
			}
			// Close waits for the abandoned statement's cancel to complete.
			c.Close()
			if n := sb.log.count("operation cancelled"); n != 1 {
				t.Errorf("server saw %d CancelOperation, want 1", n)
			}
		})
	}
}

// TestDeadlineOnHungStatement: a deadline ends a hung statement as merge.ErrUnavailable.
func TestDeadlineOnHungStatement(t *testing.T) {
	sb := startSandbox(t, endpoints[0])
	c := sb.client(t)
	sb.srv.Inject(hivesandbox.Fault{Match: `^CREATE DATABASE`, Action: hivesandbox.FaultHang})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := c.Exec(ctx, "CREATE DATABASE slow", nil)
	if !errors.Is(err, merge.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Exec = %v, want merge.ErrUnavailable and context.DeadlineExceeded", err)
	}
	c.Close()
	if n := sb.log.count("operation cancelled"); n != 1 {
		t.Errorf("server saw %d CancelOperation, want 1", n)
	}
}

// TestWaitForFreeSession: with every session checked out, a caller waits, and gives up when
// its context ends.
func TestWaitForFreeSession(t *testing.T) {
	sb := startSandbox(t, endpoints[0])
	c := sb.client(t, func(c *hive.Config) { c.PoolSize = 1 })
	s, err := c.Session(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Exec(ctx, "SHOW DATABASES", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Exec with a full pool and a cancelled context = %v", err)
	}
	done := make(chan error)
	go func() { done <- c.Exec(context.Background(), "SHOW DATABASES", nil) }()
	s.Close()
	if err := <-done; err != nil {
		t.Errorf("Exec after the session was returned: %v", err)
	}
}

func TestExecStreamsProgressAndLogs(t *testing.T) {
	sb := startSandbox(t, endpoints[1])
	c := sb.client(t)
	seed(t, c)
	ctx := context.Background()
	tb, err := c.DescribeTable(ctx, orders)
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := hql.InsertOverwrite(orders, orders, mustSpec(t, tb, map[string]string{"dt": "2024-01-01", "hr": "00"}), tb.DataColumns())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var progress []hive.Progress
	var logs []string
	ev := &hive.Events{
		Progress: func(p hive.Progress) { mu.Lock(); progress = append(progress, p); mu.Unlock() },
		Log:      func(l string) { mu.Lock(); logs = append(logs, l); mu.Unlock() },
	}
	if err := c.Exec(ctx, stmt, ev); err != nil {
		t.Fatal(err)
	}
	if len(progress) == 0 || progress[len(progress)-1].State != "FINISHED" || progress[len(progress)-1].Percent != 100 {
		t.Errorf("progress %+v", progress)
	}
	if len(logs) == 0 {
		t.Error("no log lines")
	}
	st, err := c.TableStatus(ctx, orders, mustSpec(t, tb, map[string]string{"dt": "2024-01-01", "hr": "00"}))
	if err != nil {
		t.Fatal(err)
	}
	if *st.TotalNumberFiles != 1 {
		t.Errorf("after the rewrite hr=00 has %d files, want 1", *st.TotalNumberFiles)
	}
}

func TestErrorsMapToDomainErrors(t *testing.T) {
	sb := startSandbox(t, endpoints[0])
	c := sb.client(t)
	seed(t, c)
	ctx := context.Background()
	sb.srv.Inject(hivesandbox.Fault{Match: `^ANALYZE`, Action: hivesandbox.FaultFail})
	concat, _ := hql.Concatenate(orders, func() hql.Spec {
		s, _ := hql.NewSpec([]hql.Column{{Name: "dt", Type: "string"}, {Name: "hr", Type: "string"}}, map[string]string{"dt": "2024-01-01", "hr": "00"})
		return s
	}())
	analyze, _ := hql.Analyze(orders, hql.Spec{})
	cases := []struct {
		name string
		run  func() error
		kind error // nil: a *hive.Error of no particular kind
	}{
		{"missing table", func() error { _, err := c.DescribeTable(ctx, hql.Table{Database: "sales", Name: "nope"}); return err }, merge.ErrNotFound},
		{"missing database", func() error { _, err := c.DescribeTable(ctx, hql.Table{Database: "nodb", Name: "t"}); return err }, merge.ErrNotFound},
		{"parse error", func() error { return c.Exec(ctx, "SELEC 1", nil) }, merge.ErrInvalid},
		{"concatenate of a text table", func() error { return c.Exec(ctx, concat, nil) }, merge.ErrInvalid},
		{"execution error", func() error { return c.Exec(ctx, analyze, nil) }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			var he *hive.Error
			if !errors.As(err, &he) {
				t.Fatalf("err = %v (%T), want a *hive.Error", err, err)
			}
			if tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Errorf("err = %v (code %d, state %q), want %v", err, he.Code, he.SQLState, tc.kind)
			}
			if tc.kind == nil && he.Kind != nil {
				t.Errorf("err = %v classified as %v", err, he.Kind)
			}
			if errors.Is(err, merge.ErrUnavailable) {
				t.Errorf("a statement error is not a connection failure: %v", err)
			}
		})
	}
}

// TestSessionSettings: settings from Config apply to every session, substitution is off,
// and a session whose settings were changed is not handed to the next caller.
func TestSessionSettings(t *testing.T) {
	sb := startSandbox(t, endpoints[0])
	c := sb.client(t, func(c *hive.Config) {
		c.PoolSize = 1
		c.Session = map[string]string{"hive.exec.dynamic.partition.mode": "nonstrict"}
	})
	ctx := context.Background()
	get := func(key string) string {
		t.Helper()
		res, err := c.Query(ctx, "SET "+key, nil)
		if err != nil || len(res.Rows) != 1 {
			t.Fatalf("SET %s: %v %v", key, res, err)
		}
		return fmt.Sprint(res.Rows[0][0])
	}
	if got := get("hive.variable.substitute"); got != "hive.variable.substitute=false" {
		t.Errorf("got %q", got)
	}
	if got := get("hive.exec.dynamic.partition.mode"); got != "hive.exec.dynamic.partition.mode=nonstrict" {
		t.Errorf("got %q", got)
	}
	s, err := c.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "hive.merge.tezfiles", "true"); err != nil {
		t.Fatal(err)
	}
	res, err := s.Query(ctx, "SET hive.merge.tezfiles", nil)
	if err != nil || fmt.Sprint(res.Rows[0][0]) != "hive.merge.tezfiles=true" {
		t.Fatalf("in the session: %v %v", res, err)
	}
	s.Close()
	if got := get("hive.merge.tezfiles"); got != "hive.merge.tezfiles=false" {
		t.Errorf("the next caller inherited a setting: %q", got)
	}
}

func TestDropExternalTableRefusesManaged(t *testing.T) {
	sb := startSandbox(t, endpoints[0])
	c := sb.client(t)
	seed(t, c)
	ctx := context.Background()
	if err := c.DropExternalTable(ctx, orders); !errors.Is(err, merge.ErrForbidden) {
		t.Fatalf("dropping a managed table: %v, want merge.ErrForbidden", err)
	}
	tmp := hql.Table{Database: "sales", Name: "hivemerge_tmp_orders"}
	// The sandbox only accepts locations inside its warehouse directory.
	stmt, err := hql.CreateExternalLike(tmp, orders, "file:"+sb.srv.Warehouse().Dir()+"/tmp_orders")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(ctx, stmt, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.DropExternalTable(ctx, tmp); err != nil {
		t.Fatalf("dropping the external table: %v", err)
	}
	if err := c.DropExternalTable(ctx, tmp); err != nil {
		t.Fatalf("dropping it again: %v", err)
	}
	if _, err := c.DescribeTable(ctx, orders); err != nil {
		t.Fatalf("the managed table is gone: %v", err)
	}
}
