package engine_test

import (
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
