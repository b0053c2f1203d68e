package merge

import "time"

// Step is how far the executor got with one partition. Steps are recorded after they complete,
// so a worker that resumes a task starts each partition after its recorded step.
type Step string

// Partition steps, in order. safe_merge goes planned -> snapshotted -> staged -> validated ->
// swapped -> analyzed -> done; the in-place strategies go planned -> snapshotted (rows
// counted) -> merged -> validated -> done. Skipped partitions are left alone; rolled_back ones
// point at their original location again.
const (
	StepPlanned     Step = "planned"
	StepSnapshotted Step = "snapshotted"
	StepStaged      Step = "staged"
	StepMerged      Step = "merged"
	StepValidated   Step = "validated"
	StepSwapped     Step = "swapped"
	StepAnalyzed    Step = "analyzed"
	StepDone        Step = "done"
	StepSkipped     Step = "skipped"
	StepRolledBack  Step = "rolled_back"
)

// Final reports whether nothing is left to do for a partition at step s.
func (s Step) Final() bool { return s == StepDone || s == StepSkipped || s == StepRolledBack }

// Checkpoint is the durable state of a task's execution: the plan it follows and how far each
// partition got. It stays small (no file lists of finished partitions), because a task is one
// Firestore document.
type Checkpoint struct {
	Strategy   Strategy              `json:"strategy"`
	Rule       string                `json:"rule"`
	Partitions []PartitionCheckpoint `json:"partitions"`
	// RolledBackBy and RolledBackAt record the last rollback of the task's merged partitions.
	RolledBackBy string    `json:"rolled_back_by,omitempty"`
	RolledBackAt time.Time `json:"rolled_back_at,omitzero"`
}

// PartitionCheckpoint is the execution state of one partition (or of the whole table when it
// is not partitioned, with an empty Partition).
type PartitionCheckpoint struct {
	// Partition is Hive's escaped partition name; Spec its values.
	Partition string        `json:"partition,omitempty"`
	Spec      PartitionSpec `json:"spec,omitempty"`
	Rule      string        `json:"rule,omitempty"`
	Step      Step          `json:"step"`
	Attempt   int           `json:"attempt,omitempty"`

	OldLocation string `json:"old_location"`
	// Staging and TempTable are safe_merge's new location and staging table.
	Staging   string `json:"staging_location,omitempty"`
	TempTable string `json:"temp_table,omitempty"`

	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`

	Snapshot *SnapshotMark `json:"snapshot,omitempty"`

	RowsBefore     int64 `json:"rows_before"`
	ChecksumBefore int64 `json:"checksum_before"`
	RowsAfter      int64 `json:"rows_after"`
	ChecksumAfter  int64 `json:"checksum_after"`
	FilesBefore    int64 `json:"files_before"`
	BytesBefore    int64 `json:"bytes_before"`
	FilesAfter     int64 `json:"files_after"`
	BytesAfter     int64 `json:"bytes_after"`
	// LateFiles counts the files a concurrent writer added to the old location after the
	// snapshot, carried into the live location.
	LateFiles int64 `json:"late_files,omitempty"`
	// Merged names the files the staging write produced (a handful per partition) and the
	// copies of late files made before the swap, so a rollback knows which files in the live
	// location are late files to carry back and which are its own.
	Merged []string `json:"merged_files,omitempty"`
	// CompactionID is acid_compact's compaction, once queued.
	CompactionID int64 `json:"compaction_id,omitempty"`

	// BackupLocation is the original location a rollback points back at, kept until
	// KeepUntil.
	BackupLocation string    `json:"backup_location,omitempty"`
	KeepUntil      time.Time `json:"keep_until,omitzero"`
	// BackupCleaned is when cleanup deleted the backup's files (then no rollback is
	// possible); BackupNote says what it deleted and kept, or why it left the backup.
	BackupCleaned time.Time `json:"backup_cleaned,omitzero"`
	BackupNote    string    `json:"backup_note,omitempty"`

	// Error is why the partition failed, or why the planner skipped it.
	Error string `json:"error,omitempty"`
}

// SnapshotMark is what safe_merge recorded of the source files before reading them: a
// fingerprint of the listing, its size and, while the partition is in flight, the compact
// set of file names that a resumed worker needs to tell late files from read ones.
type SnapshotMark struct {
	Fingerprint string    `json:"fingerprint"`
	Files       int64     `json:"files"`
	Bytes       int64     `json:"bytes"`
	TakenAt     time.Time `json:"taken_at,omitzero"`
	// Names is an opaque encoding of the file names (8-byte hashes), dropped when the
	// partition is done.
	Names string `json:"names,omitempty"`
}

// Done counts the partitions with nothing left to do.
func (c *Checkpoint) Done() int {
	n := 0
	for _, p := range c.Partitions {
		if p.Step.Final() {
			n++
		}
	}
	return n
}
