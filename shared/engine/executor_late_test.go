package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
)

// beforeTheSwap is engine.FileSnapshots with act run just before the merge lists dir for the
// last time before the swap (its second listing for a comparison, after the staging output is
// validated), and query, when set, run when the merge carries late files over after the swap.
type beforeTheSwap struct {
	engine.FileSnapshots
	dir   string
	act   func() error
	query func() (hive.Checksum, error)

	mu          sync.Mutex
	compared    int
	atCarryOver []hive.Checksum
}

func (w *beforeTheSwap) Changed(ctx context.Context, fs fsys.FS, dir string, snap *engine.Snapshot) (engine.Diff, error) {
	w.mu.Lock()
	if dir == w.dir {
		w.compared++
		if w.compared == 2 {
			if err := w.act(); err != nil {
				w.mu.Unlock()
				return engine.Diff{}, err
			}
		}
	}
	w.mu.Unlock()
	return w.FileSnapshots.Changed(ctx, fs, dir, snap)
}

func (w *beforeTheSwap) CarryOver(ctx context.Context, fs fsys.FS, snap *engine.Snapshot, oldDir, newDir string) ([]string, error) {
	if oldDir == w.dir && w.query != nil {
		got, err := w.query()
		if err != nil {
			return nil, err
		}
		w.mu.Lock()
		w.atCarryOver = append(w.atCarryOver, got)
		w.mu.Unlock()
	}
	return w.FileSnapshots.CarryOver(ctx, fs, snap, oldDir, newDir)
}

