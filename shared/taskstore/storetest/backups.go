package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// backupStore returns the backup port of s: a store that keeps tasks keeps their backup
// records too.
func backupStore(t *testing.T, s Stores) merge.BackupStore {
	t.Helper()
	bs, ok := s.Tasks.(merge.BackupStore)
	if !ok {
		t.Fatalf("%T does not implement merge.BackupStore", s.Tasks)
	}
	return bs
}

// runBackupCases runs the cases of the backup port, each on fresh stores.
func runBackupCases(t *testing.T, newStores func(t *testing.T) Stores) {
	for _, c := range []struct {
		name string
		run  func(t *testing.T, bs merge.BackupStore)
	}{
		{"BackupsPutGetReplace", testBackupsPutGetReplace},
		{"BackupsDue", testBackupsDue},
		{"BackupsDelete", testBackupsDelete},
		{"BackupsInvalid", testBackupsInvalid},
		{"BackupsLargeSnapshot", testBackupsLargeSnapshot},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, backupStore(t, newStores(t))) })
	}
}

func backup(task, partition string, due int) *merge.Backup {
	return &merge.Backup{
		ID: merge.BackupID(task, partition), TaskID: task, ClusterID: "prod", Partition: partition,
		Location:  "hdfs://nn/warehouse/web.db/events/" + partition,
		Live:      "hdfs://nn/warehouse/web.db/events/.hivemerge-" + task + "/" + partition,
		Snapshot:  []byte(`{"fingerprint":"x","count":1,"bytes":3,"files":[["000000_0",3,1714550400000]]}`),
		CreatedAt: at(0), Due: at(due),
	}
}

func checkBackup(t *testing.T, got, want *merge.Backup) {
	t.Helper()
	if got.ID != want.ID || got.TaskID != want.TaskID || got.ClusterID != want.ClusterID || got.Partition != want.Partition ||
		got.Location != want.Location || got.Live != want.Live || string(got.Snapshot) != string(want.Snapshot) ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.Due.Equal(want.Due) || got.Note != want.Note {
		t.Errorf("backup = %+v, want %+v", got, want)
	}
}

func testBackupsPutGetReplace(t *testing.T, bs merge.BackupStore) {
	ctx := context.Background()
	b := backup("t1", "dt=2024-01-01/hr=00", 10)
	if err := bs.PutBackup(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := bs.GetBackup(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkBackup(t, got, b)

	// A resumed merge records its snapshot again: the record and its due time are replaced.
	b2 := backup("t1", "dt=2024-01-01/hr=00", 20)
	b2.Note = "the table points at the backup"
	if err := bs.PutBackup(ctx, b2); err != nil {
		t.Fatal(err)
	}
	got, err = bs.GetBackup(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkBackup(t, got, b2)
	if due, err := bs.BackupsDue(ctx, at(15), 10); err != nil || len(due) != 0 {
		t.Errorf("BackupsDue(at 15) after the due time moved to 20 = %d records, %v; want none", len(due), err)
	}

	if _, err := bs.GetBackup(ctx, merge.BackupID("t9", "")); !errors.Is(err, merge.ErrNotFound) {
		t.Errorf("GetBackup(unknown) = %v, want ErrNotFound", err)
	}
}

func testBackupsDue(t *testing.T, bs merge.BackupStore) {
	ctx := context.Background()
	for _, b := range []*merge.Backup{backup("t3", "", 30), backup("t1", "dt=1", 10), backup("t2", "dt=2", 20), backup("t1", "dt=2", 12)} {
		if err := bs.PutBackup(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		t     time.Time
		limit int
		want  []string // task/partition, in order
	}{
		{"none due", at(9), 10, nil},
		{"due time is inclusive", at(12), 10, []string{"t1/dt=1", "t1/dt=2"}},
		{"earliest first", at(25), 10, []string{"t1/dt=1", "t1/dt=2", "t2/dt=2"}},
		{"limit", at(40), 1, []string{"t1/dt=1"}},
		{"all", at(40), 10, []string{"t1/dt=1", "t1/dt=2", "t2/dt=2", "t3/"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := bs.BackupsDue(ctx, c.t, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, b := range got {
				names = append(names, b.TaskID+"/"+b.Partition)
			}
			if strings.Join(names, " ") != strings.Join(c.want, " ") {
				t.Errorf("BackupsDue = %v, want %v", names, c.want)
			}
		})
	}
	if _, err := bs.BackupsDue(ctx, at(40), 0); !errors.Is(err, merge.ErrInvalid) {
		t.Errorf("BackupsDue(limit 0) = %v, want ErrInvalid", err)
	}
}

func testBackupsDelete(t *testing.T, bs merge.BackupStore) {
	ctx := context.Background()
	b := backup("t1", "dt=1", 10)
	if err := bs.PutBackup(ctx, b); err != nil {
		t.Fatal(err)
	}
	for range 2 { // a second delete is no error
		if err := bs.DeleteBackup(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := bs.GetBackup(ctx, b.ID); !errors.Is(err, merge.ErrNotFound) {
		t.Errorf("GetBackup after delete = %v, want ErrNotFound", err)
	}
	if due, err := bs.BackupsDue(ctx, at(40), 10); err != nil || len(due) != 0 {
		t.Errorf("BackupsDue after delete = %d records, %v; want none", len(due), err)
	}
}

func testBackupsInvalid(t *testing.T, bs merge.BackupStore) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		edit func(b *merge.Backup)
	}{
		{"id not of its task and partition", func(b *merge.Backup) { b.ID = "t1-x" }},
		{"id with a slash", func(b *merge.Backup) { b.ID = "a/b" }},
		{"no task", func(b *merge.Backup) { b.TaskID = "" }},
		{"no location", func(b *merge.Backup) { b.Location = "" }},
		{"no live location", func(b *merge.Backup) { b.Live = "" }},
		{"no snapshot", func(b *merge.Backup) { b.Snapshot = nil }},
		{"no due time", func(b *merge.Backup) { b.Due = time.Time{} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := backup("t1", "dt=1", 10)
			c.edit(b)
			if err := bs.PutBackup(ctx, b); !errors.Is(err, merge.ErrInvalid) {
				t.Errorf("PutBackup = %v, want ErrInvalid", err)
			}
		})
	}
}

// testBackupsLargeSnapshot stores a snapshot at the size limit and refuses one over it.
func testBackupsLargeSnapshot(t *testing.T, bs merge.BackupStore) {
	ctx := context.Background()
	b := backup("t1", "dt=1", 10)
	b.Snapshot = []byte(strings.Repeat("x", merge.MaxBackupSnapshot))
	if err := bs.PutBackup(ctx, b); err != nil {
		t.Fatalf("PutBackup(%d bytes) = %v", len(b.Snapshot), err)
	}
	got, err := bs.GetBackup(ctx, b.ID)
	if err != nil || len(got.Snapshot) != merge.MaxBackupSnapshot {
		t.Fatalf("GetBackup = %v; want the %d-byte snapshot back", err, merge.MaxBackupSnapshot)
	}
	b.Snapshot = append(b.Snapshot, 'x')
	if err := bs.PutBackup(ctx, b); !errors.Is(err, merge.ErrInvalid) {
		t.Errorf("PutBackup(%d bytes) = %v, want ErrInvalid", len(b.Snapshot), err)
	}
}
