package engine_test

import (
	"context"
	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// logsTable creates m.logs with two partitions of small files.
func (e *env) logsTable(t *testing.T) {
	t.Helper()
	e.exec(t, "CREATE TABLE m.logs (id bigint, msg string) PARTITIONED BY (dt string) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' STORED AS TEXTFILE")
	e.files(t, "logs", map[string]string{"dt": "2024-01-01"}, 20, 2)
	e.files(t, "logs", map[string]string{"dt": "2024-01-02"}, 10, 3)
}

// tableDir is the directory of a table.
func (e *env) tableDir(t *testing.T, table string) string {
	t.Helper()
	tb, err := e.client.DescribeTable(context.Background(), hql.Table{Database: "m", Name: table})
	if err != nil {
		t.Fatal(err)
	}
	return path(t, tb.Location)
}

// noStaging checks that no staging directory of the task is left under the table.
func (e *env) noStaging(t *testing.T, table, id string) {
	t.Helper()
	dir := filepath.Join(e.tableDir(t, table), ".hivemerge-"+id)
	if _, err := os.Stat(filepath.Dir(dir)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("staging directory %s is left (%v)", dir, err)
	}
}

func TestSafeMergeFailingInsert(t *testing.T) {
	e := newEnv(t)
	e.logsTable(t)
	before := e.state(t, "logs")
	// The INSERT fails after writing its output, where a failure must discard it.
	e.srv.Inject(hivesandbox.Fault{Match: `^INSERT OVERWRITE`, Action: hivesandbox.FaultFail, AtCommit: true, Message: "FAILED: Execution Error, return code 2 from MapRedTask"})
	task := e.newTask(t, "logs", merge.StrategySafeMerge)

	got := e.run(t, task.ID, "w")
	if got.Status != merge.StatusFailed {
		t.Fatalf("status %s", got.Status)
	}
	for _, want := range []string{"partition dt=2024-01-01 failed", "return code 2", "rolled back to its original location", "Fix the cause"} {
		if !strings.Contains(got.Error, want) {
			t.Errorf("error %q lacks %q", got.Error, want)
		}
	}
	sameState(t, "after the failed task", e.state(t, "logs"), before)
	if tables := e.stagingTables(t); tables != nil {
		t.Errorf("staging tables left: %v", tables)
	}
	e.noStaging(t, "logs", task.ID)
	if p := got.Checkpoint.Partitions[0]; p.Step != merge.StepRolledBack || p.Error == "" {
		t.Errorf("first partition %+v", p)
	}
	if p := got.Checkpoint.Partitions[1]; p.Step != merge.StepPlanned {
		t.Errorf("second partition %+v", p)
	}
}

func TestSafeMergeFailureKeepsMergedPartitions(t *testing.T) {
	e := newEnv(t)
	e.logsTable(t)
	before := e.state(t, "logs")
	e.srv.Inject(hivesandbox.Fault{Match: `^INSERT OVERWRITE.*2024-01-02`, Action: hivesandbox.FaultFail})
	task := e.newTask(t, "logs", merge.StrategySafeMerge)

	got := e.run(t, task.ID, "w")
	if got.Status != merge.StatusFailed || !strings.Contains(got.Error, "1 partition(s) merged before it stay merged") {
		t.Fatalf("status %s: %s", got.Status, got.Error)
	}
	after := e.state(t, "logs")
	if describe(after.rows) != describe(before.rows) || after.location["dt=2024-01-02"] != before.location["dt=2024-01-02"] || after.location["dt=2024-01-01"] == before.location["dt=2024-01-01"] {
		t.Errorf("before %s\nafter  %s", describe(before), describe(after))
	}
	if got.Stats.FilesBefore != 20 || got.Stats.RowsValidated != 40 {
		t.Errorf("stats %+v count the merged partition only", got.Stats)
	}
}

func TestCancelMidStatement(t *testing.T) {
	e := newEnv(t)
	e.logsTable(t)
	before := e.state(t, "logs")
	fired := make(chan struct{})
	e.srv.Inject(hivesandbox.Fault{Match: `^INSERT OVERWRITE.*2024-01-02`, Action: hivesandbox.FaultHang, AtCommit: true, Fired: fired})
	task := e.newTask(t, "logs", merge.StrategySafeMerge)

	done := make(chan *merge.Task)
	go func() {
		got, err := e.ex.Run(context.Background(), task.ID, "w")
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		done <- got
	}()
	<-fired // the second partition's INSERT has written its output and hangs before committing
	if _, err := e.svc.CancelTask(context.Background(), task.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if got == nil {
		t.FailNow()
	}
	if got.Status != merge.StatusCancelled || !strings.Contains(got.Error, "cancelled by alice") {
		t.Fatalf("status %s: %s\n%s", got.Status, got.Error, e.logs(t, task.ID))
	}
	// Both partitions are as they were, the first one merged and then rolled back.
	sameState(t, "after the cancel", e.state(t, "logs"), before)
	if tables := e.stagingTables(t); tables != nil {
		t.Errorf("staging tables left: %v", tables)
	}
	e.noStaging(t, "logs", task.ID)
	for _, p := range got.Checkpoint.Partitions {
		if p.Step != merge.StepRolledBack {
			t.Errorf("partition %s at %s", p.Partition, p.Step)
		}
	}
	if logs := e.logs(t, task.ID); !strings.Contains(logs, "cancelled by alice") {
		t.Errorf("logs:\n%s", logs)
	}
}

func TestRollback(t *testing.T) {
	e := newEnv(t)
	e.logsTable(t)
	before := e.state(t, "logs")
	task := e.newTask(t, "logs", merge.StrategySafeMerge)
	ctx := context.Background()

	if _, err := e.ex.Rollback(ctx, task.ID, "bob"); err == nil {
		t.Error("a task that never ran was rolled back")
	}
	if got := e.run(t, task.ID, "w"); got.Status != merge.StatusSuccess {
		t.Fatalf("status %s: %s", got.Status, got.Error)
	}
	// A writer adds a file to the merged partition while it is live.
	e.files(t, "logs", map[string]string{"dt": "2024-01-01"}, 1, 5)

	got, err := e.ex.Rollback(ctx, task.ID, "bob")
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	after := e.state(t, "logs")
	want := before
	c := want.rows["dt=2024-01-01"]
	c.Rows += 5
	want.rows = map[string]hive.Checksum{"dt=2024-01-01": c, "dt=2024-01-02": before.rows["dt=2024-01-02"]}
	if describe(after.location) != describe(before.location) || after.rows["dt=2024-01-01"].Rows != c.Rows || after.rows["dt=2024-01-02"] != before.rows["dt=2024-01-02"] {
		t.Errorf("after the rollback %s\nwant rows %s at %s", describe(after), describe(want.rows), describe(before.location))
	}
	if got.Checkpoint.RolledBackBy != "bob" {
		t.Errorf("checkpoint %+v", got.Checkpoint)
	}
	for _, p := range got.Checkpoint.Partitions {
		if p.Step != merge.StepRolledBack {
			t.Errorf("partition %s at %s", p.Partition, p.Step)
		}
	}
	e.noStaging(t, "logs", task.ID)
	if logs := e.logs(t, task.ID); !strings.Contains(logs, "rolled back to") || !strings.Contains(logs, "by bob") {
		t.Errorf("logs:\n%s", logs)
	}

	// Again: nothing changes.
	if _, err := e.ex.Rollback(ctx, task.ID, "carol"); err != nil {
		t.Fatalf("second Rollback: %v", err)
	}
	sameState(t, "after a second rollback", e.state(t, "logs"), after)
}

func TestRollbackRefusals(t *testing.T) {
	e := newEnv(t)
	e.logsTable(t)
	ctx := context.Background()
	task := e.newTask(t, "logs", merge.StrategySafeMerge)
	if _, err := e.svc.Claim(ctx, task.ID, "w", time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err := e.ex.Rollback(ctx, task.ID, "bob")
	wantErr(t, err, merge.ErrConflict)

	// Once the backup's retention is over, a rollback is refused.
	e.clock.Advance(2 * time.Minute)
	if _, err := e.svc.RequeueExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.run(t, task.ID, "w2"); got.Status != merge.StatusSuccess {
		t.Fatalf("status %s: %s", got.Status, got.Error)
	}
	e.clock.Advance(engine.DefaultRetention + time.Hour)
	_, err = e.ex.Rollback(ctx, task.ID, "bob")
	wantErr(t, err, merge.ErrConflict)
}