// TestLateFileBeforeTheSwap: a file a writer commits to the old location after the staging
// output is validated and before the swap is in the new location when it goes live, so a
// reader never misses its rows; it is not carried over again, also by a worker that resumes
// after the swap, and cleanup deletes the original with the files read. An original changed
// after it was copied is neither deleted nor carried over (its copy is live), and cleanup
// says so.
func TestLateFileBeforeTheSwap(t *testing.T) {
	for _, tc := range []struct {
		name string
		// run runs the task to its end.
		run func(t *testing.T, e *env, id string) *merge.Task
		// rewrite changes the copied original in the backup after the merge.
		rewrite bool
		// rollback rolls the task back after it: the copy goes, the original is the data.
		rollback bool
	}{
		{"one worker", func(t *testing.T, e *env, id string) *merge.Task {
			return e.run(t, id, "w")
		}, false, false},
		{"worker killed after the swap", func(t *testing.T, e *env, id string) *merge.Task {
			e.kill(t, id, "w1", `^ANALYZE TABLE.*2024-01-01`)
			e.expire(t)
			return e.run(t, id, "w2")
		}, false, false},
		{"worker killed before recording the swap", func(t *testing.T, e *env, id string) *merge.Task {
			// The worker dies in its swap, after recording validated; the swap reached the
			// metastore but not the task.
			e.kill(t, id, "w1", "^ALTER TABLE `m`.`logs` PARTITION .*2024-01-01.* SET LOCATION")
			task, err := e.svc.GetTask(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			p := task.Checkpoint.Partitions[0]
			if p.Step != merge.StepValidated {
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
			got := e.run(t, id, "w2")
			if logs := e.logs(t, id); !strings.Contains(logs, "already points at the merged files") {
				t.Errorf("the resumed worker did not find the swap:\n%s", logs)
			}
			return got
		}, false, false},
		{"original changed after the copy", func(t *testing.T, e *env, id string) *merge.Task {
			return e.run(t, id, "w")
		}, true, false},
		{"rolled back", func(t *testing.T, e *env, id string) *merge.Task {
			return e.run(t, id, "w")
		}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := newEnv(t)
			backups, err := bolt.Open(filepath.Join(t.TempDir(), "backups.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { backups.Close() })
			e.ex.Backups, e.ex.Retention = backups, keep
			e.logsTable(t)
			rows := [][]string{{"9001", "late-a"}, {"9002", "late-b"}}
			late := e.lateChecksum(t, rows)
			before := e.state(t, "logs")
			part := map[string]string{"dt": "2024-01-01"}
			spec, err := hql.NewSpec([]hql.Column{{Name: "dt", Type: "string"}}, part)
			if err != nil {
				t.Fatal(err)
			}
			reader := e.newClient(t)
			var lateFile string
			w := &beforeTheSwap{
				dir: path(t, before.location["dt=2024-01-01"]),
				act: func() (err error) {
					lateFile, err = e.srv.Warehouse().AppendFile(ctx, "m", "logs", part, rows)
					return err
				},
				query: func() (hive.Checksum, error) {
					return reader.Checksum(ctx, hql.Table{Database: "m", Name: "logs"}, []string{"id", "msg"}, spec)
				},
			}
			e.ex.Snapshots = w
			want := before.rows["dt=2024-01-01"]
			want.Rows, want.Sum = want.Rows+late.Rows, want.Sum+late.Sum

			task := e.newTask(t, "logs", merge.StrategySafeMerge)
			stop := e.startReader(t, "logs", late)
			got := tc.run(t, e, task.ID)
			stop()
			if got.Status != merge.StatusSuccess {
				t.Fatalf("status %s: %s\n%s", got.Status, got.Error, e.logs(t, task.ID))
			}
			if lateFile == "" {
				t.Fatal("the writer never wrote")
			}
			if len(w.atCarryOver) == 0 {
				t.Fatal("no carry-over after the swap")
			}
			for i, c := range w.atCarryOver {
				if c != want {
					t.Errorf("carry-over %d: right after the swap the partition has %+v, want %+v with the late rows", i+1, c, want)
				}
			}
			after := e.state(t, "logs")
			if after.rows["dt=2024-01-01"] != want || after.rows["dt=2024-01-02"] != before.rows["dt=2024-01-02"] {
				t.Errorf("rows after the merge %v, want %+v with the late rows once\n%s", after.rows, want, e.logs(t, task.ID))
			}
			p := got.Checkpoint.Partitions[0]
			if p.Partition != "dt=2024-01-01" || p.LateFiles != 1 {
				t.Errorf("partition %s recorded %d late files, want 1", p.Partition, p.LateFiles)
			}
			if logs := e.logs(t, task.ID); !strings.Contains(logs, "copied into the merged location before the swap") || strings.Contains(logs, "carried 1 file(s) a writer added") {
				t.Errorf("logs do not say the late file was copied before the swap, or say it was carried again:\n%s", logs)
			}

			original := filepath.Join(path(t, p.BackupLocation), filepath.Base(lateFile))
			if tc.rollback {
				if _, err := e.ex.Rollback(ctx, task.ID, "tester"); err != nil {
					t.Fatal(err)
				}
				rolled := e.state(t, "logs")
				if rolled.rows["dt=2024-01-01"] != want || rolled.location["dt=2024-01-01"] != before.location["dt=2024-01-01"] {
					t.Errorf("after the rollback dt=2024-01-01 has %+v at %s, want %+v at %s: the late rows once", rolled.rows["dt=2024-01-01"], rolled.location["dt=2024-01-01"], want, before.location["dt=2024-01-01"])
				}
				if _, err := os.Stat(original); err != nil {
					t.Errorf("the late file's original is gone after the rollback: %v", err)
				}
				return
			}
			if tc.rewrite {
				// The writer appends to its file in the old location after the swap.
				data, err := os.ReadFile(original)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(original, append(data, "9003|late-c\n"...), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			e.clock.Advance(keep + time.Hour)
			due, err := backups.BackupsDue(ctx, e.clock.Now(), 10)
			if err != nil || len(due) != 2 {
				t.Fatalf("due: %d, %v", len(due), err)
			}
			for _, b := range due {
				res, err := e.ex.CleanupBackup(ctx, b)
				if err != nil {
					t.Fatalf("CleanupBackup(%s): %v", b.Partition, err)
				}
				if b.Partition != p.Partition {
					continue
				}
				wantDeleted, wantKept := p.FilesBefore+1, 0
				if tc.rewrite {
					wantDeleted, wantKept = p.FilesBefore, 1
				}
				if res.Outcome != merge.BackupCleaned || int64(res.Deleted) != wantDeleted || res.Carried != 0 || res.Kept != wantKept {
					t.Errorf("cleanup of %s: %+v, want %d file(s) deleted, %d kept, none carried", b.Partition, res, wantDeleted, wantKept)
				}
				_, err = os.Stat(original)
				switch {
				case tc.rewrite && (err != nil || !strings.Contains(res.Note, "modified since the snapshot")):
					t.Errorf("the changed original: %v; note %q, want it kept and named", err, res.Note)
				case !tc.rewrite && !errors.Is(err, os.ErrNotExist):
					t.Errorf("the copied original is still in the backup: %v", err)
				}
			}
			final := e.state(t, "logs")
			if final.rows["dt=2024-01-01"] != want {
				t.Errorf("rows after cleanup %+v, want %+v: the late rows once", final.rows["dt=2024-01-01"], want)
			}
		})
	}
}
