package hivesandbox_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/beltran/gohive"
	"github.com/beltran/gohive/hiveserver"

	"github.com/hivemerge/hivemerge/shared/hivesandbox"
)

// testUsers are the credentials of servers started with authentication.
var testUsers = map[string]string{"alice": "s3cret", "bob": "hunter2"}

// transport is one way a client reaches the sandbox.
type transport struct {
	name  string
	users bool // server requires credentials (SASL PLAIN / HTTP Basic)
	http  bool
	tls   bool
}

var (
	nosasl    = transport{name: "binary NOSASL"}
	nosaslTLS = transport{name: "binary NOSASL over TLS", tls: true}
	sasl      = transport{name: "binary SASL PLAIN", users: true}
	saslTLS   = transport{name: "binary SASL PLAIN over TLS", users: true, tls: true}
	httpPlain = transport{name: "HTTP", http: true}
	httpTLS   = transport{name: "HTTP Basic over TLS", http: true, users: true, tls: true}

	transports = []transport{nosasl, nosaslTLS, sasl, saslTLS, httpPlain, httpTLS}
)

// sandbox is a server plus what a client needs to reach it.
type sandbox struct {
	*hivesandbox.Server
	tr        transport
	clientTLS *tls.Config
}

func startSandbox(t testing.TB, tr transport, mutate ...func(*hivesandbox.Config)) *sandbox {
	t.Helper()
	cfg := hivesandbox.Config{
		Addr:      "127.0.0.1:0",
		Warehouse: t.TempDir(),
		Logger:    slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if tr.http {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	if tr.users {
		cfg.Users = testUsers
	}
	sb := &sandbox{tr: tr}
	if tr.tls {
		var err error
		if cfg.TLS, sb.clientTLS, err = hivesandbox.SelfSignedTLS(); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := hivesandbox.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	sb.Server = srv
	return sb
}

// connect opens a gohive connection as user alice (or with the given password).
func (sb *sandbox) connect(t testing.TB) *gohive.Connection {
	t.Helper()
	conn, err := sb.dial("alice", testUsers["alice"])
	if err != nil {
		t.Fatalf("connect over %s: %v", sb.tr.name, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func (sb *sandbox) dial(user, password string) (*gohive.Connection, error) {
	cfg := gohive.NewConnectConfiguration()
	cfg.Username, cfg.Password = user, password
	cfg.PollIntervalInMillis = 5
	cfg.ConnectTimeout = 10 * time.Second
	cfg.SocketTimeout = 60 * time.Second
	cfg.TLSConfig = sb.clientTLS
	addr, auth := sb.Addr(), "NOSASL"
	if sb.tr.users {
		auth = "NONE" // SASL PLAIN; "LDAP" sends the same bytes
	}
	if sb.tr.http {
		cfg.TransportMode, cfg.HTTPPath = "http", "cliservice"
		addr, auth = sb.HTTPAddr(), "NONE"
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(portStr)
	return gohive.Connect(host, port, auth, cfg)
}

// query runs a statement and returns its rows as strings (NULL as "NULL").
func query(t testing.TB, cur *gohive.Cursor, stmt string) [][]string {
	t.Helper()
	rows, err := tryQuery(context.Background(), cur, stmt)
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	return rows
}

func tryQuery(ctx context.Context, cur *gohive.Cursor, stmt string) ([][]string, error) {
	cur.Exec(ctx, stmt)
	if cur.Err != nil {
		return nil, cur.Err
	}
	// gohive fetches even for statements without a result set, and then fails with "All
	// columns seem empty" (so it does against Hive); the schema tells them apart.
	desc := cur.Description()
	if cur.Err != nil || len(desc) == 0 {
		return nil, cur.Err
	}
	var rows [][]string
	for cur.HasMore(ctx) {
		if cur.Err != nil {
			return nil, cur.Err
		}
		dests := make([]any, len(desc))
		for i, d := range desc {
			switch d[1] {
			case "BIGINT_TYPE":
				dests[i] = new(*int64)
			case "INT_TYPE":
				dests[i] = new(*int32)
			case "DOUBLE_TYPE", "FLOAT_TYPE":
				dests[i] = new(*float64)
			case "BOOLEAN_TYPE":
				dests[i] = new(*bool)
			default:
				dests[i] = new(*string)
			}
		}
		cur.FetchOne(ctx, dests...)
		if cur.Err != nil {
			return nil, cur.Err
		}
		row := make([]string, len(desc))
		for i, d := range dests {
			row[i] = deref(d)
		}
		rows = append(rows, row)
	}
	return rows, cur.Err
}

func deref(d any) string {
	switch p := d.(type) {
	case **int64:
		if *p != nil {
			return fmt.Sprint(**p)
		}
	case **int32:
		if *p != nil {
			return fmt.Sprint(**p)
		}
	case **float64:
		if *p != nil {
			return fmt.Sprint(**p)
		}
	case **bool:
		if *p != nil {
			return fmt.Sprint(**p)
		}
	case **string:
		if *p != nil {
			return **p
		}
	}
	return "NULL"
}

// exec runs a statement without a result set.
func exec(t testing.TB, cur *gohive.Cursor, stmt string) {
	t.Helper()
	cur.Exec(context.Background(), stmt)
	if cur.Err != nil {
		t.Fatalf("%s: %v", stmt, cur.Err)
	}
}

// rawClient speaks TCLIService directly over binary NOSASL, for calls gohive does not expose.
func rawClient(t testing.TB, addr string) *hiveserver.TCLIServiceClient {
	return rawClientTLS(t, addr, nil)
}

func rawClientTLS(t testing.TB, addr string, tc *tls.Config) *hiveserver.TCLIServiceClient {
	t.Helper()
	conf := &thrift.TConfiguration{ConnectTimeout: 10 * time.Second, SocketTimeout: 60 * time.Second, TLSConfig: tc}
	var sock thrift.TTransport = thrift.NewTSocketConf(addr, conf)
	if tc != nil {
		sock = thrift.NewTSSLSocketConf(addr, conf)
	}
	trans := thrift.NewTBufferedTransport(sock, 4096)
	if err := trans.Open(); err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { trans.Close() })
	return hiveserver.NewTCLIServiceClientFactory(trans, thrift.NewTBinaryProtocolFactoryConf(nil))
}

func openRawSession(t testing.TB, c *hiveserver.TCLIServiceClient, conf map[string]string) *hiveserver.TSessionHandle {
	t.Helper()
	user := "raw"
	resp, err := c.OpenSession(context.Background(), &hiveserver.TOpenSessionReq{
		ClientProtocol: hiveserver.TProtocolVersion_HIVE_CLI_SERVICE_PROTOCOL_V10, Username: &user, Configuration: conf,
	})
	if err != nil {
		t.Fatalf("OpenSession: %v", err)
	}
	if err := statusErr(resp.Status); err != nil {
		t.Fatalf("OpenSession: %v", err)
	}
	return resp.SessionHandle
}

func statusErr(st *hiveserver.TStatus) error {
	if st == nil {
		return errors.New("nil status")
	}
	if st.StatusCode == hiveserver.TStatusCode_SUCCESS_STATUS || st.StatusCode == hiveserver.TStatusCode_SUCCESS_WITH_INFO_STATUS {
		return nil
	}
	return fmt.Errorf("%s (sqlState %q, code %d)", st.GetErrorMessage(), st.GetSqlState(), st.GetErrorCode())
}

// eachTransport runs body against a fresh sandbox for each transport, in parallel.
func eachTransport(t *testing.T, trs []transport, body func(t *testing.T, sb *sandbox)) {
	for _, tr := range trs {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			body(t, startSandbox(t, tr))
		})
	}
}

// cursor opens a gohive connection as alice and returns its cursor, closed when the test ends.
func (sb *sandbox) cursor(t testing.TB) *gohive.Cursor {
	t.Helper()
	cur := sb.connect(t).Cursor()
	t.Cleanup(cur.Close)
	return cur
}
