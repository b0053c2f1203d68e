package hivesandbox_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/beltran/gohive"
	"github.com/beltran/gohive/hiveserver"

	"github.com/hivemerge/hivemerge/shared/hivesandbox"
)

const (
	hour00 = "PARTITION (dt='2024-01-01', hr='00')"
	// mergeHour00 rewrites partition hr=00 onto itself, the insert_overwrite strategy.
	mergeHour00 = "INSERT OVERWRITE TABLE orders " + hour00 +
		" SELECT id, amount, note FROM orders WHERE dt='2024-01-01' AND hr='00'"
)

// seedOrders creates sales.orders with three small files in hr=00 and one in hr=01, and
// leaves the cursor in database sales.
func seedOrders(t testing.TB, cur *gohive.Cursor) {
	t.Helper()
	for _, stmt := range []string{
		"CREATE DATABASE sales",
		"USE sales",
		"CREATE TABLE orders (id BIGINT, amount DOUBLE, note STRING) PARTITIONED BY (dt STRING, hr STRING) STORED AS TEXTFILE",
		"INSERT INTO orders " + hour00 + " VALUES (1, 2.5, 'a'), (2, 3.5, NULL)",
		"INSERT INTO orders " + hour00 + " VALUES (3, 4.5, 'c')",
		"INSERT INTO orders " + hour00 + " VALUES (5, 0.5, 'e')",
		"INSERT INTO orders PARTITION (dt='2024-01-01', hr='01') VALUES (4, 1.0, 'd')",
	} {
		exec(t, cur, stmt)
	}
}

// formatted returns the data_type column of the DESCRIBE FORMATTED row named label.
func formatted(rows [][]string, label string) string {
	for _, r := range rows {
		if strings.TrimSpace(r[0]) == label {
			return strings.TrimSpace(r[1])
		}
	}
	return ""
}

// partitionFiles lists the data files of one partition, straight from the warehouse
// directory.
func partitionFiles(t testing.TB, cur *gohive.Cursor, spec string) []string {
	t.Helper()
	loc := formatted(query(t, cur, "DESCRIBE FORMATTED orders "+spec), "Location:")
	dir, ok := strings.CutPrefix(loc, "file:")
	if !ok {
		t.Fatalf("partition location %q is not a file: URI", loc)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(e.Name(), "_") {
			names = append(names, e.Name())
		}
	}
	return names
}

// fingerprint is what a merge must preserve: row count and order-independent checksum.
func fingerprint(t testing.TB, cur *gohive.Cursor, where string) []string {
	t.Helper()
	rows := query(t, cur, "SELECT COUNT(*), SUM(HASH(*)) FROM orders WHERE "+where)
	if len(rows) != 1 {
		t.Fatalf("fingerprint rows = %q", rows)
	}
	return rows[0]
}

func TestMetadataStatements(t *testing.T) {
	eachTransport(t, transports, func(t *testing.T, sb *sandbox) {
		cur := sb.cursor(t)
		seedOrders(t, cur)

		desc := query(t, cur, "DESCRIBE FORMATTED orders")
		for label, want := range map[string]string{
			"Table Type:":             "MANAGED_TABLE",
			"InputFormat:":            "org.apache.hadoop.mapred.TextInputFormat",
			"Num Buckets:":            "-1",
			"# Partition Information": "NULL", // section rows carry NULLs, as beeline shows
		} {
			if !slices.ContainsFunc(desc, func(r []string) bool { return strings.TrimSpace(r[0]) == label }) {
				t.Errorf("DESCRIBE FORMATTED has no %q row", label)
			} else if got := formatted(desc, label); got != want {
				t.Errorf("DESCRIBE FORMATTED %s = %q, want %q", label, got, want)
			}
		}
		// NULL cells (the comment column of section rows) arrive as NULL, not "".
		if !slices.ContainsFunc(desc, func(r []string) bool { return r[2] == "NULL" }) {
			t.Error("DESCRIBE FORMATTED has no NULL comment cell")
		}

		parts := query(t, cur, "SHOW PARTITIONS orders")
		if want := [][]string{{"dt=2024-01-01/hr=00"}, {"dt=2024-01-01/hr=01"}}; !slices.EqualFunc(parts, want, slices.Equal) {
			t.Errorf("SHOW PARTITIONS = %q, want %q", parts, want)
		}

		// Typed columns: BIGINT, DOUBLE and a NULL string.
		rows := query(t, cur, "SELECT id, amount, note FROM orders WHERE hr='00' AND id=2")
		if want := [][]string{{"2", "3.5", "NULL"}}; !slices.EqualFunc(rows, want, slices.Equal) {
			t.Errorf("SELECT = %q, want %q", rows, want)
		}
		if got := fingerprint(t, cur, "dt='2024-01-01'"); got[0] != "5" {
			t.Errorf("COUNT(*) = %s, want 5", got[0])
		}
	})
}

