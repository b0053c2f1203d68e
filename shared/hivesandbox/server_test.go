package hivesandbox_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beltran/gohive"
	"github.com/beltran/gohive/hiveserver"

	"github.com/hivemerge/hivemerge/shared/hivesandbox"
)

func TestTransports(t *testing.T) {
	eachTransport(t, transports, func(t *testing.T, sb *sandbox) {
		cur := sb.cursor(t)

		exec(t, cur, "CREATE DATABASE sales")
		exec(t, cur, "USE sales")
		got := query(t, cur, "SHOW DATABASES")
		if want := [][]string{{"default"}, {"sales"}}; !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("SHOW DATABASES = %q, want %q", got, want)
		}
		// SET without a value prints the session's value: the session remembered it.
		exec(t, cur, "SET hive.merge.mapredfiles=true")
		if got := query(t, cur, "SET hive.merge.mapredfiles"); len(got) != 1 || got[0][0] != "hive.merge.mapredfiles=true" {
			t.Errorf("SET hive.merge.mapredfiles = %q", got)
		}
	})
}

func TestAuthentication(t *testing.T) {
	tests := []struct {
		name     string
		tr       transport
		user     string
		password string
		wantErr  string
	}{
		{name: "SASL right password", tr: transport{name: "sasl", users: true}, user: "bob", password: "hunter2"},
		{name: "SASL wrong password", tr: transport{name: "sasl", users: true}, user: "bob", password: "nope", wantErr: "Error validating the login"},
		{name: "SASL unknown user", tr: transport{name: "sasl", users: true}, user: "mallory", password: "hunter2", wantErr: "Error validating the login"},
		{name: "SASL over TLS wrong password", tr: transport{name: "sasl tls", users: true, tls: true}, user: "alice", password: "x", wantErr: "Error validating the login"},
		{name: "HTTP right password", tr: transport{name: "http", users: true, http: true}, user: "alice", password: "s3cret"},
		{name: "HTTP wrong password", tr: transport{name: "http", users: true, http: true}, user: "alice", password: "wrong", wantErr: "401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t, tt.tr)
			conn, err := sb.dial(tt.user, tt.password)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				defer conn.Close()
				cur := conn.Cursor()
				defer cur.Close()
				query(t, cur, "SHOW DATABASES")
				return
			}
			if err == nil {
				conn.Close()
				t.Fatalf("connect succeeded, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("connect error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// A NOSASL client talking to a SASL server (a common misconfiguration) gets an error, not a
// hang.
func TestNOSASLClientOnSASLServer(t *testing.T) {
	sb := startSandbox(t, transport{users: true})
	sb.tr.users = false
	if conn, err := sb.dial("alice", "s3cret"); err == nil {
		conn.Close()
		t.Fatal("connect succeeded")
	}
}

// A SASL client talking to a NOSASL server is refused, not left hanging.
func TestSASLClientOnNOSASLServer(t *testing.T) {
	sb := startSandbox(t, nosasl)
	sb.tr.users = true
	if conn, err := sb.dial("alice", "s3cret"); err == nil {
		conn.Close()
		t.Fatal("connect succeeded")
	}
}

// A synchronous ExecuteStatement longer than Thrift's connectivity check interval (5 ms)
// keeps its connection, over plain TCP and over TLS.
func TestSlowSynchronousStatement(t *testing.T) {
	eachTransport(t, []transport{nosasl, nosaslTLS}, func(t *testing.T, sb *sandbox) {
		sb.Inject(hivesandbox.Fault{Match: `^CREATE DATABASE`, Action: hivesandbox.FaultSlow, Delay: 100 * time.Millisecond})
		c := rawClientTLS(t, sb.Addr(), sb.clientTLS)
		sess := openRawSession(t, c, nil)
		rawExec(t, c, sess, "CREATE DATABASE slow", false)
		if got := rawQuery(t, c, sess, "SHOW DATABASES"); !slices.Contains(got, "slow") {
			t.Errorf("databases = %q", got)
		}
	})
}

func TestErrorsAreHiveErrors(t *testing.T) {
	tests := []struct {
		name     string
		stmt     string
		wantMsg  string
		wantCode int
	}{
		{name: "parse error", stmt: "FROBNICATE everything", wantMsg: "FAILED: ParseException line 1:0", wantCode: 40000},
		{name: "unknown database", stmt: "USE nowhere", wantMsg: "SemanticException [Error 10072]: Database does not exist: nowhere", wantCode: 10072},
		{name: "unknown table", stmt: "DESCRIBE FORMATTED nope", wantMsg: "Table not found", wantCode: 10001},
	}
	eachTransport(t, transports, func(t *testing.T, sb *sandbox) {
		cur := sb.cursor(t)
		for _, tt := range tests {
			cur.Exec(context.Background(), tt.stmt)
			var he gohive.HiveError
			if !errors.As(cur.Err, &he) {
				t.Errorf("%s: error = %#v, want a gohive.HiveError", tt.name, cur.Err)
				continue
			}
			if !strings.Contains(he.Message, tt.wantMsg) || he.ErrorCode != tt.wantCode {
				t.Errorf("%s: HiveError = %q code %d, want %q code %d", tt.name, he.Message, he.ErrorCode, tt.wantMsg, tt.wantCode)
			}
		}
		// The session survives its errors.
		query(t, cur, "SHOW DATABASES")
	})
}

func TestRawProtocol(t *testing.T) {
	sb := startSandbox(t, nosasl)
	c := rawClient(t, sb.Addr())
	ctx := context.Background()
	sess := openRawSession(t, c, map[string]string{"set:hiveconf:hive.merge.tezfiles": "true", "set:hivevar:who": "raw"})

	t.Run("GetInfo names a sandbox", func(t *testing.T) {
		for _, typ := range []hiveserver.TGetInfoType{hiveserver.TGetInfoType_CLI_SERVER_NAME, hiveserver.TGetInfoType_CLI_DBMS_NAME, hiveserver.TGetInfoType_CLI_DBMS_VER} {
			resp, err := c.GetInfo(ctx, &hiveserver.TGetInfoReq{SessionHandle: sess, InfoType: typ})
			if err != nil || statusErr(resp.Status) != nil {
				t.Fatalf("GetInfo(%s): %v %v", typ, err, statusErr(resp.Status))
			}
			if v := resp.InfoValue.GetStringValue(); !strings.Contains(v, "sandbox") {
				t.Errorf("GetInfo(%s) = %q, want it to say sandbox", typ, v)
			}
		}
	})

	t.Run("session configuration applies", func(t *testing.T) {
		rows := rawQuery(t, c, sess, "SET hive.merge.tezfiles")
		if len(rows) != 1 || rows[0] != "hive.merge.tezfiles=true" {
			t.Errorf("SET hive.merge.tezfiles = %q", rows)
		}
		rows = rawQuery(t, c, sess, "SET hivevar:who")
		if len(rows) != 1 || rows[0] != "hivevar:who=raw" {
			t.Errorf("SET hivevar:who = %q", rows)
		}
	})

	t.Run("use:database opens the session in that database", func(t *testing.T) {
		rawQuery(t, c, sess, "CREATE DATABASE IF NOT EXISTS lake")
		other := openRawSession(t, c, map[string]string{"use:database": "lake"})
		schemas := rawFetchAll(t, c, mustHandle(t)(c.GetSchemas(ctx, &hiveserver.TGetSchemasReq{SessionHandle: other})))
		if !slices.Contains(schemas, "lake") {
			t.Errorf("GetSchemas = %q, want lake", schemas)
		}
		user := "raw"
		resp, err := c.OpenSession(ctx, &hiveserver.TOpenSessionReq{
			ClientProtocol: hiveserver.TProtocolVersion_HIVE_CLI_SERVICE_PROTOCOL_V10, Username: &user,
			Configuration: map[string]string{"use:database": "missing"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if statusErr(resp.Status) == nil {
			t.Error("OpenSession with use:database=missing succeeded")
		}
	})

	t.Run("paging by maxRows", func(t *testing.T) {
		for _, db := range []string{"p1", "p2", "p3", "p4"} {
			rawQuery(t, c, sess, "CREATE DATABASE "+db)
		}
		op := rawExec(t, c, sess, "SHOW DATABASES", false)
		var batches [][]string
		for {
			resp, err := c.FetchResults(ctx, &hiveserver.TFetchResultsReq{OperationHandle: op, Orientation: hiveserver.TFetchOrientation_FETCH_NEXT, MaxRows: 2})
			if err != nil || statusErr(resp.Status) != nil {
				t.Fatalf("FetchResults: %v %v", err, statusErr(resp.Status))
			}
			if resp.Results.Rows == nil || len(resp.Results.Rows) != 0 {
				t.Errorf("Rows = %v, want an empty list", resp.Results.Rows)
			}
			vals := resp.Results.Columns[0].StringVal.Values
			if len(vals) == 0 {
				break
			}
			batches = append(batches, vals)
		}
		want := [][]string{{"default", "lake"}, {"p1", "p2"}, {"p3", "p4"}}
		if !slices.EqualFunc(batches, want, slices.Equal) {
			t.Errorf("batches = %q, want %q", batches, want)
		}
	})

	t.Run("invalid handles", func(t *testing.T) {
		bogus := &hiveserver.TSessionHandle{SessionId: &hiveserver.THandleIdentifier{GUID: make([]byte, 16), Secret: make([]byte, 16)}}
		resp, err := c.ExecuteStatement(ctx, &hiveserver.TExecuteStatementReq{SessionHandle: bogus, Statement: "SHOW DATABASES"})
		if err != nil {
			t.Fatal(err)
		}
		if err := statusErr(resp.Status); err == nil || !strings.Contains(err.Error(), "Invalid SessionHandle") {
			t.Errorf("ExecuteStatement on a bogus session: %v, want Invalid SessionHandle", err)
		}
		op := &hiveserver.TOperationHandle{OperationId: bogus.SessionId}
		st, err := c.GetOperationStatus(ctx, &hiveserver.TGetOperationStatusReq{OperationHandle: op})
		if err != nil {
			t.Fatal(err)
		}
		if st.OperationState == nil {
			t.Error("GetOperationStatus on a bogus operation has no OperationState")
		}
		if err := statusErr(st.Status); err == nil || !strings.Contains(err.Error(), "Invalid OperationHandle") {
			t.Errorf("GetOperationStatus on a bogus operation: %v, want Invalid OperationHandle", err)
		}
	})

	t.Run("GetTables and GetCatalogs", func(t *testing.T) {
		cats := rawFetchAll(t, c, mustHandle(t)(c.GetCatalogs(ctx, &hiveserver.TGetCatalogsReq{SessionHandle: sess})))
		if len(cats) != 0 {
			t.Errorf("GetCatalogs = %q, want none", cats)
		}
		types := rawFetchAll(t, c, mustHandle(t)(c.GetTableTypes(ctx, &hiveserver.TGetTableTypesReq{SessionHandle: sess})))
		if !slices.Equal(types, []string{"TABLE", "VIEW"}) {
			t.Errorf("GetTableTypes = %q", types)
		}
		pattern := hiveserver.TPatternOrIdentifier("p%")
		schemas := rawFetchAll(t, c, mustHandle(t)(c.GetSchemas(ctx, &hiveserver.TGetSchemasReq{SessionHandle: sess, SchemaName: &pattern})))
		if !slices.Equal(schemas, []string{"p1", "p2", "p3", "p4"}) {
			t.Errorf("GetSchemas(p%%) = %q", schemas)
		}
		resp, err := c.GetColumns(ctx, &hiveserver.TGetColumnsReq{SessionHandle: sess})
		if err != nil {
			t.Fatal(err)
		}
		if err := statusErr(resp.Status); err == nil || !strings.Contains(err.Error(), "not supported") {
			t.Errorf("GetColumns: %v, want a clear not-supported error", err)
		}
	})

	t.Run("queryTimeout ends a statement TIMEDOUT", func(t *testing.T) {
		remove := sb.Inject(hivesandbox.Fault{Match: `^CREATE DATABASE sleepy`, Action: hivesandbox.FaultHang})
		defer remove()
		// QueryTimeout is in seconds; this waits about one second for the server to act.
		resp, err := c.ExecuteStatement(ctx, &hiveserver.TExecuteStatementReq{SessionHandle: sess, Statement: "CREATE DATABASE sleepy", QueryTimeout: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := statusErr(resp.Status); err == nil || !strings.Contains(err.Error(), "timed out after 1 seconds") {
			t.Errorf("statement with queryTimeout: %v, want a timeout", err)
		}
	})

	t.Run("a session runs one statement at a time", func(t *testing.T) {
		fired := make(chan struct{}, 1)
		remove := sb.Inject(hivesandbox.Fault{Match: `^CREATE DATABASE blocker`, Action: hivesandbox.FaultHang, Fired: fired})
		defer remove()
		blocker := rawExec(t, c, sess, "CREATE DATABASE blocker", true)
		<-fired
		// The follower cannot compile while the blocker holds the session, so its
		// ExecuteStatement answers only once the blocker has ended: send it from a second
		// connection (a connection carries one call at a time).
		type answer struct {
			resp *hiveserver.TExecuteStatementResp
			err  error
		}
		answered := make(chan answer, 1)
		c2 := rawClient(t, sb.Addr())
		go func() {
			resp, err := c2.ExecuteStatement(ctx, &hiveserver.TExecuteStatementReq{SessionHandle: sess, Statement: "CREATE DATABASE follower", RunAsync: true})
			answered <- answer{resp, err}
		}()
		if dbs := rawQuery(t, c, openRawSession(t, c, nil), "SHOW DATABASES"); slices.Contains(dbs, "follower") {
			t.Errorf("databases = %q: the follower ran beside the blocker", dbs)
		}
		if _, err := c.CancelOperation(ctx, &hiveserver.TCancelOperationReq{OperationHandle: blocker}); err != nil {
			t.Fatal(err)
		}
		state := func(op *hiveserver.TOperationHandle) hiveserver.TOperationState {
			t.Helper()
			st, err := c.GetOperationStatus(ctx, &hiveserver.TGetOperationStatusReq{OperationHandle: op})
			if err != nil {
				t.Fatal(err)
			}
			return st.GetOperationState()
		}
		if s := state(blocker); s != hiveserver.TOperationState_CANCELED_STATE {
			t.Errorf("cancelled statement = %v, want CANCELED", s)
		}
		a := <-answered
		if a.err != nil {
			t.Fatal(a.err)
		}
		if err := statusErr(a.resp.Status); err != nil {
			t.Fatalf("follower: %v", err)
		}
		// The follower now runs to its end; poll it as a client would.
		next := a.resp.OperationHandle
		s := state(next)
		for s == hiveserver.TOperationState_PENDING_STATE || s == hiveserver.TOperationState_RUNNING_STATE {
			s = state(next)
		}
		if s != hiveserver.TOperationState_FINISHED_STATE {
			t.Errorf("second statement after the cancel = %v, want FINISHED", s)
		}
	})

	t.Run("CloseSession", func(t *testing.T) {
		s2 := openRawSession(t, c, nil)
		resp, err := c.CloseSession(ctx, &hiveserver.TCloseSessionReq{SessionHandle: s2})
		if err != nil || statusErr(resp.Status) != nil {
			t.Fatalf("CloseSession: %v %v", err, statusErr(resp.Status))
		}
		ex, err := c.ExecuteStatement(ctx, &hiveserver.TExecuteStatementReq{SessionHandle: s2, Statement: "SHOW DATABASES"})
		if err != nil {
			t.Fatal(err)
		}
		if statusErr(ex.Status) == nil {
			t.Error("ExecuteStatement on a closed session succeeded")
		}
	})
}

func mustHandle(t testing.TB) func(resp interface {
	GetStatus() *hiveserver.TStatus
	GetOperationHandle() *hiveserver.TOperationHandle
}, err error) *hiveserver.TOperationHandle {
	return func(resp interface {
		GetStatus() *hiveserver.TStatus
		GetOperationHandle() *hiveserver.TOperationHandle
	}, err error) *hiveserver.TOperationHandle {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if err := statusErr(resp.GetStatus()); err != nil {
			t.Fatal(err)
		}
		return resp.GetOperationHandle()
	}
}

// rawExec runs a statement and waits for it to finish.
func rawExec(t testing.TB, c *hiveserver.TCLIServiceClient, sess *hiveserver.TSessionHandle, stmt string, async bool) *hiveserver.TOperationHandle {
	t.Helper()
	ctx := context.Background()
	resp, err := c.ExecuteStatement(ctx, &hiveserver.TExecuteStatementReq{SessionHandle: sess, Statement: stmt, RunAsync: async})
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	if err := statusErr(resp.Status); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	return resp.OperationHandle
}

// rawQuery runs a statement synchronously and returns the first column of its rows.
func rawQuery(t testing.TB, c *hiveserver.TCLIServiceClient, sess *hiveserver.TSessionHandle, stmt string) []string {
	t.Helper()
	op := rawExec(t, c, sess, stmt, false)
	if !op.HasResultSet {
		return nil
	}
	return rawFetchAll(t, c, op)
}

func rawFetchAll(t testing.TB, c *hiveserver.TCLIServiceClient, op *hiveserver.TOperationHandle) []string {
	t.Helper()
	var out []string
	for {
		resp, err := c.FetchResults(context.Background(), &hiveserver.TFetchResultsReq{OperationHandle: op, Orientation: hiveserver.TFetchOrientation_FETCH_NEXT, MaxRows: 1000})
		if err != nil {
			t.Fatalf("FetchResults: %v", err)
		}
		if err := statusErr(resp.Status); err != nil {
			t.Fatalf("FetchResults: %v", err)
		}
		if len(resp.Results.Columns) == 0 {
			return out
		}
		col := resp.Results.Columns[0]
		if col.StringVal == nil || len(col.StringVal.Values) == 0 {
			return out
		}
		out = append(out, col.StringVal.Values...)
	}
}

func TestLocationConfinement(t *testing.T) {
	extra, outside := t.TempDir(), t.TempDir()
	sb := startSandbox(t, nosasl, func(cfg *hivesandbox.Config) { cfg.ExtraRoots = []string{extra} })
	cur := sb.cursor(t)
	tests := []struct {
		name     string
		location string
		wantErr  bool
	}{
		{name: "inside the warehouse", location: filepath.Join(sb.Warehouse().Dir(), "ext", "in")},
		{name: "inside an extra root", location: filepath.Join(extra, "t")},
		{name: "outside every root", location: filepath.Join(outside, "t"), wantErr: true},
		{name: "an extra root itself", location: extra, wantErr: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur.Exec(context.Background(), fmt.Sprintf("CREATE EXTERNAL TABLE t%d (a string) LOCATION '%s'", i, tt.location))
			if !tt.wantErr {
				if cur.Err != nil {
					t.Fatalf("CREATE EXTERNAL TABLE at %s: %v", tt.location, cur.Err)
				}
				return
			}
			var he gohive.HiveError
			if !errors.As(cur.Err, &he) || !strings.Contains(he.Message, "SemanticException the sandbox refuses location "+tt.location) {
				t.Errorf("CREATE EXTERNAL TABLE at %s: error = %v, want the sandbox's refusal", tt.location, cur.Err)
			}
		})
	}
}

func TestStartRefusesMissingExtraRoot(t *testing.T) {
	_, err := hivesandbox.Start(context.Background(), hivesandbox.Config{
		Addr: "127.0.0.1:0", Warehouse: t.TempDir(), ExtraRoots: []string{filepath.Join(t.TempDir(), "missing")},
	})
	if err == nil {
		t.Fatal("Start with a missing extra root succeeded")
	}
}
