package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// writerAfterListing is engine.FileSnapshots with a writer outside Hive that commits a file of
// two rows to dir right after the merge lists it, times times: the file is in the directory
// for every statement that follows, but not in the snapshot.
type writerAfterListing struct {
	engine.FileSnapshots
	dir   string
	times int

	mu      sync.Mutex
	written int
}

func (w *writerAfterListing) Take(ctx context.Context, fs fsys.FS, dir string) (*engine.Snapshot, error) {
	snap, err := w.FileSnapshots.Take(ctx, fs, dir)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil && dir == w.dir && w.written < w.times {
		w.written++
		data := fmt.Sprintf("%d|late\n%d|late\n", 9000+2*w.written, 9001+2*w.written)
		err = os.WriteFile(filepath.Join(dir, fmt.Sprintf("late_%d", w.written)), []byte(data), 0o644)
	}
	return snap, err
}

// TestWriterAfterTheListing: a file committed between the listing of the source and the
// source's checksum is read by the checksum and by the merge, so it is in the merged files;
// it must not also be carried over as a late file after the swap, which doubled its rows.
// The merge reads the partition again; a writer that keeps writing makes it give up. Either
// way every row is there exactly once.
func TestWriterAfterTheListing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		times  int
		status merge.Status
		log    string
	}{
		{"once", 1, merge.StatusSuccess, "reading it again"},
		{"every time", 10, merge.StatusFailed, "a writer is busy with it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.logsTable(t)
			before := e.state(t, "logs")
			w := &writerAfterListing{dir: path(t, before.location["dt=2024-01-01"]), times: tc.times}
			e.ex.Snapshots = w
			task := e.newTask(t, "logs", merge.StrategySafeMerge)

			got := e.run(t, task.ID, "w")
			logs := e.logs(t, task.ID)
			if got.Status != tc.status || !strings.Contains(got.Error+logs, tc.log) {
				t.Errorf("status %s: %s\n%s", got.Status, got.Error, logs)
			}
			after := e.state(t, "logs")
			if n, want := after.rows["dt=2024-01-01"].Rows, before.rows["dt=2024-01-01"].Rows+int64(2*w.written); n != want {
				t.Errorf("dt=2024-01-01 has %d rows, want %d: the late rows are lost or doubled", n, want)
			}
			if after.rows["dt=2024-01-02"] != before.rows["dt=2024-01-02"] {
				t.Errorf("dt=2024-01-02 changed")
			}
			if left := e.stagingTables(t); left != nil {
				t.Errorf("staging tables left: %v", left)
			}
		})
	}
}
