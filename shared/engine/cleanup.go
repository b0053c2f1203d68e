package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/snapshot"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// BackupRecheck is how long cleanup leaves a backup it may not delete yet (its task is
// running, or the table does not point at the merged files) before looking at it again.
const BackupRecheck = 24 * time.Hour

// stepCleanup names cleanup's entries in a task's log.
const stepCleanup = "cleanup"

// recordBackup sets how long p's original files are kept and, before the swap makes them a
// backup, records exactly which files the merge read, so that cleanup deletes those and
// nothing else. A snapshot too large for a record gets none: its backup is never deleted
// automatically, and the log says so.
func (r *run) recordBackup(ctx context.Context, p *merge.PartitionCheckpoint, snap *Snapshot) error {
	p.KeepUntil = r.e.now().Add(r.e.retention())
	if r.e.Backups == nil {
		return nil
	}
	if snap.full == nil {
		return errors.New("internal error: the snapshot to record was not taken by this worker")
	}
	id := merge.BackupID(r.id, p.Partition)
	data, ok, err := encodeBackup(*snap.full)
	if err != nil {
		return err
	}
	if !ok {
		r.log(ctx, merge.LevelWarn, string(merge.StepValidated), fmt.Sprintf("the snapshot of partition %s (%d files) is too large to record, so its backup %s will not be cleaned up automatically: delete it yourself after %s",
			displayName(p.Partition), snap.Files, p.OldLocation, p.KeepUntil.Format(time.RFC3339)))
		// A record of an earlier attempt lists files this attempt may not have read.
		return r.e.Backups.DeleteBackup(ctx, id)
	}
	b := &merge.Backup{ID: id, TaskID: r.id, ClusterID: r.task.ClusterID, Partition: p.Partition, Location: p.OldLocation,
		Live: p.Staging, Snapshot: data, CreatedAt: r.e.now(), Due: p.KeepUntil}
	if err := r.e.Backups.PutBackup(ctx, b); err != nil {
		return fmt.Errorf("record the backup: %w", err)
	}
	return nil
}

// encodeBackup is a snapshot as a backup record holds it; ok is false when it is over
// merge.MaxBackupSnapshot.
func encodeBackup(s snapshot.Snapshot) (data []byte, ok bool, err error) {
	data, err = json.Marshal(s)
	if err != nil {
		return nil, false, err
	}
	return data, len(data) <= merge.MaxBackupSnapshot, nil
}

// BackupResult is what CleanupBackup did with one record.
type BackupResult struct {
	Outcome merge.BackupOutcome
	// Deleted and Bytes are the files deleted from the backup, Carried the late files moved
	// into the live location, Kept the files left in the backup.
	Deleted, Carried, Kept int
	Bytes                  int64
	// Note says what was done, or why nothing was.
	Note string
}

