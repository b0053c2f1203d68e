package hivesandbox_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/beltran/gohive"
	"github.com/beltran/gohive/hiveserver"

	"github.com/hivemerge/hivemerge/shared/hivesandbox"
)

// execute sends one ExecuteStatement and returns its answer, failing only on transport errors.
func execute(t testing.TB, c *hiveserver.TCLIServiceClient, req *hiveserver.TExecuteStatementReq) *hiveserver.TExecuteStatementResp {
	t.Helper()
	resp, err := c.ExecuteStatement(context.Background(), req)
	if err != nil {
		t.Fatalf("%s: %v", req.Statement, err)
	}
	return resp
}

// waitOp polls an operation until it ends, as a client does, and returns its final status.
func waitOp(t testing.TB, c *hiveserver.TCLIServiceClient, op *hiveserver.TOperationHandle) *hiveserver.TGetOperationStatusResp {
	t.Helper()
	for {
		st, err := c.GetOperationStatus(context.Background(), &hiveserver.TGetOperationStatusReq{OperationHandle: op})
		if err != nil {
			t.Fatal(err)
		}
		if err := statusErr(st.Status); err != nil {
			t.Fatal(err)
		}
		switch st.GetOperationState() {
		case hiveserver.TOperationState_INITIALIZED_STATE, hiveserver.TOperationState_PENDING_STATE, hiveserver.TOperationState_RUNNING_STATE:
			continue
		}
		return st
	}
}

// TestCompileErrorsAnswerExecuteStatement checks where an asynchronous statement's failure
// shows, through gohive (which always executes asynchronously): a compile error in
// ExecuteStatement's answer, an execution error only once the client polls.
func TestCompileErrorsAnswerExecuteStatement(t *testing.T) {
	sb := startSandbox(t, nosasl)
	sb.Inject(hivesandbox.Fault{Match: `^CREATE DATABASE doomed`, Action: hivesandbox.FaultFail})
	cur := sb.cursor(t)
	exec(t, cur, "CREATE TABLE t (a int) STORED AS TEXTFILE")
	tests := []struct {
		name string
		stmt string
		// compileErr is a substring of ExecuteStatement's error; execErr of the error polling
		// reports after a successful ExecuteStatement.
		compileErr, execErr string
	}{
		{name: "parse error", stmt: "SELEKT 1", compileErr: "ParseException line 1:0"},
		{name: "missing table", stmt: "SELECT count(*) FROM nope", compileErr: "[Error 10001]: Line 1:21 Table not found 'nope'"},
		{name: "refused concatenate", stmt: "ALTER TABLE t CONCATENATE", compileErr: "[Error 30030]"},
		{name: "metastore refusal", stmt: "CREATE DATABASE default", execErr: "Database default already exists"},
		{name: "compaction of a non-ACID table", stmt: "ALTER TABLE t COMPACT 'major'", execErr: "Compaction is not allowed on non-ACID table"},
		{name: "failed job", stmt: "CREATE DATABASE doomed", execErr: "return code 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur.Execute(context.Background(), tt.stmt, true)
			if tt.compileErr != "" {
				var he gohive.HiveError
				if !errors.As(cur.Err, &he) || !strings.Contains(he.Message, tt.compileErr) {
					t.Fatalf("ExecuteStatement: %v, want a HiveError containing %q", cur.Err, tt.compileErr)
				}
				if !strings.HasPrefix(he.Message, "Error while compiling statement: ") {
					t.Errorf("message %q, want Hive's compile prefix", he.Message)
				}
				return
			}
			if cur.Err != nil {
				t.Fatalf("ExecuteStatement: %v, want the error only through GetOperationStatus", cur.Err)
			}
			cur.WaitForCompletion(context.Background())
			if cur.Err == nil || !strings.Contains(cur.Err.Error(), tt.execErr) {
				t.Errorf("after polling: %v, want an error containing %q", cur.Err, tt.execErr)
			}
		})
	}
}

// TestHasResultSet checks that an asynchronous handle says whether rows will come from what
// the engine compiled, including statements whose text alone does not tell.
func TestHasResultSet(t *testing.T) {
	sb := startSandbox(t, nosasl)
	c := rawClient(t, sb.Addr())
	sess := openRawSession(t, c, map[string]string{"set:hivevar:query": "SELECT 1", "set:hivevar:assign": "x=1"})
	rawQuery(t, c, sess, "CREATE TABLE t (a int)")
	tests := []struct {
		name string
		stmt string
		want bool
	}{
		{name: "query", stmt: "SELECT count(*) FROM t", want: true},
		{name: "after a comment", stmt: "-- why\nSHOW TABLES", want: true},
		{name: "describe", stmt: "DESCRIBE t", want: true},
		{name: "set prints", stmt: "SET hive.merge.mapfiles", want: true},
		{name: "set assigns", stmt: "SET hive.merge.mapfiles=true"},
		{name: "a variable holding a query", stmt: "${hivevar:query}", want: true},
		{name: "set through a variable", stmt: "SET ${hivevar:assign}"},
		{name: "insert", stmt: "INSERT INTO t VALUES (1)"},
		{name: "ddl", stmt: "CREATE DATABASE IF NOT EXISTS lake"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := execute(t, c, &hiveserver.TExecuteStatementReq{SessionHandle: sess, Statement: tt.stmt, RunAsync: true})
			if err := statusErr(resp.Status); err != nil {
				t.Fatal(err)
			}
			if got := resp.OperationHandle.HasResultSet; got != tt.want {
				t.Errorf("HasResultSet = %v, want %v", got, tt.want)
			}
			if st := waitOp(t, c, resp.OperationHandle); st.GetOperationState() != hiveserver.TOperationState_FINISHED_STATE || st.GetHasResultSet() != tt.want {
				t.Errorf("final status %v with HasResultSet %v, want FINISHED with %v", st.GetOperationState(), st.GetHasResultSet(), tt.want)
			}
		})
	}
}

