package scheduler

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/cloudlog"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
)

func openBolt(tb testing.TB) *bolt.Store {
	tb.Helper()
	st, err := bolt.Open(filepath.Join(tb.TempDir(), "hivemerge.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// TestCheckPending runs the job through Service.Run over a real store with the clock moved
// past some leases: an expired task goes back to pending, an expired one whose cancel was
// requested is finished as cancelled, a live one is left alone, and the run's record and its
// one log line say how many it changed.
func TestCheckPending(t *testing.T) {
	st := openBolt(t)
	start := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	now := start
	clock := func() time.Time { return now }
	svc := merge.NewService(st, st).WithClock(clock)
	ctx := t.Context()
	// Room for the three tasks this test runs at once.
	if _, err := svc.CreateCluster(ctx, merge.Cluster{ID: "demo", Host: "127.0.0.1", Auth: merge.AuthNoSASL, MaxRunningTasks: 3}); err != nil {
		t.Fatal(err)
	}
	running := func(table string, lease time.Duration) *merge.Task {
		t.Helper()
		task, err := svc.CreateTask(ctx, merge.CreateTaskRequest{ClusterID: "demo", Name: table, Database: "sales",
			Table: table, Strategy: merge.StrategySafeMerge})
		if err != nil {
			t.Fatal(err)
		}
		if task, err = svc.Claim(ctx, task.ID, "worker-1", lease); err != nil {
			t.Fatal(err)
		}
		return task
	}
	expired := running("orders", time.Minute)
	cancelled := running("customers", time.Minute)
	if _, err := svc.CancelTask(ctx, cancelled.ID, "ada"); err != nil {
		t.Fatal(err)
	}
	live := running("items", time.Hour)
	live, err := svc.GetTask(ctx, live.ID)
	if err != nil {
		t.Fatal(err)
	}
	now = start.Add(2 * time.Minute)

	var logs bytes.Buffer
	jobs := NewService(svc, st, cloudlog.New(&logs, slog.LevelDebug), ServiceConfig{Owner: "test"}).WithClock(clock)
	run, err := jobs.Run(ctx, JobCheckPending, now, "")
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != merge.RunSucceeded || run.Counts["requeued"] != 2 || run.ID != "check-pending-20260301T020200Z" || run.Owner != "test" {
		t.Errorf("run = %+v, want succeeded with requeued 2, id check-pending-20260301T020200Z, owner test", run)
	}
	stored, err := st.GetRun(ctx, run.ID)
	if err != nil || stored.Status != merge.RunSucceeded || stored.Counts["requeued"] != 2 {
		t.Errorf("stored run = %+v, %v", stored, err)
	}

	for _, c := range []struct {
		name       string
		id         string
		wantStatus merge.Status
		wantLease  bool
	}{
		{"expired lease requeued", expired.ID, merge.StatusPending, false},
		{"expired lease with cancel requested cancelled", cancelled.ID, merge.StatusCancelled, false},
		{"live lease untouched", live.ID, merge.StatusRunning, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := svc.GetTask(ctx, c.id)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != c.wantStatus {
				t.Errorf("status = %s, want %s", got.Status, c.wantStatus)
			}
			if hasLease := got.LeaseOwner != "" || !got.LeaseExpires.IsZero(); hasLease != c.wantLease {
				t.Errorf("lease %q until %v, want a lease: %v", got.LeaseOwner, got.LeaseExpires, c.wantLease)
			}
		})
	}
	if got, _ := svc.GetTask(ctx, live.ID); !got.UpdatedAt.Equal(live.UpdatedAt) || !got.LeaseExpires.Equal(live.LeaseExpires) {
		t.Errorf("the live task was written: updated %v lease %v, was %v %v", got.UpdatedAt, got.LeaseExpires, live.UpdatedAt, live.LeaseExpires)
	}

	lines := logLines(t, logs.String())
	if len(lines) != 1 || lines[0]["message"] != "job finished" || lines[0]["requeued"] != float64(2) ||
		lines[0]["job"] != JobCheckPending || lines[0]["run_id"] != run.ID || lines[0]["severity"] != "INFO" {
		t.Errorf("log = %v, want one INFO line for the run reporting requeued 2", lines)
	}

	// The same slot again is another scheduler's run: refused, nothing run.
	if _, err := jobs.Run(ctx, JobCheckPending, now, ""); !errors.Is(err, merge.ErrConflict) {
		t.Errorf("second run of one slot: %v, want ErrConflict", err)
	}
	// The next slot finds nothing left to do.
	run, err = jobs.Run(ctx, JobCheckPending, now.Add(time.Minute), "")
	if err != nil || run.Counts["requeued"] != 0 || run.Status != merge.RunSucceeded {
		t.Errorf("next run = %+v, %v; want succeeded with requeued 0", run, err)
	}
}

// TestRetention keeps the run records younger than the retention and deletes the others.
func TestRetention(t *testing.T) {
	st := openBolt(t)
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	jobs := NewService(merge.NewService(st, st), st, nil, ServiceConfig{RunRetention: 7 * 24 * time.Hour}).WithClock(clock)
	ctx := t.Context()
	for _, days := range []int{30, 8, 6, 1} {
		slot := now.AddDate(0, 0, -days)
		if err := st.CreateRun(ctx, &merge.Run{ID: merge.RunID(JobCheckPending, slot), Job: JobCheckPending, Slot: slot,
			Status: merge.RunSucceeded, StartedAt: slot}); err != nil {
			t.Fatal(err)
		}
	}
	run, err := jobs.Run(ctx, JobRetention, now, "")
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != merge.RunSucceeded || run.Counts["runs_deleted"] != 2 {
		t.Errorf("run = %+v, want succeeded with runs_deleted 2", run)
	}
	page, err := st.ListRuns(ctx, merge.RunFilter{Job: JobCheckPending})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, r := range page.Runs {
		left = append(left, r.Slot.Format("01-02"))
	}
	if got := strings.Join(left, ","); got != "03-30,03-25" {
		t.Errorf("check-pending runs left: %s, want 03-30,03-25", got)
	}
}

func logLines(tb testing.TB, out string) []map[string]any {
	tb.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			tb.Fatalf("log line %q is not JSON: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}
