package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// TestTimeout runs a task whose INSERT hangs past the task's timeout: the statement is
// cancelled, the partition rolled back, and the task fails saying why. Wherever the deadline
// strikes on a slow machine, the outcome is the same.
func TestTimeout(t *testing.T) {
	e := newEnv(t)
	e.logsTable(t)
	before := e.state(t, "logs")
	e.srv.Inject(hivesandbox.Fault{Match: `^INSERT OVERWRITE`, Action: hivesandbox.FaultHang})
	e.ex.Timeout = 2 * time.Second
	task := e.newTask(t, "logs", merge.StrategySafeMerge)

	got := e.run(t, task.ID, "w")
	if got.Status != merge.StatusFailed || !strings.Contains(got.Error, "ran past its timeout of 2s") {
		t.Fatalf("status %s: %s\n%s", got.Status, got.Error, e.logs(t, task.ID))
	}
	sameState(t, "after the timeout", e.state(t, "logs"), before)
	if tables := e.stagingTables(t); tables != nil {
		t.Errorf("staging tables left: %v", tables)
	}
	e.noStaging(t, "logs", task.ID)
}

// TestTimeoutWithHiveHanging: the task times out in a statement that hangs every time it is
// sent, including when the rollback sends it again. The rollback is bounded by the lease (past
// it another worker may take the task over), so the run still ends, failed. Before, the
// rollback waited for the hung statement forever and the task never ended.
func TestTimeoutWithHiveHanging(t *testing.T) {
	for _, tc := range []struct {
		name, match string
		// stuck: the swap back hangs too, so the run cannot restore the partition, which stays
		// on its merged and validated files until a rollback once Hive answers again.
		stuck bool
	}{
		{name: "statistics", match: `^ANALYZE TABLE .*2024-01-01`},
		{name: "statistics and the swap back", match: `^ANALYZE TABLE .*2024-01-01|SET LOCATION '[^']*/logs/dt=2024-01-01'$`, stuck: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.logsTable(t)
			before := e.state(t, "logs")
			e.ex.Timeout, e.ex.Lease = 2*time.Second, 3*time.Second
			remove := e.srv.Inject(hivesandbox.Fault{Match: tc.match, Action: hivesandbox.FaultHang})
			task := e.newTask(t, "logs", merge.StrategySafeMerge)

			done := make(chan *merge.Task, 1)
			go func() {
				got, err := e.ex.Run(context.Background(), task.ID, "w")
				if err != nil {
					t.Errorf("Run: %v", err)
				}
				done <- got
			}()
			var got *merge.Task
			select {
			case got = <-done:
			case <-time.After(time.Minute): // a hang detector, far beyond the bounds under test
				remove() // lets the test end
				t.Fatalf("the run never ended:\n%s", e.logs(t, task.ID))
			}
			if got == nil {
				t.FailNow()
			}
			if got.Status != merge.StatusFailed || !strings.Contains(got.Error, "ran past its timeout") || strings.Contains(got.Error, "rolling it back failed too") != tc.stuck {
				t.Fatalf("status %s: %s\n%s", got.Status, got.Error, e.logs(t, task.ID))
			}
			if after := e.state(t, "logs"); describe(after.rows) != describe(before.rows) {
				t.Errorf("rows before %s, after %s", describe(before.rows), describe(after.rows))
			}
			if tables := e.stagingTables(t); tables != nil && !tc.stuck {
				t.Errorf("staging tables left: %v", tables)
			}
			if tc.stuck {
				// Hive answers again; the rollback the task's error asks for restores the
				// partition and removes what the run could not.
				remove()
				if _, err := e.ex.Rollback(context.Background(), task.ID, "ops"); err != nil {
					t.Fatalf("Rollback: %v", err)
				}
			}
			sameState(t, "at the end", e.state(t, "logs"), before)
			if tables := e.stagingTables(t); tables != nil {
				t.Errorf("staging tables left at the end: %v", tables)
			}
			e.noStaging(t, "logs", task.ID)
		})
	}
}

// TestCancelWithHiveHanging: a cancel while a statement hangs, a statement that hangs again
// when the cancel's rollback sends it: the rollback is bounded as well, and the task ends
// cancelled with the table as it was (its statistics left for a later ANALYZE).
func TestCancelWithHiveHanging(t *testing.T) {
	e := newEnv(t)
	e.logsTable(t)
	before := e.state(t, "logs")
	e.ex.Lease = 3 * time.Second
	fired := make(chan struct{}, 2)
	e.srv.Inject(hivesandbox.Fault{Match: `^ANALYZE TABLE .*2024-01-01`, Action: hivesandbox.FaultHang, Fired: fired})
	task := e.newTask(t, "logs", merge.StrategySafeMerge)

	done := make(chan *merge.Task, 1)
	go func() {
		got, err := e.ex.Run(context.Background(), task.ID, "w")
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		done <- got
	}()
	<-fired
	if _, err := e.svc.CancelTask(context.Background(), task.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	var got *merge.Task
	select {
	case got = <-done:
	case <-time.After(time.Minute): // a hang detector, far beyond the bounds under test
		t.Fatalf("the run never ended:\n%s", e.logs(t, task.ID))
	}
	if got == nil {
		t.FailNow()
	}
	if got.Status != merge.StatusCancelled || !strings.Contains(got.Error, "cancelled by alice") {
		t.Fatalf("status %s: %s\n%s", got.Status, got.Error, e.logs(t, task.ID))
	}
	sameState(t, "after the cancel", e.state(t, "logs"), before)
	if tables := e.stagingTables(t); tables != nil {
		t.Errorf("staging tables left: %v", tables)
	}
	e.noStaging(t, "logs", task.ID)
	if logs := e.logs(t, task.ID); !strings.Contains(logs, "were not refreshed") {
		t.Errorf("the log does not say the statistics were left stale:\n%s", logs)
	}
}
