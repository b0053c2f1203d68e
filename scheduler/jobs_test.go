package scheduler

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/cloudlog"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
)

// TestCheckPending runs the job over a real store with the service's clock moved past some
// leases: an expired task goes back to pending, an expired one whose cancel was requested is
// finished as cancelled, a live one is left alone, and the job logs how many it changed.
func TestCheckPending(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "hivemerge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	start := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	now := start
	svc := merge.NewService(st, st).WithClock(func() time.Time { return now })
	ctx := t.Context()
	if _, err := svc.CreateCluster(ctx, merge.Cluster{ID: "demo", Host: "127.0.0.1", Auth: merge.AuthNoSASL}); err != nil {
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
	live, err = svc.GetTask(ctx, live.ID)
	if err != nil {
		t.Fatal(err)
	}
	now = start.Add(2 * time.Minute)

	var logs bytes.Buffer
	jobs := Jobs{Tasks: svc, Log: cloudlog.New(&logs, slog.LevelDebug)}
	if err := jobs.CheckPending(ctx); err != nil {
		t.Fatal(err)
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
	if got, _ := svc.GetTask(ctx, cancelled.ID); !got.FinishedAt.Equal(now) {
		t.Errorf("cancelled task finished at %v, want %v", got.FinishedAt, now)
	}

	lines := logLines(t, logs.String())
	if len(lines) != 1 || lines[0]["message"] != "requeued tasks with expired leases" || lines[0]["count"] != float64(2) ||
		lines[0]["severity"] != "INFO" {
		t.Errorf("log = %v, want one INFO line reporting count 2", lines)
	}

	// A second run finds nothing left to do and says nothing.
	logs.Reset()
	if err := jobs.CheckPending(ctx); err != nil {
		t.Fatal(err)
	}
	if logs.Len() != 0 {
		t.Errorf("a run that changed nothing logged: %s", logs.String())
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
