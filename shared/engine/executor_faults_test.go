package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// TestSafeMergeFaults injects a fault at every step boundary of safe_merge, and inside its
// INSERT, for each kind of fault: the worker killed (its context cancelled, its lease left to
// expire, the task resumed by another run), the Hive connection dropped, the statement
// failed, the statement hung past the task's timeout (once, or every time it is sent, the
// rollback's included), a writer adding a file while the statement runs, a cancel requested
// while the statement runs. The fault hits the second of two partitions, so one partition is merged when it
// strikes. Whatever happens, every row is there (count and checksum, per partition), no
// staging table or directory is left where Hive users see it, a reader querying throughout
// never sees an error or a missing row, and the task ends success, failed or cancelled,
// never stuck.
func TestSafeMergeFaults(t *testing.T) {
	// Where the fault strikes: the statement that starts the step after each boundary, and
	// the statements inside a step that could fail on their own. pattern is the exact
	// statement, among the partition's previewed statements st.
	exact := func(prefix string) func(st []string) string {
		return func(st []string) string { return "^" + regexp.QuoteMeta(find(st, prefix)) + "$" }
	}
	points := []struct {
		step    merge.Step // the step the partition has recorded when the statement runs
		pattern func(st []string) string
	}{
		{merge.StepPlanned, exact("SELECT COUNT(*), COALESCE(SUM(HASH(`id`, `msg`)), 0) FROM `m`.`t` WHERE")},
		{merge.StepSnapshotted, exact("CREATE EXTERNAL TABLE")},
		{"snapshotted, adding the staging partition", exact("ALTER TABLE `m`.`hivemerge_")},
		{"snapshotted, in the insert", exact("INSERT OVERWRITE")},
		{merge.StepStaged, exact("SELECT COUNT(*), COALESCE(SUM(HASH(`id`, `msg`)), 0) FROM `m`.`hivemerge_")},
		{"staged, in the schema check", func(st []string) string {
			tmp := regexp.MustCompile("`m`.`hivemerge_[0-9a-f_]+`").FindString(find(st, "CREATE EXTERNAL TABLE"))
			return "^DESCRIBE FORMATTED " + regexp.QuoteMeta(tmp) + "$"
		}},
		{merge.StepValidated, exact("ALTER TABLE `m`.`t` PARTITION")},
		{merge.StepSwapped, exact("ANALYZE TABLE")},
		{merge.StepAnalyzed, exact("DROP TABLE")},
	}
	kinds := []struct {
		name string
		// fault runs the task with the fault on the statements stmt matches and returns how
		// it ended.
		fault func(t *testing.T, e *env, id, stmt string) *merge.Task
		want  []merge.Status
		// late are rows the fault writes to the second partition, as a writer outside the
		// merge: they must be there once the task ends, exactly once.
		late [][]string
	}{
		{"worker killed", func(t *testing.T, e *env, id, stmt string) *merge.Task {
			e.kill(t, id, "w1", stmt)
			e.expire(t)
			return e.run(t, id, "w2")
		}, []merge.Status{merge.StatusSuccess}, nil},
		{"connection dropped", func(t *testing.T, e *env, id, stmt string) *merge.Task {
			e.srv.Inject(hivesandbox.Fault{Match: stmt, Action: hivesandbox.FaultDropConnection, Times: 1})
			return e.run(t, id, "w")
		}, []merge.Status{merge.StatusSuccess, merge.StatusFailed}, nil},
		{"statement failed", func(t *testing.T, e *env, id, stmt string) *merge.Task {
			e.srv.Inject(hivesandbox.Fault{Match: stmt, Action: hivesandbox.FaultFail, Times: 1})
			return e.run(t, id, "w")
		}, []merge.Status{merge.StatusFailed}, nil},
		{"statement hung past the timeout", func(t *testing.T, e *env, id, stmt string) *merge.Task {
			e.ex.Timeout = 2 * time.Second
			e.srv.Inject(hivesandbox.Fault{Match: stmt, Action: hivesandbox.FaultHang, Times: 1})
			got := e.run(t, id, "w")
			if got.Status == merge.StatusFailed && !strings.Contains(got.Error, "ran past its timeout") {
				t.Errorf("error %q does not name the timeout", got.Error)
			}
			return got
		}, []merge.Status{merge.StatusFailed}, nil},
		{"statement hangs every time", func(t *testing.T, e *env, id, stmt string) *merge.Task {
			// The rollback as the run ends meets the hang again when it sends the statement
			// again; it is bounded by half the lease.
			e.ex.Timeout, e.ex.Lease = 2*time.Second, 3*time.Second
			remove := e.srv.Inject(hivesandbox.Fault{Match: stmt, Action: hivesandbox.FaultHang})
			got := e.run(t, id, "w")
			remove()
			if got.Status == merge.StatusFailed && !strings.Contains(got.Error, "ran past its timeout") {
				t.Errorf("error %q does not name the timeout", got.Error)
			}
			if strings.Contains(got.Error, "rolling it back failed too") {
				// Hive answers again: the rollback the error asks for finishes the job.
				if _, err := e.ex.Rollback(context.Background(), id, "ops"); err != nil {
					t.Fatalf("Rollback after %q: %v", got.Error, err)
				}
			}
			return got
		}, []merge.Status{merge.StatusFailed}, nil},
		{"concurrent writer", func(t *testing.T, e *env, id, stmt string) *merge.Task {
			e.srv.Inject(hivesandbox.Fault{Match: stmt, Action: hivesandbox.FaultConcurrentWrite, Times: 1,
				Write: &hivesandbox.ConcurrentWrite{DB: "m", Table: "t", Partition: map[string]string{"dt": "2024-01-02"}, Rows: writerRows}})
			return e.run(t, id, "w")
		}, []merge.Status{merge.StatusSuccess, merge.StatusFailed}, writerRows},
		{"cancel requested", func(t *testing.T, e *env, id, stmt string) *merge.Task {
			fired := make(chan struct{})
			e.srv.Inject(hivesandbox.Fault{Match: stmt, Action: hivesandbox.FaultHang, Times: 1, Fired: fired})
			done := make(chan *merge.Task, 1)
			go func() {
				got, err := e.ex.Run(context.Background(), id, "w")
				if err != nil {
					t.Errorf("Run: %v", err)
				}
				done <- got
			}()
			<-fired
			if _, err := e.svc.CancelTask(context.Background(), id, "alice"); err != nil {
				t.Fatal(err)
			}
			got := <-done
			if got == nil {
				t.FailNow()
			}
			// A cancel asks for the table as it was: the merged partition is rolled back too.
			if got.Status == merge.StatusCancelled {
				for _, p := range got.Checkpoint.Partitions {
					if p.Step != merge.StepRolledBack && p.Step != merge.StepPlanned {
						t.Errorf("partition %s at %s after the cancel", p.Partition, p.Step)
					}
				}
			}
			return got
		}, []merge.Status{merge.StatusCancelled}, nil},
	}
	for _, k := range kinds {
		for _, pt := range points {
			t.Run(k.name+" at "+string(pt.step), func(t *testing.T) {
				t.Parallel()
				e := newEnv(t)
				e.exec(t, "CREATE TABLE m.t (id bigint, msg string) PARTITIONED BY (dt string) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' STORED AS TEXTFILE")
				e.files(t, "t", map[string]string{"dt": "2024-01-01"}, 8, 2)
				e.files(t, "t", map[string]string{"dt": "2024-01-02"}, 6, 3)
				before := e.state(t, "t")
				task := e.newTask(t, "t", merge.StrategySafeMerge)
				pv, err := e.planner.Preview(context.Background(), engine.RequestFor(task))
				if err != nil {
					t.Fatal(err)
				}
				pattern := pt.pattern(pv.Partitions[1].Statements)

				var late []hive.Checksum
				if k.late != nil {
					late = append(late, e.lateChecksum(t, k.late))
				}
				// Once the late rows are visible they stay, the swap included: never fewer
				// rows than committed, never doubled.
				// A fault that ends the task rolls back the partition merged before it
				// (dt=2024-01-01), whose rows a reader may briefly miss (startReaderWithGap).
				var gap *hive.Checksum
				if slices.Contains(k.want, merge.StatusFailed) || slices.Contains(k.want, merge.StatusCancelled) {
					g := before.rows["dt=2024-01-01"]
					gap = &g
				}
				stop := e.startReaderWithGap(t, "t", gap, late...)
				got := k.fault(t, e, task.ID, pattern)
				stop()
				if !slices.Contains(k.want, got.Status) {
					t.Errorf("status %s, want one of %v: %s\n%s", got.Status, k.want, got.Error, e.logs(t, task.ID))
				}
				after := e.state(t, "t")
				if k.late != nil {
					// The late rows are there once: the partition holds what it held plus
					// what a table of the late rows alone holds (SUM(HASH) adds up).
					want := before.rows["dt=2024-01-02"]
					want.Rows, want.Sum = want.Rows+late[0].Rows, want.Sum+late[0].Sum
					if got := after.rows["dt=2024-01-02"]; got != want {
						t.Errorf("dt=2024-01-02 has %+v, want %+v with the late rows once\n%s", got, want, e.logs(t, task.ID))
					}
					after.rows["dt=2024-01-02"] = before.rows["dt=2024-01-02"]
				}
				if describe(after.rows) != describe(before.rows) || describe(after.partitions) != describe(before.partitions) {
					t.Errorf("rows or partitions changed:\nbefore %s\nafter  %s", describe(before), describe(after))
				}
				if left := e.stagingTables(t); left != nil {
					t.Errorf("staging tables left: %v", left)
				}
				e.onlyLive(t, before, after, task.ID)
				for _, p := range got.Checkpoint.Partitions {
					switch {
					case got.Status == merge.StatusSuccess && p.Step != merge.StepDone:
						t.Errorf("the task succeeded with partition %s at %s", p.Partition, p.Step)
					case p.Step == merge.StepDone:
						onlyDataFiles(t, after.location[p.Partition])
						files, bytes := walk(t, after.location[p.Partition])
						if k.late != nil {
							break // a writer may add files after the statistics were refreshed
						}
						if st := e.stats(t, "t", p.Spec); st.NumFiles == nil || *st.NumFiles != files || st.TotalSize == nil || *st.TotalSize != bytes {
							t.Errorf("partition %s: DESCRIBE FORMATTED numFiles %s totalSize %s, a listing finds %d files of %d bytes", p.Partition, ptr(st.NumFiles), ptr(st.TotalSize), files, bytes)
						}
					case after.location[p.Partition] != before.location[p.Partition]:
						t.Errorf("partition %s at %s points at %s", p.Partition, p.Step, after.location[p.Partition])
					}
				}
			})
		}
	}
}