// CleanupBackup deletes the backup b records, if its time has come and it is safe: the task
// finished, the partition is done (not rolled back) and its keep-until has passed, and the
// table points at the merged location now, as Hive says. Then the files a writer added to
// the backup after the snapshot are carried into the live location and only the files the
// merge read, unchanged since, are deleted (snapshot.Cleanup); the directory goes when it is
// empty. The task's checkpoint and log say what was deleted and kept, and the record is
// removed, so a second cleanup finds nothing to do.
//
// A backup it may not delete yet is left with the reason on the record and the checkpoint
// (outcome kept, looked at again after BackupRecheck); a record that no longer describes a
// backup (the partition was rolled back) is removed without deleting anything (dropped). On
// an error the record stays as it was, for the next run to finish.
func (e *Executor) CleanupBackup(ctx context.Context, b *merge.Backup) (BackupResult, error) {
	if e.Backups == nil {
		return BackupResult{}, errors.New("engine: cleaning up backups needs Backups")
	}
	now := e.now()
	task, err := e.Tasks.GetTask(ctx, b.TaskID)
	if errors.Is(err, merge.ErrNotFound) {
		// Tasks are never deleted, so this is a record nobody can vouch for: keep its files.
		return e.leave(ctx, b, nil, -1, now.Add(BackupRecheck), fmt.Sprintf("its task %s is not found, so nothing proves which files were merged: left for a person to check", b.TaskID))
	}
	if err != nil {
		return BackupResult{}, err
	}
	i := -1
	if cp := task.Checkpoint; cp != nil && cp.Strategy == merge.StrategySafeMerge {
		for j, p := range cp.Partitions {
			if p.Partition == b.Partition {
				i = j
			}
		}
	}
	if i < 0 {
		return e.drop(ctx, b, "the task merged no such partition")
	}
	p := task.Checkpoint.Partitions[i]
	switch {
	case task.Status.Active():
		return e.leave(ctx, b, nil, -1, now.Add(BackupRecheck), "the task is "+string(task.Status))
	case !p.BackupCleaned.IsZero():
		return e.drop(ctx, b, "already cleaned up")
	case p.Step == merge.StepRolledBack || p.Step == merge.StepSkipped || before(p.Step, merge.StepSwapped):
		return e.dropLogged(ctx, task, b, fmt.Sprintf("partition %s was not merged or was rolled back: its original location %s is its data, and nothing was deleted", displayName(p.Partition), b.Location))
	case p.Step != merge.StepDone:
		return e.leave(ctx, b, task, i, now.Add(BackupRecheck), fmt.Sprintf("the partition was left at step %s: roll the task back or check it before its backup is deleted", p.Step))
	case !now.After(p.KeepUntil) || !now.After(b.Due):
		return e.leave(ctx, b, nil, -1, later(p.KeepUntil, b.Due), "")
	}

	r := &run{e: e, id: task.ID, task: task, cp: task.Checkpoint, src: hql.Table{Database: task.Database, Name: task.Table}}
	if err := r.table(ctx); err != nil {
		return BackupResult{}, err
	}
	spec, err := r.tb.Spec(p.Spec)
	if err != nil {
		return BackupResult{}, err
	}
	cur, err := r.location(ctx, spec)
	if err != nil {
		return BackupResult{}, fmt.Errorf("read where partition %s points: %w", displayName(p.Partition), err)
	}
	switch {
	case sameLocation(cur, b.Location):
		return e.leave(ctx, b, task, i, now.Add(BackupRecheck), fmt.Sprintf("the table points at the backup %s again: nothing was deleted", b.Location))
	case !sameLocation(cur, b.Live):
		return e.leave(ctx, b, task, i, now.Add(BackupRecheck), fmt.Sprintf("the table points at %s, not at the merged location %s: it was changed outside hivemerge, and nothing was deleted", cur, b.Live))
	}
	var snap snapshot.Snapshot
	if err := json.Unmarshal(b.Snapshot, &snap); err != nil {
		return e.leave(ctx, b, task, i, now.Add(BackupRecheck), fmt.Sprintf("the record of the files read is damaged (%v): nothing was deleted", err))
	}
	fs, backupDir, err := e.Files.Open(ctx, b.Location)
	if err != nil {
		return BackupResult{}, err
	}
	if !sameFS(b.Location, cur) {
		return e.leave(ctx, b, task, i, now.Add(BackupRecheck), fmt.Sprintf("the backup %s and the live location %s are not on one filesystem: nothing was deleted", b.Location, cur))
	}
	_, liveDir, err := e.Files.Open(ctx, cur)
	if err != nil {
		return BackupResult{}, err
	}

	done, cerr := snapshot.Cleanup(ctx, fs, snap, backupDir, liveDir)
	res := BackupResult{Deleted: len(done.Deleted), Carried: len(done.Carried), Kept: len(done.Kept)}
	sizes := make(map[string]int64, len(snap.Files))
	for _, f := range snap.Files {
		sizes[f.Path] = f.Size
	}
	for _, d := range done.Deleted {
		res.Bytes += sizes[d]
	}
	var entries []merge.LogEntry
	if len(done.Carried) > 0 {
		entries = append(entries, merge.LogEntry{Level: merge.LevelInfo, Step: stepCleanup, Message: fmt.Sprintf("carried %d file(s) a writer added to the backup of partition %s into the live location: %s",
			len(done.Carried), displayName(p.Partition), summarize(done.Carried))})
	}
	if cerr != nil {
		entries = append(entries, merge.LogEntry{Level: merge.LevelError, Step: stepCleanup, Message: fmt.Sprintf("cleanup of the backup %s stopped after deleting %d file(s) (%d bytes): %v; the next cleanup finishes it",
			b.Location, res.Deleted, res.Bytes, cerr)})
		_ = e.Tasks.Log(context.WithoutCancel(ctx), task.ID, entries...)
		return res, fmt.Errorf("clean up the backup of task %s partition %s: %w", task.ID, displayName(p.Partition), cerr)
	}
	res.Note = fmt.Sprintf("deleted %d file(s) (%d bytes) the merge read from %s", res.Deleted, res.Bytes, b.Location)
	if res.Carried > 0 {
		res.Note += fmt.Sprintf("; carried %d late file(s) into the live location", res.Carried)
	}
	late := false
	if len(done.Kept) > 0 {
		var kept []string
		for _, k := range done.Kept {
			kept = append(kept, k.Path+" ("+k.Reason+")")
			late = late || k.Reason == snapshot.KeptLate
		}
		res.Note += fmt.Sprintf("; kept %d file(s) in it: %s", len(done.Kept), summarize(kept))
	} else {
		res.Note += "; the backup directory is removed"
	}
	entries = append(entries, merge.LogEntry{Level: merge.LevelInfo, Step: stepCleanup, Message: "backup of partition " + displayName(p.Partition) + ": " + res.Note})
	_ = e.Tasks.Log(ctx, task.ID, entries...)
	if late {
		// A writer is still adding files there: the next run carries them over.
		res.Outcome = merge.BackupKept
		b.Note = res.Note
		return res, e.Backups.PutBackup(ctx, b)
	}
	// The checkpoint first: a record left by a failure after it is dropped by the next run.
	if _, err := e.Tasks.UpdateCheckpoint(ctx, task.ID, func(c *merge.Checkpoint) error {
		c.Partitions[i].BackupCleaned, c.Partitions[i].BackupNote = now, res.Note
		return nil
	}); err != nil {
		return res, err
	}
	res.Outcome = merge.BackupCleaned
	return res, e.Backups.DeleteBackup(ctx, b.ID)
}