// TestGetQueryID checks that GetQueryId names the query the statement's log names.
func TestGetQueryID(t *testing.T) {
	sb := startSandbox(t, nosasl)
	c := rawClient(t, sb.Addr())
	sess := openRawSession(t, c, nil)
	rawQuery(t, c, sess, "CREATE TABLE t (a int)")
	rawQuery(t, c, sess, "INSERT INTO t VALUES (1), (2)")
	ctx := context.Background()
	for _, stmt := range []string{"SELECT count(*) FROM t", "INSERT OVERWRITE TABLE t SELECT a FROM t"} {
		t.Run(stmt, func(t *testing.T) {
			resp := execute(t, c, &hiveserver.TExecuteStatementReq{SessionHandle: sess, Statement: stmt, RunAsync: true})
			if err := statusErr(resp.Status); err != nil {
				t.Fatal(err)
			}
			op := resp.OperationHandle
			id, err := c.GetQueryId(ctx, &hiveserver.TGetQueryIdReq{OperationHandle: op})
			if err != nil {
				t.Fatal(err)
			}
			waitOp(t, c, op)
			logs, err := c.FetchResults(ctx, &hiveserver.TFetchResultsReq{OperationHandle: op, Orientation: hiveserver.TFetchOrientation_FETCH_FIRST, MaxRows: 1000, FetchType: 1})
			if err != nil || statusErr(logs.Status) != nil {
				t.Fatalf("fetching logs: %v %v", err, statusErr(logs.Status))
			}
			lines := logs.Results.Columns[0].StringVal.Values
			if want := "Query ID = " + id.QueryId; !slices.Contains(lines, want) {
				t.Errorf("GetQueryId = %q; log lines %q lack %q", id.QueryId, lines, want)
			}
		})
	}
}

// TestConfOverlay checks that ExecuteStatement's confOverlay holds for that statement only.
func TestConfOverlay(t *testing.T) {
	sb := startSandbox(t, nosasl)
	c := rawClient(t, sb.Addr())
	sess := openRawSession(t, c, map[string]string{"set:hiveconf:hive.merge.mapfiles": "true", "set:hivevar:who": "session"})
	rawQuery(t, c, sess, "CREATE TABLE src (a int, dt string)")
	rawQuery(t, c, sess, "INSERT INTO src VALUES (1, 'd1'), (2, 'd2')")
	rawQuery(t, c, sess, "CREATE TABLE dst (a int) PARTITIONED BY (dt string)")
	tests := []struct {
		name    string
		stmt    string
		overlay map[string]string
		want    []string // first column of the rows, for statements with rows
	}{
		{name: "a setting", stmt: "SET hive.merge.mapfiles", overlay: map[string]string{"hive.merge.mapfiles": "false"}, want: []string{"hive.merge.mapfiles=false"}},
		{name: "a variable", stmt: "SELECT '${hivevar:who}'", overlay: map[string]string{"hivevar:who": "statement"}, want: []string{"statement"}},
		{name: "execution honours it", stmt: "INSERT OVERWRITE TABLE dst PARTITION (dt) SELECT a, dt FROM src",
			overlay: map[string]string{"hive.exec.dynamic.partition.mode": "nonstrict"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := execute(t, c, &hiveserver.TExecuteStatementReq{SessionHandle: sess, Statement: tt.stmt, ConfOverlay: tt.overlay})
			if err := statusErr(resp.Status); err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				return
			}
			if got := rawFetchAll(t, c, resp.OperationHandle); !slices.Equal(got, tt.want) {
				t.Errorf("rows = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("nothing leaks into the session", func(t *testing.T) {
		for stmt, want := range map[string]string{
			"SET hive.merge.mapfiles":              "hive.merge.mapfiles=true",
			"SET hivevar:who":                      "hivevar:who=session",
			"SET hive.exec.dynamic.partition.mode": "hive.exec.dynamic.partition.mode=strict",
		} {
			if got := rawQuery(t, c, sess, stmt); !slices.Equal(got, []string{want}) {
				t.Errorf("%s = %q, want %q", stmt, got, want)
			}
		}
		resp := execute(t, c, &hiveserver.TExecuteStatementReq{SessionHandle: sess, Statement: "INSERT OVERWRITE TABLE dst PARTITION (dt) SELECT a, dt FROM src"})
		if err := statusErr(resp.Status); err == nil || !strings.Contains(err.Error(), "strict mode") {
			t.Errorf("dynamic insert without the overlay: %v, want the strict mode refusal", err)
		}
	})
	if got := rawQuery(t, c, sess, "SHOW PARTITIONS dst"); !slices.Equal(got, []string{"dt=d1", "dt=d2"}) {
		t.Errorf("partitions = %q, want the overlay's dynamic insert to have made two", got)
	}
}
