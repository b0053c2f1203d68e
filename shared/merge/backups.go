package merge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Backup is the record of one partition's original files that a safe_merge keeps after its
// swap: where they are and exactly which files the merge read and validated (the full
// snapshot, package snapshot's JSON). It is written before the swap, so no backup exists
// without its record, and only the files it lists are ever deleted. One record per task and
// partition keeps each far below Firestore's 1 MiB document limit (see MaxBackupSnapshot).
type Backup struct {
	ID        string `json:"id"` // BackupID(TaskID, Partition)
	TaskID    string `json:"task_id"`
	ClusterID string `json:"cluster_id"`
	// Partition is Hive's escaped partition name; "" for an unpartitioned table.
	Partition string `json:"partition,omitempty"`
	// Location is the backup (the partition's original location); Live is the merged
	// location the table was pointed at.
	Location string `json:"location"`
	Live     string `json:"live"`
	// Snapshot is the JSON of the files read (package snapshot), at most MaxBackupSnapshot
	// bytes.
	Snapshot  []byte    `json:"snapshot"`
	CreatedAt time.Time `json:"created_at"`
	// Due is when cleanup looks at the record next: the backup's keep-until, later when a
	// cleanup found it could not delete it yet.
	Due time.Time `json:"due"`
	// Note is why the last cleanup left the backup.
	Note string `json:"note,omitempty"`
}

// MaxBackupSnapshot bounds a record's snapshot, so it fits one Firestore document with room to
// spare. A partition of 2,000 files takes under 200 KB; one whose snapshot is larger is
// refused a record, and its backup is left for a person to delete (the task's log says so):
// cleanup never deletes files it has no record of.
const MaxBackupSnapshot = 900_000

// BackupID names the record of task's partition. Partition names hold '/', which no Firestore
// document ID may, so the name is hashed.
func BackupID(task, partition string) string {
	h := sha256.Sum256([]byte(partition))
	return task + "-" + hex.EncodeToString(h[:8])
}

// BackupStore keeps backup records. Implementations live in shared/taskstore and pass the
// conformance cases in shared/taskstore/storetest.
type BackupStore interface {
	// PutBackup stores b, replacing the record of the same ID (a resumed merge takes its
	// snapshot again). It fails with ErrInvalid when the ID is not BackupID's or the snapshot
	// is over MaxBackupSnapshot.
	PutBackup(ctx context.Context, b *Backup) error
	// GetBackup fails with ErrNotFound for an unknown ID.
	GetBackup(ctx context.Context, id string) (*Backup, error)
	// BackupsDue returns up to limit records whose Due is not after t, earliest Due first.
	BackupsDue(ctx context.Context, t time.Time, limit int) ([]*Backup, error)
	// DeleteBackup removes a record; an unknown ID is not an error, so cleanup can repeat.
	DeleteBackup(ctx context.Context, id string) error
}

// CheckBackup validates a record before it is stored.
func CheckBackup(b *Backup) error {
	switch {
	case b.TaskID == "" || b.ID != BackupID(b.TaskID, b.Partition):
		return Errorf(ErrInvalid, "backup record %q is not named after its task and partition", b.ID)
	case b.Location == "" || b.Live == "":
		return Errorf(ErrInvalid, "backup record %s needs its location and the live one", b.ID)
	case len(b.Snapshot) == 0:
		return Errorf(ErrInvalid, "backup record %s has no snapshot", b.ID)
	case len(b.Snapshot) > MaxBackupSnapshot:
		return Errorf(ErrInvalid, "backup record %s: a snapshot of %d bytes is over %d", b.ID, len(b.Snapshot), MaxBackupSnapshot)
	case b.Due.IsZero():
		return Errorf(ErrInvalid, "backup record %s has no due time", b.ID)
	}
	return nil
}

// BackupOutcome is what cleanup did with one backup record.
type BackupOutcome string

// Backup outcomes.
const (
	// BackupCleaned: the files the merge read were deleted and the record removed.
	BackupCleaned BackupOutcome = "cleaned"
	// BackupKept: the backup stays for now (the record says why) and is looked at again.
	BackupKept BackupOutcome = "kept"
	// BackupDropped: the record described no backup to delete (the partition was rolled
	// back); it was removed and nothing was deleted.
	BackupDropped BackupOutcome = "dropped"
)

// BackupReport counts what one cleanup run did.
type BackupReport struct {
	Checked, Cleaned, Kept, Dropped, Failed  int
	FilesDeleted, BytesDeleted, FilesCarried int64
}
