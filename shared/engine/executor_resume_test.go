package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// kill runs the task as owner and stops the worker (cancels its context, as a killed process
// would stop talking) while a statement matching match runs. The task is left running under
// the dead worker's lease.
func (e *env) kill(t *testing.T, id, owner, match string) {
	t.Helper()
	fired := make(chan struct{})
	remove := e.srv.Inject(hivesandbox.Fault{Match: match, Action: hivesandbox.FaultHang, Times: 1, Fired: fired})
	defer remove()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := e.ex.Run(ctx, id, owner)
		errc <- err
	}()
	<-fired
	cancel()
	if err := <-errc; err == nil || errors.Is(err, merge.ErrConflict) {
		t.Fatalf("the killed Run returned %v", err)
	}
	task, err := e.svc.GetTask(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if task.Status != merge.StatusRunning || !strings.HasPrefix(task.LeaseOwner, owner+"#") {
		t.Fatalf("after the kill: status %s, owner %q", task.Status, task.LeaseOwner)
	}
}

// expire lets the dead worker's lease run out and requeues the task.
func (e *env) expire(t *testing.T) {
	t.Helper()
	e.clock.Advance(2 * e.ex.Lease)
	n, err := e.svc.RequeueExpired(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("RequeueExpired: %d, %v", n, err)
	}
}