// An asynchronous INSERT OVERWRITE as gohive drives it: Execute(async), Poll(progress),
// FetchLogs, then the finished state with full progress and Hive's job log.
func TestAsyncInsertOverwrite(t *testing.T) {
	eachTransport(t, []transport{nosasl, httpPlain}, func(t *testing.T, sb *sandbox) {
		cur := sb.cursor(t)
		seedOrders(t, cur)
		before := fingerprint(t, cur, "hr='00'")
		if n := len(partitionFiles(t, cur, hour00)); n != 3 {
			t.Fatalf("seeded %d files, want 3", n)
		}

		// The statement cannot finish before the test takes the value from fired, so
		// it is certainly running when polled.
		fired := make(chan struct{})
		sb.Inject(hivesandbox.Fault{Match: `^INSERT OVERWRITE`, Action: hivesandbox.FaultSlow, Delay: 1, AtCommit: true, Fired: fired})
		ctx := context.Background()
		cur.Execute(ctx, mergeHour00, true)
		if cur.Err != nil {
			t.Fatalf("Execute: %v", hiveMessage(cur.Err))
		}
		st := cur.Poll(true)
		if cur.Err != nil {
			t.Fatal(cur.Err)
		}
		if s := st.GetOperationState(); s != hiveserver.TOperationState_RUNNING_STATE {
			t.Errorf("state while running = %v, want RUNNING", s)
		}
		if p := st.GetProgressUpdateResponse(); p == nil || p.Status != hiveserver.TJobExecutionStatus_IN_PROGRESS || len(p.HeaderNames) == 0 {
			t.Errorf("progress while running = %+v", p)
		}
		logs := cur.FetchLogs()
		<-fired

		cur.WaitForCompletion(ctx)
		if cur.Err != nil {
			t.Fatalf("WaitForCompletion: %v", cur.Err)
		}
		st = cur.Poll(true)
		if cur.Err != nil {
			t.Fatal(cur.Err)
		}
		if s := st.GetOperationState(); s != hiveserver.TOperationState_FINISHED_STATE {
			t.Errorf("final state = %v, want FINISHED", s)
		}
		if p := st.GetProgressUpdateResponse(); p == nil || p.ProgressedPercentage != 1 || p.Status != hiveserver.TJobExecutionStatus_COMPLETE {
			t.Errorf("final progress = %+v, want 100%% COMPLETE", p)
		}
		logs = append(logs, cur.FetchLogs()...)
		if !slices.ContainsFunc(logs, func(l string) bool { return strings.Contains(l, "Loading data to table sales.orders partition") }) {
			t.Errorf("logs have no Loading data line:\n%s", strings.Join(logs, "\n"))
		}
		if more := cur.FetchLogs(); len(more) != 0 {
			t.Errorf("logs fetched twice: %q", more)
		}
		cur.Close()

		if after := fingerprint(t, cur, "hr='00'"); !slices.Equal(after, before) {
			t.Errorf("fingerprint after merge = %q, want %q", after, before)
		}
		if n := len(partitionFiles(t, cur, hour00)); n >= 3 {
			t.Errorf("merge left %d files, want fewer than 3", n)
		}
	})
}