// leave keeps b until due with note; the note goes on the task's checkpoint (partition i,
// unless i < 0) and log when it is new.
func (e *Executor) leave(ctx context.Context, b *merge.Backup, task *merge.Task, i int, due time.Time, note string) (BackupResult, error) {
	res := BackupResult{Outcome: merge.BackupKept, Note: note}
	if task != nil && i >= 0 && task.Checkpoint.Partitions[i].BackupNote != note {
		if _, err := e.Tasks.UpdateCheckpoint(ctx, task.ID, func(c *merge.Checkpoint) error {
			c.Partitions[i].BackupNote = note
			return nil
		}); err != nil {
			return res, err
		}
		_ = e.Tasks.Log(ctx, task.ID, merge.LogEntry{Level: merge.LevelWarn, Step: stepCleanup, Message: fmt.Sprintf("the backup %s was not deleted: %s", b.Location, note)})
	}
	b.Due, b.Note = due, note
	return res, e.Backups.PutBackup(ctx, b)
}

// drop removes a record that describes no backup to delete.
func (e *Executor) drop(ctx context.Context, b *merge.Backup, note string) (BackupResult, error) {
	return BackupResult{Outcome: merge.BackupDropped, Note: note}, e.Backups.DeleteBackup(ctx, b.ID)
}

func (e *Executor) dropLogged(ctx context.Context, task *merge.Task, b *merge.Backup, note string) (BackupResult, error) {
	_ = e.Tasks.Log(ctx, task.ID, merge.LogEntry{Level: merge.LevelInfo, Step: stepCleanup, Message: note})
	return e.drop(ctx, b, note)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sameFS reports whether two locations are on one filesystem (scheme and authority).
func sameFS(a, b string) bool {
	la, err1 := fsys.ParseLocation(a)
	lb, err2 := fsys.ParseLocation(b)
	return err1 == nil && err2 == nil && la.Scheme == lb.Scheme && la.Authority == lb.Authority
}