func TestResumeAfterKillDuringInsert(t *testing.T) {
	e := newEnv(t)
	e.logsTable(t)
	before := e.state(t, "logs")
	task := e.newTask(t, "logs", merge.StrategySafeMerge)

	e.kill(t, task.ID, "w1", `^INSERT OVERWRITE.*2024-01-02`)
	// The other worker is gone; a new one cannot take the task until the lease expires.
	_, err := e.ex.Run(context.Background(), task.ID, "w2")
	wantErr(t, err, merge.ErrConflict)
	e.expire(t)

	got := e.run(t, task.ID, "w2")
	if got.Status != merge.StatusSuccess || got.Attempt != 2 {
		t.Fatalf("status %s attempt %d: %s\n%s", got.Status, got.Attempt, got.Error, e.logs(t, task.ID))
	}
	after := e.state(t, "logs")
	if describe(after.rows) != describe(before.rows) {
		t.Errorf("rows before %s\nafter %s", describe(before.rows), describe(after.rows))
	}
	for _, p := range got.Checkpoint.Partitions {
		if p.Step != merge.StepDone || path(t, after.location[p.Partition]) != filepath.Join(e.tableDir(t, "logs"), ".hivemerge-"+task.ID, p.Partition) {
			t.Errorf("partition %s at %s, location %s", p.Partition, p.Step, after.location[p.Partition])
		}
	}
	if tables := e.stagingTables(t); tables != nil {
		t.Errorf("staging tables left: %v", tables)
	}
	logs := e.logs(t, task.ID)
	for _, want := range []string{"claimed by w2#", "resumed with strategy safe_merge: [dt=2024-01-02 at snapshotted]", "written again"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}

func TestResumeAfterKillAfterSwap(t *testing.T) {
	e := newEnv(t)
	e.logsTable(t)
	before := e.state(t, "logs")
	task := e.newTask(t, "logs", merge.StrategySafeMerge)

	e.kill(t, task.ID, "w1", `^ANALYZE TABLE.*2024-01-01`)
	stopped, err := e.svc.GetTask(context.Background(), task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p := stopped.Checkpoint.Partitions[0]; p.Step != merge.StepSwapped || p.Snapshot == nil || p.Snapshot.Names == "" {
		t.Fatalf("the killed worker left %+v", p)
	}
	// A writer that resolved the old location before the swap commits a file there now.
	old := path(t, before.location["dt=2024-01-01"])
	if err := os.WriteFile(filepath.Join(old, "late_0"), []byte("9001|late\n9002|late\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.expire(t)

	got := e.run(t, task.ID, "w2")
	if got.Status != merge.StatusSuccess {
		t.Fatalf("status %s: %s\n%s", got.Status, got.Error, e.logs(t, task.ID))
	}
	after := e.state(t, "logs")
	if n := after.rows["dt=2024-01-01"].Rows; n != before.rows["dt=2024-01-01"].Rows+2 {
		t.Errorf("dt=2024-01-01 has %d rows, want %d + 2 late ones", n, before.rows["dt=2024-01-01"].Rows)
	}
	if after.rows["dt=2024-01-02"] != before.rows["dt=2024-01-02"] {
		t.Errorf("dt=2024-01-02 changed")
	}
	if p := got.Checkpoint.Partitions[0]; p.LateFiles != 1 {
		t.Errorf("late files %d", p.LateFiles)
	}
	if _, err := os.Stat(filepath.Join(old, "late_0")); !os.IsNotExist(err) {
		t.Errorf("the late file stayed in the backup: %v", err)
	}
}

func TestSourceRemovedBeforeSwap(t *testing.T) {
	e := newEnv(t)
	e.logsTable(t)
	before := e.state(t, "logs")
	// A file of the source disappears once the staging output is validated, just before the
	// last listing before the swap.
	dir := path(t, before.location["dt=2024-01-01"])
	e.ex.Snapshots = &beforeTheSwap{dir: dir, act: func() error {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, en := range entries {
			if !strings.HasPrefix(en.Name(), ".") && !strings.HasPrefix(en.Name(), "_") {
				return os.Remove(filepath.Join(dir, en.Name()))
			}
		}
		return errors.New("no source file to remove")
	}}
	task := e.newTask(t, "logs", merge.StrategySafeMerge)
	got := e.run(t, task.ID, "w")
	if got.Status != merge.StatusFailed || !strings.Contains(got.Error, "removed or modified since the snapshot") {
		t.Fatalf("status %s: %s", got.Status, got.Error)
	}
	after := e.state(t, "logs")
	if describe(after.location) != describe(before.location) {
		t.Errorf("locations changed: %s", describe(after.location))
	}
	e.noStaging(t, "logs", task.ID)
}

func TestRollbackCleansAfterDeadWorker(t *testing.T) {
	e := newEnv(t)
	e.logsTable(t)
	before := e.state(t, "logs")
	task := e.newTask(t, "logs", merge.StrategySafeMerge)
	ctx := context.Background()

	// The worker dies with its staging output written; a cancel comes while nobody runs the
	// task, so the requeue finishes it as cancelled without a worker.
	e.kill(t, task.ID, "w1", `^SELECT COUNT.*hivemerge_.*2024-01-01`)
	if _, err := e.svc.CancelTask(ctx, task.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	e.expire(t)
	if got, _ := e.svc.GetTask(ctx, task.ID); got.Status != merge.StatusCancelled {
		t.Fatalf("status %s", got.Status)
	}
	if e.stagingTables(t) == nil {
		t.Fatal("the dead worker left no staging table: the test does not test anything")
	}

	got, err := e.ex.Rollback(ctx, task.ID, "ops")
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	sameState(t, "after the clean-up", e.state(t, "logs"), before)
	if tables := e.stagingTables(t); tables != nil {
		t.Errorf("staging tables left: %v", tables)
	}
	e.noStaging(t, "logs", task.ID)
	if p := got.Checkpoint.Partitions[0]; p.Step != merge.StepRolledBack {
		t.Errorf("partition %+v", p)
	}
}

func TestLeaseLostStopsTheWorker(t *testing.T) {
	e := newEnv(t)
	e.logsTable(t)
	before := e.state(t, "logs")
	task := e.newTask(t, "logs", merge.StrategySafeMerge)
	fired := make(chan struct{})
	e.srv.Inject(hivesandbox.Fault{Match: `^INSERT OVERWRITE.*2024-01-01`, Action: hivesandbox.FaultHang, Times: 1, Fired: fired})
	errc := make(chan error, 1)
	go func() {
		_, err := e.ex.Run(context.Background(), task.ID, "slow")
		errc <- err
	}()
	<-fired
	// The slow worker's lease runs out while Hive works, and the task is queued again.
	e.expire(t)
	if err := <-errc; !errors.Is(err, merge.ErrConflict) {
		t.Fatalf("the worker that lost its lease returned %v", err)
	}
	got := e.run(t, task.ID, "fast")
	if got.Status != merge.StatusSuccess {
		t.Fatalf("status %s: %s", got.Status, got.Error)
	}
	if after := e.state(t, "logs"); describe(after.rows) != describe(before.rows) {
		t.Errorf("rows before %s, after %s", describe(before.rows), describe(after.rows))
	}
}

func TestResumeFailsBeforeAnyStep(t *testing.T) {
	e := newEnv(t)
	e.logsTable(t)
	before := e.state(t, "logs")
	task := e.newTask(t, "logs", merge.StrategySafeMerge)
	e.kill(t, task.ID, "w1", `^ANALYZE TABLE.*2024-01-01`)
	e.expire(t)

	// The next worker cannot even read the table: the task fails and says a rollback
	// restores the partition left mid-way.
	e.srv.Inject(hivesandbox.Fault{Match: "^DESCRIBE FORMATTED `m`.`logs`$", Action: hivesandbox.FaultFail, Times: 1})
	got := e.run(t, task.ID, "w2")
	if got.Status != merge.StatusFailed || !strings.Contains(got.Error, "left mid-way ([dt=2024-01-01 at swapped])") {
		t.Fatalf("status %s: %s", got.Status, got.Error)
	}
	if _, err := e.ex.Rollback(context.Background(), task.ID, "ops"); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	sameState(t, "after the rollback", e.state(t, "logs"), before)
	if tables := e.stagingTables(t); tables != nil {
		t.Errorf("staging tables left: %v", tables)
	}
	e.noStaging(t, "logs", task.ID)
}

func TestTakeOverOfACancelledTaskRollsBack(t *testing.T) {
	e := newEnv(t)
	e.logsTable(t)
	before := e.state(t, "logs")
	task := e.newTask(t, "logs", merge.StrategySafeMerge)
	e.kill(t, task.ID, "w1", `^ANALYZE TABLE.*2024-01-01`)
	if _, err := e.svc.CancelTask(context.Background(), task.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	// The lease runs out and a worker takes the task over before any requeue.
	e.clock.Advance(2 * e.ex.Lease)
	got := e.run(t, task.ID, "w2")
	if got.Status != merge.StatusCancelled || !strings.Contains(got.Error, "cancelled by alice; the table was left as it was") {
		t.Fatalf("status %s: %s", got.Status, got.Error)
	}
	sameState(t, "after the cancel", e.state(t, "logs"), before)
	e.noStaging(t, "logs", task.ID)
}

func TestResumeAfterUnrecordedSwap(t *testing.T) {
	e := newEnv(t)
	e.logsTable(t)
	before := e.state(t, "logs")
	task := e.newTask(t, "logs", merge.StrategySafeMerge)
	// The worker dies in its swap, after recording validated; the swap reached the metastore
	// but not the task.
	e.kill(t, task.ID, `w1`, "^ALTER TABLE `m`.`logs` PARTITION .*2024-01-01.* SET LOCATION")
	stopped, err := e.svc.GetTask(context.Background(), task.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := stopped.Checkpoint.Partitions[0]
	if p.Step != merge.StepValidated || len(p.Merged) == 0 {
		t.Fatalf("the killed worker left %s", p.Step)
	}
	spec, err := hql.NewSpec([]hql.Column{{Name: "dt", Type: "string"}}, map[string]string{"dt": "2024-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	swap, err := hql.SetLocation(hql.Table{Database: "m", Name: "logs"}, spec, p.Staging)
	if err != nil {
		t.Fatal(err)
	}
	e.exec(t, swap)
	e.expire(t)

	got := e.run(t, task.ID, "w2")
	if got.Status != merge.StatusSuccess {
		t.Fatalf("status %s: %s\n%s", got.Status, got.Error, e.logs(t, task.ID))
	}
	after := e.state(t, "logs")
	if describe(after.rows) != describe(before.rows) {
		t.Errorf("rows before %s, after %s", describe(before.rows), describe(after.rows))
	}
	if p := got.Checkpoint.Partitions[0]; p.Step != merge.StepDone || p.BackupLocation != before.location["dt=2024-01-01"] || p.KeepUntil.IsZero() {
		t.Errorf("partition %+v", p)
	}
	if logs := e.logs(t, task.ID); !strings.Contains(logs, "already points at the merged files") {
		t.Errorf("logs:\n%s", logs)
	}
}

// A step's log lines are written with the checkpoint that records the step: a worker killed
// mid-step leaves in the log every line of the steps it recorded, and none yet of the step in
// flight, and the worker that resumes the task completes the log.
func TestKillKeepsLogsOfRecordedSteps(t *testing.T) {
	e := newEnv(t)
	e.ex.Renew = time.Hour // no lease renewal writes the lines in flight before the kill
	e.logsTable(t)
	task := e.newTask(t, "logs", merge.StrategySafeMerge)
	pv, err := e.planner.Preview(context.Background(), engine.RequestFor(task))
	if err != nil {
		t.Fatal(err)
	}
	stmts := map[string][]string{}
	for _, p := range pv.Partitions {
		stmts[p.Partition] = p.Statements
	}

	fired := make(chan struct{})
	remove := e.srv.Inject(hivesandbox.Fault{Match: `^INSERT OVERWRITE.*2024-01-02`, Action: hivesandbox.FaultHang, Times: 1, Fired: fired})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := e.ex.Run(ctx, task.ID, "w1")
		errc <- err
	}()
	<-fired
	// The store holds now what it would if the worker's process died here.
	dead, err := e.svc.GetTask(context.Background(), task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p := dead.Checkpoint.Partitions; p[0].Step != merge.StepDone || p[1].Step != merge.StepSnapshotted {
		t.Fatalf("at the kill the checkpoint says %s, %s", p[0].Step, p[1].Step)
	}
	logs := e.logs(t, task.ID)
	recorded := append(slices.Clone(stmts["dt=2024-01-01"]), "claimed by w1#", "partition dt=2024-01-01 merged", hqlChecksum(stmts["dt=2024-01-02"]))
	for _, want := range recorded {
		if !strings.Contains(logs, want) {
			t.Errorf("at the kill the log lacks %q of a recorded step:\n%s", want, logs)
		}
	}
	if inFlight := "CREATE EXTERNAL TABLE `m`.`hivemerge_" + task.ID; strings.Count(logs, inFlight) != 1 {
		t.Errorf("at the kill the log has %d statements %q, want only the first partition's: the lines of the step in flight are written with its checkpoint\n%s", strings.Count(logs, inFlight), inFlight, logs)
	}
	cancel()
	remove()
	if err := <-errc; err == nil {
		t.Fatal("the killed Run succeeded")
	}
	e.expire(t)

	got := e.run(t, task.ID, "w2")
	if got.Status != merge.StatusSuccess {
		t.Fatalf("status %s: %s\n%s", got.Status, got.Error, e.logs(t, task.ID))
	}
	logs = e.logs(t, task.ID)
	for _, want := range append(append(recorded, stmts["dt=2024-01-02"]...), "claimed by w2#") {
		if !strings.Contains(logs, want) {
			t.Errorf("the resumed task's log lacks %q:\n%s", want, logs)
		}
	}
}

// hqlChecksum is the source checksum query among a partition's statements.
func hqlChecksum(stmts []string) string {
	for _, s := range stmts {
		if strings.HasPrefix(s, "SELECT") {
			return s
		}
	}
	return "no checksum statement"
}