// Cancelling an INSERT OVERWRITE at its commit point stops it and discards its output: the
// partition keeps exactly its files and rows.
func TestCancelInsertOverwrite(t *testing.T) {
	sb := startSandbox(t, sasl)
	cur := sb.cursor(t)
	seedOrders(t, cur)
	beforeRows := fingerprint(t, cur, "dt='2024-01-01'")
	beforeFiles := partitionFiles(t, cur, hour00)

	fired := make(chan struct{})
	sb.Inject(hivesandbox.Fault{Match: `^INSERT OVERWRITE`, Action: hivesandbox.FaultHang, AtCommit: true, Fired: fired})
	cur.Execute(context.Background(), mergeHour00, true)
	if cur.Err != nil {
		t.Fatalf("Execute: %v", hiveMessage(cur.Err))
	}
	<-fired
	st := cur.Poll(true)
	if cur.Err != nil {
		t.Fatal(cur.Err)
	}
	if s := st.GetOperationState(); s != hiveserver.TOperationState_RUNNING_STATE {
		t.Fatalf("state at the commit point = %v, want RUNNING", s)
	}
	// The job ran before the commit point, so progress shows it.
	if p := st.GetProgressUpdateResponse(); p == nil || p.ProgressedPercentage <= 0 || p.ProgressedPercentage > 1 {
		t.Errorf("progress at the commit point = %+v, want a fraction above 0", p)
	}
	cur.Cancel()
	if cur.Err != nil {
		t.Fatalf("Cancel: %v", cur.Err)
	}
	if s := cur.Poll(false).GetOperationState(); s != hiveserver.TOperationState_CANCELED_STATE {
		t.Errorf("state after cancel = %v, want CANCELED", s)
	}
	cur.Close()

	if after := fingerprint(t, cur, "dt='2024-01-01'"); !slices.Equal(after, beforeRows) {
		t.Errorf("rows after cancel = %q, want %q", after, beforeRows)
	}
	if after := partitionFiles(t, cur, hour00); !slices.Equal(after, beforeFiles) {
		t.Errorf("files after cancel = %q, want %q", after, beforeFiles)
	}
}

// A fail fault at the commit point aborts a writing statement with nothing published.
func TestFailAtCommit(t *testing.T) {
	sb := startSandbox(t, nosasl)
	cur := sb.cursor(t)
	seedOrders(t, cur)
	beforeFiles := partitionFiles(t, cur, hour00)

	sb.Inject(hivesandbox.Fault{Match: `^INSERT OVERWRITE`, Action: hivesandbox.FaultFail, AtCommit: true, Message: "FAILED: MoveTask lost its nerve"})
	cur.Exec(context.Background(), mergeHour00)
	if cur.Err == nil || !strings.Contains(hiveMessage(cur.Err), "MoveTask lost its nerve") {
		t.Fatalf("error = %v, want the injected failure", cur.Err)
	}
	if after := partitionFiles(t, cur, hour00); !slices.Equal(after, beforeFiles) {
		t.Errorf("files after a failed commit = %q, want %q", after, beforeFiles)
	}
}

