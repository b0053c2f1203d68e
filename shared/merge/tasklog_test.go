package merge_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
)

// plainStore hides the LoggingStore method of the store it wraps.
type plainStore struct{ merge.Store }

func TestLogged(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plain bool
	}{
		{"logging store", false},
		{"plain store", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st, err := bolt.Open(filepath.Join(t.TempDir(), "tasks.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			var tasks merge.Store = st
			if tc.plain {
				tasks = plainStore{st}
			}
			clock := &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
			svc := merge.NewService(tasks, st).WithClock(clock.Now)
			if _, err := svc.CreateCluster(ctx, merge.Cluster{ID: "demo", Host: "127.0.0.1"}); err != nil {
				t.Fatal(err)
			}
			task := create(t, svc, "events")
			// The creation is the log's first entry; what follows comes after it.
			created, err := svc.TaskLogs(ctx, task.ID, 0, 10)
			if err != nil || len(created) != 1 || created[0].Message != "created by an unnamed caller" {
				t.Fatalf("log after create: %+v, %v", created, err)
			}
			after := created[0].Seq
			if _, err := svc.Claim(ctx, task.ID, "w1", time.Minute); err != nil {
				t.Fatal(err)
			}
			cp := &merge.Checkpoint{Strategy: merge.StrategySafeMerge, Partitions: []merge.PartitionCheckpoint{{Partition: "dt=1", Step: merge.StepStaged}}}
			lines := []merge.LogEntry{{Step: "staged", Message: "ran", SQL: "INSERT"}, {Level: merge.LevelDebug, Message: "hive: line"}}

			// A worker that does not hold the task records neither the checkpoint nor the lines.
			_, err = svc.Logged(lines...).SaveCheckpoint(ctx, task.ID, "w2", time.Minute, cp, merge.Progress{})
			wantKind(t, err, merge.ErrConflict)
			if logs, _ := svc.TaskLogs(ctx, task.ID, after, 10); len(logs) != 0 {
				t.Fatalf("a refused save appended %+v", logs)
			}

			got, err := svc.Logged(lines...).SaveCheckpoint(ctx, task.ID, "w1", time.Minute, cp, merge.Progress{Step: "staged", Percent: 40})
			if err != nil || got.Checkpoint == nil || got.Progress != 40 {
				t.Fatalf("SaveCheckpoint: %+v, %v", got, err)
			}
			if _, err := svc.Logged(merge.LogEntry{Message: "done"}).Finish(ctx, task.ID, "w1", merge.StatusSuccess, merge.Stats{}, ""); err != nil {
				t.Fatal(err)
			}
			logs, err := svc.TaskLogs(ctx, task.ID, after, 10)
			if err != nil || len(logs) != 3 {
				t.Fatalf("logs %+v, %v", logs, err)
			}
			for i, want := range []merge.LogEntry{
				{Level: merge.LevelInfo, Step: "staged", Message: "ran", SQL: "INSERT"},
				{Level: merge.LevelDebug, Message: "hive: line"},
				{Level: merge.LevelInfo, Message: "done"},
			} {
				want.Seq, want.Time = logs[i].Seq, clock.Now().UTC()
				if logs[i] != want {
					t.Errorf("entry %d: %+v, want %+v", i, logs[i], want)
				}
			}
		})
	}
}