// writerRows are the rows the concurrent writer of TestSafeMergeFaults adds.
var writerRows = [][]string{{"7001", "late-a"}, {"7002", "late-b"}, {"7003", "late-c"}}

// lateChecksum is the count and checksum of rows alone, from a table of their own.
func (e *env) lateChecksum(t *testing.T, rows [][]string) hive.Checksum {
	t.Helper()
	e.exec(t, "CREATE TABLE m.late (id bigint, msg string) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' STORED AS TEXTFILE")
	e.srv.AppendFiles(t, "m", "late", nil, 1, func(int) [][]string { return rows })
	return e.state(t, "late").rows[""]
}

// find is the statement of stmts that starts with prefix.
func find(stmts []string, prefix string) string {
	for _, s := range stmts {
		if strings.HasPrefix(s, prefix) {
			return s
		}
	}
	panic("no statement starts with " + prefix)
}

// onlyLive checks that the task's staging directory, a hidden sibling of the table's
// partitions, holds only the merged partitions the table points at now: no staging table's
// directory, no partial output of a partition that was rolled back.
func (e *env) onlyLive(t *testing.T, before, after state, id string) {
	t.Helper()
	stage := filepath.Join(e.tableDir(t, "t"), ".hivemerge-"+id)
	var live []string
	for _, p := range after.partitions {
		if after.location[p] != before.location[p] {
			live = append(live, p)
			if dir := filepath.Dir(path(t, after.location[p])); dir != stage {
				t.Errorf("partition %s points at %s, outside %s", p, after.location[p], stage)
			}
		}
	}
	entries, err := os.ReadDir(stage)
	if os.IsNotExist(err) && live == nil {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	if !slices.Equal(names, live) {
		t.Errorf("%s holds %v, want only the live partitions %v", stage, names, live)
	}
}
