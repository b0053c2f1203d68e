package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/secretref"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
)

// TestCleanupFailureMovesTheRecordBack: a backup whose cleanup fails (here its cluster is no
// longer registered) is counted and stays, due again a little later, so that records that keep
// failing cannot hold the head of the queue, which is taken earliest due first.
func TestCleanupFailureMovesTheRecordBack(t *testing.T) {
	ctx := context.Background()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "hivemerge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := merge.NewService(st, st)
	r := NewClusters(svc, secretref.New(func(string) string { return "" }), nil, nil)
	r.Backups = st
	t.Cleanup(func() { r.Close() })
	e := newEngine(svc, r, engineSettings{mode: ModeSync}, nil)
	t.Cleanup(e.stop)

	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	b := &merge.Backup{ID: merge.BackupID("0123456789abcdef0123456789abcdef", "dt=1"), TaskID: "0123456789abcdef0123456789abcdef",
		ClusterID: "gone", Partition: "dt=1", Location: "file:///w/t/dt=1", Live: "file:///w/t/.hivemerge-x/dt=1",
		Snapshot: []byte(`{"fingerprint":"x","count":0,"bytes":0,"files":[]}`), CreatedAt: now.Add(-8 * 24 * time.Hour), Due: now.Add(-time.Hour)}
	if err := st.PutBackup(ctx, b); err != nil {
		t.Fatal(err)
	}

	rep, err := e.CleanupBackups(ctx, now)
	if err == nil || rep.Checked != 1 || rep.Failed != 1 || rep.Cleaned != 0 {
		t.Fatalf("CleanupBackups = %+v, %v; want one failure", rep, err)
	}
	got, err := st.GetBackup(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Due.Equal(now.Add(failedRetry)) || !strings.Contains(got.Note, "the last cleanup failed") {
		t.Errorf("after a failure the record is due %s with note %q; want %s and the failure", got.Due, got.Note, now.Add(failedRetry))
	}
	if rep, err := e.CleanupBackups(ctx, now); err != nil || rep.Checked != 0 {
		t.Errorf("a run at the same time again = %+v, %v; want nothing due", rep, err)
	}
	if rep, _ := e.CleanupBackups(ctx, now.Add(failedRetry)); rep.Checked != 1 {
		t.Errorf("a run once it is due again checked %d backups, want 1", rep.Checked)
	}
}
