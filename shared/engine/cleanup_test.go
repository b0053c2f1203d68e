package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
)

// cleanupEnv is an env whose executor records backups, with a table m.logs of two
// partitions merged by one safe_merge task.
type cleanupEnv struct {
	*env
	backups merge.BackupStore
	task    *merge.Task
	before  state // before the merge
}

const keep = 72 * time.Hour

func mergedForCleanup(t *testing.T) *cleanupEnv {
	t.Helper()
	e := newEnv(t)
	st, err := bolt.Open(filepath.Join(t.TempDir(), "backups.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.ex.Backups, e.ex.Retention = st, keep
	e.exec(t, "CREATE TABLE m.logs (id bigint, msg string) PARTITIONED BY (dt string) STORED AS TEXTFILE")
	e.files(t, "logs", map[string]string{"dt": "2024-01-01"}, 20, 2)
	e.files(t, "logs", map[string]string{"dt": "2024-01-02"}, 8, 3)
	ce := &cleanupEnv{env: e, backups: st, before: e.state(t, "logs")}
	ce.task = e.newTask(t, "logs", merge.StrategySafeMerge)
	if got := e.run(t, ce.task.ID, "w"); got.Status != merge.StatusSuccess {
		t.Fatalf("status %s: %s\n%s", got.Status, got.Error, e.logs(t, ce.task.ID))
	}
	return ce
}

// cleanup runs CleanupBackup on every record due now and returns the outcomes by partition.
func (ce *cleanupEnv) cleanup(t *testing.T) map[string]engine.BackupResult {
	t.Helper()
	ctx := context.Background()
	due, err := ce.backups.BackupsDue(ctx, ce.clock.Now(), 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]engine.BackupResult{}
	for _, b := range due {
		res, err := ce.ex.CleanupBackup(ctx, b)
		if err != nil {
			t.Fatalf("CleanupBackup(%s): %v", b.Partition, err)
		}
		out[b.Partition] = res
	}
	return out
}

func (ce *cleanupEnv) checkpoint(t *testing.T) *merge.Checkpoint {
	t.Helper()
	task, err := ce.svc.GetTask(context.Background(), ce.task.ID)
	if err != nil {
		t.Fatal(err)
	}
	return task.Checkpoint
}

// intact fails unless every backup still holds all the files the merge read.
func (ce *cleanupEnv) intact(t *testing.T) {
	t.Helper()
	for _, p := range ce.checkpoint(t).Partitions {
		if files, _ := walk(t, p.BackupLocation); files != p.FilesBefore {
			t.Errorf("backup of %s holds %d files, want the %d read", p.Partition, files, p.FilesBefore)
		}
	}
}

func TestCleanupDeletesOnlyWhatTheMergeRead(t *testing.T) {
	ce := mergedForCleanup(t)
	ctx := context.Background()
	cp := ce.checkpoint(t)
	for _, p := range cp.Partitions {
		b, err := ce.backups.GetBackup(ctx, merge.BackupID(ce.task.ID, p.Partition))
		if err != nil {
			t.Fatalf("no backup record of %s: %v", p.Partition, err)
		}
		if b.Location != p.BackupLocation || !b.Due.Equal(p.KeepUntil) || len(b.Snapshot) == 0 {
			t.Errorf("record %+v does not match partition %+v", b, p)
		}
	}
	// Within the keep period nothing is due.
	if got := ce.cleanup(t); len(got) != 0 {
		t.Fatalf("cleanup within the keep period: %v", got)
	}
	ce.intact(t)

	// A writer that resolved the old location before the swap commits a file there after it.
	e := ce.env
	e.exec(t, "CREATE TABLE m.late (id bigint, msg string) STORED AS TEXTFILE")
	e.files(t, "late", nil, 1, 2)
	late := e.state(t, "late").rows[""]
	lateDir := path(t, e.state(t, "late").location[""])
	entries, err := os.ReadDir(lateDir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("late table: %v %v", entries, err)
	}
	data, err := os.ReadFile(filepath.Join(lateDir, entries[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	old := path(t, ce.before.location["dt=2024-01-01"])
	if err := os.WriteFile(filepath.Join(old, "late_000"), data, 0o644); err != nil {
		t.Fatal(err)
	}

	ce.clock.Advance(keep + time.Hour)
	records, err := ce.backups.BackupsDue(ctx, ce.clock.Now(), 10)
	if err != nil || len(records) != 2 {
		t.Fatalf("due: %d, %v", len(records), err)
	}
	got := ce.cleanup(t)
	for _, p := range cp.Partitions {
		res := got[p.Partition]
		if res.Outcome != merge.BackupCleaned || int64(res.Deleted) != p.FilesBefore || res.Bytes != p.BytesBefore || res.Kept != 0 {
			t.Errorf("partition %s: %+v, want %d files (%d bytes) deleted", p.Partition, res, p.FilesBefore, p.BytesBefore)
		}
		if _, err := os.Stat(path(t, p.BackupLocation)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("backup %s is still there: %v", p.BackupLocation, err)
		}
	}
	if got["dt=2024-01-01"].Carried != 1 || got["dt=2024-01-02"].Carried != 0 {
		t.Errorf("carried %d and %d files, want the late one only", got["dt=2024-01-01"].Carried, got["dt=2024-01-02"].Carried)
	}
	// No row is lost: the merged rows plus the late file's.
	after := e.state(t, "logs")
	want := ce.before.rows["dt=2024-01-01"]
	want.Rows, want.Sum = want.Rows+late.Rows, want.Sum+late.Sum
	if after.rows["dt=2024-01-01"] != want || after.rows["dt=2024-01-02"] != ce.before.rows["dt=2024-01-02"] {
		t.Errorf("rows after cleanup %v, want %v and %v", after.rows, want, ce.before.rows["dt=2024-01-02"])
	}
	for _, p := range ce.checkpoint(t).Partitions {
		if p.BackupCleaned.IsZero() || !strings.Contains(p.BackupNote, "deleted") {
			t.Errorf("checkpoint of %s does not record the cleanup: %q at %s", p.Partition, p.BackupNote, p.BackupCleaned)
		}
	}
	if logs := e.logs(t, ce.task.ID); !strings.Contains(logs, "carried 1 file(s)") || !strings.Contains(logs, "backup directory is removed") {
		t.Errorf("logs do not say what cleanup did:\n%s", logs)
	}

	// A second run has nothing to do, and a rollback is refused: the backup is gone.
	if got := ce.cleanup(t); len(got) != 0 {
		t.Errorf("second cleanup: %v", got)
	}
	// Even a run that read the records before the first one removed them deletes nothing.
	for _, b := range records {
		if res, err := e.ex.CleanupBackup(ctx, b); err != nil || res.Outcome != merge.BackupDropped || res.Deleted+res.Carried != 0 {
			t.Errorf("CleanupBackup of a cleaned record = %+v, %v; want it dropped", res, err)
		}
	}
	if _, err := e.ex.Rollback(ctx, ce.task.ID, "tester"); !errors.Is(err, merge.ErrConflict) || !strings.Contains(err.Error(), "deleted") {
		t.Errorf("Rollback after cleanup = %v, want a conflict saying the backup was deleted", err)
	}
	if final := e.state(t, "logs"); describe(final) != describe(after) {
		t.Errorf("the refused rollback changed the table:\n%s\n%s", describe(after), describe(final))
	}
}

func TestCleanupLeavesRolledBackPartitions(t *testing.T) {
	ce := mergedForCleanup(t)
	ctx := context.Background()
	if _, err := ce.ex.Rollback(ctx, ce.task.ID, "tester"); err != nil {
		t.Fatal(err)
	}
	ce.clock.Advance(keep + time.Hour)
	for part, res := range ce.cleanup(t) {
		if res.Outcome != merge.BackupDropped || res.Deleted != 0 {
			t.Errorf("partition %s: %+v, want the record dropped and nothing deleted", part, res)
		}
	}
	ce.intact(t)
	if after := ce.state(t, "logs"); describe(after) != describe(ce.before) {
		t.Errorf("table changed:\n%s\n%s", describe(ce.before), describe(after))
	}
	if due, err := ce.backups.BackupsDue(ctx, ce.clock.Now().Add(keep), 10); err != nil || len(due) != 0 {
		t.Errorf("records left: %d, %v", len(due), err)
	}
}

func TestCleanupLeavesABackupTheTablePointsAt(t *testing.T) {
	ce := mergedForCleanup(t)
	ctx := context.Background()
	// Someone points a partition back at its original files by hand.
	ce.exec(t, "ALTER TABLE m.logs PARTITION (dt='2024-01-01') SET LOCATION '"+ce.before.location["dt=2024-01-01"]+"'")
	ce.clock.Advance(keep + time.Hour)
	got := ce.cleanup(t)
	res := got["dt=2024-01-01"]
	if res.Outcome != merge.BackupKept || res.Deleted != 0 || !strings.Contains(res.Note, "points at the backup") {
		t.Errorf("partition dt=2024-01-01: %+v, want it kept", res)
	}
	if got["dt=2024-01-02"].Outcome != merge.BackupCleaned {
		t.Errorf("partition dt=2024-01-02: %+v, want it cleaned", got["dt=2024-01-02"])
	}
	if files, _ := walk(t, ce.before.location["dt=2024-01-01"]); files != 20 {
		t.Errorf("the backup the table points at holds %d files, want 20", files)
	}
	if rows := ce.state(t, "logs").rows["dt=2024-01-01"]; rows != ce.before.rows["dt=2024-01-01"] {
		t.Errorf("rows %v, want %v", rows, ce.before.rows["dt=2024-01-01"])
	}
	b, err := ce.backups.GetBackup(ctx, merge.BackupID(ce.task.ID, "dt=2024-01-01"))
	if err != nil || !b.Due.After(ce.clock.Now()) || b.Note == "" {
		t.Errorf("record %+v, %v: want it kept, due later, with the reason", b, err)
	}
	for _, p := range ce.checkpoint(t).Partitions {
		if p.Partition == "dt=2024-01-01" && (!p.BackupCleaned.IsZero() || !strings.Contains(p.BackupNote, "points at the backup")) {
			t.Errorf("checkpoint: cleaned %s, note %q", p.BackupCleaned, p.BackupNote)
		}
	}
	// Looked at again later, it is still left alone, and says so once.
	ce.clock.Advance(engine.BackupRecheck + time.Hour)
	if res := ce.cleanup(t)["dt=2024-01-01"]; res.Outcome != merge.BackupKept {
		t.Errorf("second look: %+v", res)
	}
	if n := strings.Count(ce.logs(t, ce.task.ID), "points at the backup"); n != 1 {
		t.Errorf("the reason is logged %d times, want once", n)
	}
}

func TestCleanupFinishesAfterAFailure(t *testing.T) {
	ce := mergedForCleanup(t)
	ctx := context.Background()
	ce.clock.Advance(keep + time.Hour)
	remove := ce.srv.Inject(hivesandbox.Fault{Match: `^DESCRIBE`, Action: hivesandbox.FaultFail, Message: "metastore unreachable"})
	due, err := ce.backups.BackupsDue(ctx, ce.clock.Now(), 10)
	if err != nil || len(due) != 2 {
		t.Fatalf("due: %d, %v", len(due), err)
	}
	for _, b := range due {
		if _, err := ce.ex.CleanupBackup(ctx, b); err == nil || !strings.Contains(err.Error(), "metastore unreachable") {
			t.Errorf("CleanupBackup with Hive failing = %v", err)
		}
	}
	remove()
	ce.intact(t)
	for _, p := range ce.checkpoint(t).Partitions {
		if !p.BackupCleaned.IsZero() {
			t.Errorf("partition %s marked cleaned after a failure", p.Partition)
		}
	}
	// The records stayed due: the next run finishes.
	got := ce.cleanup(t)
	for _, p := range ce.checkpoint(t).Partitions {
		if got[p.Partition].Outcome != merge.BackupCleaned || int64(got[p.Partition].Deleted) != p.FilesBefore || p.BackupCleaned.IsZero() {
			t.Errorf("partition %s: %+v", p.Partition, got[p.Partition])
		}
	}
	if describe(ce.state(t, "logs").rows) != describe(ce.before.rows) {
		t.Error("rows changed")
	}
}