// The concurrent writer's file really lands in the partition while the statement runs.
func TestConcurrentWriteFault(t *testing.T) {
	write := &hivesandbox.ConcurrentWrite{
		DB: "sales", Table: "orders", Partition: map[string]string{"dt": "2024-01-01", "hr": "01"},
		Rows: [][]string{{"9", "9.5", "late"}, {"10", "1.5", "later"}},
	}
	tests := []struct {
		name string
		stmt string
	}{
		{name: "at the commit of a write", stmt: mergeHour00},
		{name: "after a query", stmt: "SELECT COUNT(*) FROM orders WHERE hr='01'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t, nosasl)
			cur := sb.cursor(t)
			seedOrders(t, cur)
			const hour01 = "PARTITION (dt='2024-01-01', hr='01')"
			before := partitionFiles(t, cur, hour01)

			fired := make(chan struct{}, 1)
			sb.Inject(hivesandbox.Fault{Match: "^" + regexp.QuoteMeta(tt.stmt), Action: hivesandbox.FaultConcurrentWrite, Times: 1, Write: write, Fired: fired})
			rows := query(t, cur, tt.stmt)
			<-fired
			if strings.HasPrefix(tt.stmt, "SELECT") && (len(rows) != 1 || rows[0][0] != "1") {
				t.Errorf("the query saw the concurrent write: %q, want 1 row counted", rows)
			}
			after := partitionFiles(t, cur, hour01)
			if len(after) != len(before)+1 {
				t.Errorf("files in hr=01: before %q, after %q; want one more", before, after)
			}
			if got := query(t, cur, "SELECT COUNT(*) FROM orders WHERE hr='01'"); got[0][0] != "3" {
				t.Errorf("rows in hr=01 after the write = %s, want 3", got[0][0])
			}
			// Times: 1 spent the fault.
			query(t, cur, tt.stmt)
			if n := len(partitionFiles(t, cur, hour01)); n != len(after) {
				t.Errorf("a spent fault wrote again: %d files", n)
			}
		})
	}
}

// The merge engine's staging flow, as it runs through gohive: merged files are written through
// a temporary EXTERNAL table in a hidden sibling of the partition's directory, the partition
// moves there and the temporary table is dropped, leaving the files. The sandbox's rules on
// names and overlapping locations let exactly this through and refuse their misuse.
func TestStagingFlowOverGohive(t *testing.T) {
	sb := startSandbox(t, nosasl)
	cur := sb.cursor(t)
	seedOrders(t, cur)
	table := filepath.Join(sb.Warehouse().Dir(), "warehouse", "sales.db", "orders")
	staging := filepath.Join(table, "dt=2024-01-01", ".hr=00.merged-1")
	for _, stmt := range []string{
		"CREATE EXTERNAL TABLE hivemerge_tmp_1 (id BIGINT, amount DOUBLE, note STRING) STORED AS TEXTFILE LOCATION 'file:" + staging + "'",
		"INSERT OVERWRITE TABLE hivemerge_tmp_1 SELECT id, amount, note FROM orders WHERE dt='2024-01-01' AND hr='00'",
		"ALTER TABLE orders " + hour00 + " SET LOCATION 'file:" + staging + "'",
		"DROP TABLE hivemerge_tmp_1",
	} {
		exec(t, cur, stmt)
	}
	if got := query(t, cur, "SELECT COUNT(*) FROM orders WHERE dt='2024-01-01' AND hr='00'"); got[0][0] != "4" {
		t.Errorf("count = %v, want 4", got)
	}
	if files := partitionFiles(t, cur, hour00); len(files) != 1 {
		t.Errorf("partition files %v, want the merged one", files)
	}

	for _, tt := range []struct{ stmt, want string }{
		{"CREATE EXTERNAL TABLE x (a STRING) LOCATION 'file:" + table + "'", "it is the location of table sales.orders"},
		{"CREATE TABLE x (a STRING) LOCATION 'file:" + table + "/.hidden'", "it lies inside the location of table sales.orders"},
		{"CREATE TABLE `../default` (a STRING)", "[Error 10255]: Invalid table name ../default"},
	} {
		cur.Exec(context.Background(), tt.stmt)
		if cur.Err == nil || !strings.Contains(hiveMessage(cur.Err), tt.want) {
			t.Errorf("%s: error = %v, want %q", tt.stmt, cur.Err, tt.want)
		}
	}
	if got := query(t, cur, "SELECT COUNT(*) FROM orders"); got[0][0] != "5" {
		t.Errorf("after the refusals count = %v, want 5", got)
	}
}
