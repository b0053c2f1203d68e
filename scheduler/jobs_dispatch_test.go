package scheduler

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// workers records the tasks handed to it and has room for room of them; beyond, Submit fails
// with full (ErrUnavailable when nil).
type workers struct {
	room      int
	full      error
	submitted []string
}

func (w *workers) Submit(id string) (bool, error) {
	if len(w.submitted) >= w.room {
		if w.full != nil {
			return false, w.full
		}
		return false, merge.Errorf(merge.ErrUnavailable, "no worker free")
	}
	w.submitted = append(w.submitted, id)
	return true, nil
}

// TestDispatch runs the dispatch job over a real store holding ten pending tasks of policy
// "nightly" (max_running_per_cluster 2), one a person created, and, in some cases, one of the
// policy's tasks already running: only the policy's oldest tasks go to the workers, never more
// than its cap on the cluster, and none while its windows are closed.
func TestDispatch(t *testing.T) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	nightly := []merge.Window{{Start: "0 2 * * *", DurationMinutes: 60}}
	tests := []struct {
		name    string
		windows []merge.Window
		at      time.Time
		running bool
		room    int
		full    error
		want    int // how many of the oldest pending tasks are dispatched
		counts  map[string]int64
		wantErr bool
	}{
		{name: "no windows", at: day.Add(12 * time.Hour), room: 10, want: 2,
			counts: map[string]int64{"pending": 11, "dispatched": 2, "capped": 8, "outside_window": 0, "not_policy": 1}},
		{name: "window open", windows: nightly, at: day.Add(150 * time.Minute), room: 10, want: 2,
			counts: map[string]int64{"pending": 11, "dispatched": 2, "capped": 8, "outside_window": 0, "not_policy": 1}},
		{name: "window closed", windows: nightly, at: day.Add(5 * time.Hour), room: 10, want: 0,
			counts: map[string]int64{"pending": 11, "dispatched": 0, "capped": 0, "outside_window": 10, "not_policy": 1}},
		{name: "one already running", at: day.Add(12 * time.Hour), running: true, room: 10, want: 1,
			counts: map[string]int64{"pending": 10, "dispatched": 1, "capped": 8, "outside_window": 0, "not_policy": 1}},
		{name: "workers full", at: day.Add(12 * time.Hour), room: 1, want: 1,
			counts: map[string]int64{"pending": 11, "dispatched": 1, "capped": 0, "outside_window": 0, "not_policy": 0}},
		// ExecuteTask's 429: the rest wait for the next run, as with full workers.
		{name: "executor busy", at: day.Add(12 * time.Hour), room: 1, full: merge.Errorf(merge.ErrBusy, "no instance free"), want: 1,
			counts: map[string]int64{"pending": 11, "dispatched": 1, "capped": 0, "outside_window": 0, "not_policy": 0}},
		// A hand-off that failed (ExecuteTask down) fails the run; the task stays pending.
		{name: "hand-off fails", at: day.Add(12 * time.Hour), room: 1, full: errors.New("could not hand task over"), want: 1,
			counts: map[string]int64{"pending": 11, "dispatched": 1}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			st := openBolt(t)
			now := tc.at
			clock := func() time.Time { return now }
			svc := merge.NewService(st, st).WithClock(clock)
			if _, err := svc.CreateCluster(ctx, merge.Cluster{ID: "demo", Host: "127.0.0.1", Auth: merge.AuthNoSASL, MaxRunningTasks: 5}); err != nil {
				t.Fatal(err)
			}
			if err := st.CreatePolicy(ctx, &merge.Policy{Name: "nightly", Enabled: true, Windows: tc.windows,
				MaxRunningPerCluster: 2, MaxTasksPerRun: 10, Strategy: merge.StrategySafeMerge}); err != nil {
				t.Fatal(err)
			}
			create := func(table, by string) *merge.Task {
				t.Helper()
				task, err := svc.CreateTask(ctx, merge.CreateTaskRequest{ClusterID: "demo", Name: table, Database: "sales",
					Table: table, Strategy: merge.StrategySafeMerge, CreatedBy: by})
				if err != nil {
					t.Fatal(err)
				}
				now = now.Add(time.Second) // distinct creation times, oldest first
				return task
			}
			var oldest []string
			for i := range 10 {
				task := create(fmt.Sprintf("t%d", i), merge.CreatedByPolicy("nightly"))
				oldest = append(oldest, task.ID)
			}
			create("by_hand", "ada")
			if tc.running {
				if _, err := svc.Claim(ctx, oldest[0], "worker-1", time.Hour); err != nil {
					t.Fatal(err)
				}
				oldest = oldest[1:]
			}
			now = tc.at

			w := &workers{room: tc.room, full: tc.full}
			s := NewService(svc, st, nil, ServiceConfig{Owner: "test"}).WithClock(clock)
			out, err := s.Dispatch(ctx, w, st)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Dispatch error = %v, want an error: %v", err, tc.wantErr)
			}
			if want := oldest[:tc.want]; !slices.Equal(w.submitted, want) {
				t.Errorf("submitted %v, want the oldest %v", w.submitted, want)
			}
			for k, v := range tc.counts {
				if out.Counts[k] != v {
					t.Errorf("counts[%s] = %d, want %d (all: %v)", k, out.Counts[k], v, out.Counts)
				}
			}
		})
	}
}
