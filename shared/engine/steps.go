package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/snapshot"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// stepOrder lists a strategy's steps, for progress.
func stepOrder(s merge.Strategy) []merge.Step {
	if s == merge.StrategySafeMerge {
		return []merge.Step{merge.StepPlanned, merge.StepSnapshotted, merge.StepStaged, merge.StepValidated, merge.StepSwapped, merge.StepAnalyzed}
	}
	return []merge.Step{merge.StepPlanned, merge.StepSnapshotted, merge.StepMerged, merge.StepValidated}
}

// partStatements are one partition's statements by purpose, built by hql from the checkpoint.
type partStatements struct {
	spec     hql.Spec
	tmp      hql.Table
	settings []string
	// safe_merge
	create, addPart, insert, checksumSrc, checksumTmp, swap, analyze, drop, swapBack string
	// tableLoc is the partitioned staging table's own directory, removed once it is dropped.
	tableLoc string
	// in place
	rewrite string
}

// list is the statements in the order a preview shows them.
func (s *partStatements) list(strategy merge.Strategy) []string {
	out := slices.Clone(s.settings)
	switch strategy {
	case merge.StrategySafeMerge:
		out = append(out, s.create)
		if s.addPart != "" {
			out = append(out, s.addPart)
		}
		out = append(out, s.insert, s.checksumSrc, s.checksumTmp, s.swap, s.analyze, s.drop)
	case merge.StrategyACIDCompact:
		out = append(out, s.rewrite)
	default:
		out = append(out, s.rewrite, s.analyze)
	}
	return out
}

func (r *run) statements(strategy merge.Strategy, p *merge.PartitionCheckpoint) (*partStatements, error) {
	spec, err := r.tb.Spec(p.Spec)
	if err != nil {
		return nil, err
	}
	req := RequestFor(r.task)
	if err := req.validate(); err != nil {
		return nil, err
	}
	set := settings(strategy, req.TargetFileSize)
	cols := r.tb.DataColumns()
	st := &partStatements{spec: spec}
	var errs []error
	keep := func(s string, err error) string {
		errs = append(errs, err)
		return s
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		s, err := hql.Set(k, set[k])
		st.settings = append(st.settings, s)
		errs = append(errs, err)
	}
	st.checksumSrc = keep(hql.Checksum(r.src, cols, spec))
	st.analyze = keep(hql.Analyze(r.src, spec))
	switch strategy {
	case merge.StrategySafeMerge:
		st.tmp = hql.Table{Database: r.src.Database, Name: p.TempTable}
		if spec.Partitioned() {
			if st.tableLoc, err = stagingTableLocation(p.Staging, st.tmp); err != nil {
				return nil, err
			}
			st.create = keep(hql.CreateStagingTable(st.tmp, r.src, st.tableLoc))
			st.addPart = keep(hql.AddPartition(st.tmp, spec, p.Staging))
		} else {
			st.create = keep(hql.CreateStagingTable(st.tmp, r.src, p.Staging))
		}
		st.insert = keep(hql.InsertOverwrite(st.tmp, r.src, spec, cols))
		st.checksumTmp = keep(hql.Checksum(st.tmp, cols, spec))
		st.swap = keep(hql.SetLocation(r.src, spec, p.Staging))
		st.swapBack = keep(hql.SetLocation(r.src, spec, p.OldLocation))
		st.drop = keep(hql.DropExternalTable(st.tmp))
	case merge.StrategyInsertOverwrite:
		st.rewrite = keep(hql.InsertOverwrite(r.src, r.src, spec, cols))
	case merge.StrategyConcatenate:
		st.rewrite = keep(hql.Concatenate(r.src, spec))
	case merge.StrategyACIDCompact:
		st.rewrite = keep(hql.CompactMajor(r.src, spec))
	default:
		return nil, merge.Errorf(merge.ErrInvalid, "no steps for strategy %q", strategy)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return st, nil
}

// partition takes p from its recorded step to done.
func (r *run) partition(ctx context.Context, p *merge.PartitionCheckpoint) error {
	st, err := r.statements(r.cp.Strategy, p)
	if err != nil {
		return err
	}
	if p.Step == merge.StepPlanned || p.StartedAt.IsZero() {
		p.StartedAt = r.e.now()
	}
	p.Attempt = r.task.Attempt
	// The first partition a run takes after planning points where the plan read moments ago.
	fresh := r.planned && p.Step == merge.StepPlanned
	r.planned = false
	switch r.cp.Strategy {
	case merge.StrategySafeMerge:
		return r.safeMerge(ctx, p, st, fresh)
	case merge.StrategyACIDCompact:
		return r.compact(ctx, p, st)
	default:
		return r.inPlace(ctx, p, st)
	}
}

// location is where the table says the partition's data is now.
func (r *run) location(ctx context.Context, spec hql.Spec) (string, error) {
	if spec.Partitioned() {
		d, err := r.e.Hive.DescribePartition(ctx, r.src, spec)
		if err != nil {
			return "", err
		}
		return d.Location, nil
	}
	tb, err := r.e.Hive.DescribeTable(ctx, r.src)
	if err != nil {
		return "", err
	}
	return tb.Location, nil
}

func (r *run) checksum(ctx context.Context, step merge.Step, stmt string) (hive.Checksum, error) {
	res, err := r.exec(ctx, nil, step, stmt, true)
	if err != nil {
		return hive.Checksum{}, err
	}
	return hive.ParseChecksum(res.Strings())
}

// write runs the session settings and then stmt on one session.
func (r *run) write(ctx context.Context, step merge.Step, st *partStatements, stmt string) error {
	sess, err := r.e.Hive.Session(ctx)
	if err != nil {
		return err
	}
	defer sess.Close()
	for _, s := range st.settings {
		if _, err := r.exec(ctx, sess, step, s, false); err != nil {
			return err
		}
	}
	_, err = r.exec(ctx, sess, step, stmt, false)
	return err
}

// safeMerge: snapshot and checksum the source, write the merged rows into a staging table in a
// hidden sibling directory, validate them, re-check the source and copy the files a writer
// added meanwhile into the staging directory, swap the partition's location, carry over the
// files that arrived after that, refresh statistics and drop the staging table. Steps before
// the swap leave the table untouched, so a resumed partition that had not swapped starts them
// over.
// fresh says that the partition's location was read just now, by the plan.
func (r *run) safeMerge(ctx context.Context, p *merge.PartitionCheckpoint, st *partStatements, fresh bool) error {
	fs, oldPath, err := r.e.Files.Open(ctx, p.OldLocation)
	if err != nil {
		return err
	}
	_, stagePath, err := r.e.Files.Open(ctx, p.Staging)
	if err != nil {
		return err
	}
	snaps := r.e.snapshots()
	var snap *Snapshot

	if before(p.Step, merge.StepSwapped) {
		cur := p.OldLocation
		if !fresh {
			if cur, err = r.location(ctx, st.spec); err != nil {
				return err
			}
		}
		switch {
		case sameLocation(cur, p.Staging):
			// The swap ran but the worker stopped before recording it.
			r.log(ctx, merge.LevelInfo, string(p.Step), fmt.Sprintf("partition %s already points at the merged files; continuing after the swap", displayName(p.Partition)))
			r.keepBackup(p)
			if err := r.savePartition(ctx, p, merge.StepSwapped); err != nil {
				return err
			}
		case !sameLocation(cur, p.OldLocation):
			return fmt.Errorf("the partition now points at %s, not %s: it was changed outside this task, and nothing was changed by it", cur, p.OldLocation)
		default:
			if p.Step != merge.StepPlanned {
				r.log(ctx, merge.LevelInfo, string(p.Step), fmt.Sprintf("partition %s resumes at %s: the table is unchanged, so its staging output is written again", displayName(p.Partition), p.Step))
			}
			if snap, err = r.stage(ctx, p, st, fs, oldPath, stagePath); err != nil {
				return err
			}
		}
	}
	if p.Step == merge.StepSwapped {
		if snap == nil {
			snap, err = SnapshotOf(p.Snapshot)
			switch {
			case errors.Is(err, errNotRecorded):
				r.log(ctx, merge.LevelWarn, string(merge.StepSwapped), fmt.Sprintf("the snapshot of %d files was too large to record, so this resumed worker cannot tell late files in %s from the ones merged: they stay in the backup", p.Snapshot.Files, p.OldLocation))
			case err != nil:
				return err
			}
		}
		var moved []string
		if snap != nil {
			moved, err = snaps.CarryOver(ctx, fs, snap, oldPath, stagePath)
		}
		p.LateFiles += int64(len(moved))
		if len(moved) > 0 {
			r.log(ctx, merge.LevelInfo, string(merge.StepSwapped), fmt.Sprintf("carried %d file(s) a writer added after the snapshot into the live location: %s", len(moved), summarize(moved)))
		}
		if err != nil {
			return fmt.Errorf("carry late files over: %w", err)
		}
		if _, err := r.exec(ctx, nil, merge.StepAnalyzed, st.analyze, false); err != nil {
			return err
		}
		// A resume at swapped carries over and analyzes again, both harmless twice: analyzed
		// is progress, unless files were carried over, whose count a resume could not redo.
		if len(moved) == 0 {
			r.advance(p, merge.StepAnalyzed)
		} else if err := r.savePartition(ctx, p, merge.StepAnalyzed); err != nil {
			return err
		}
	}
	if p.Step == merge.StepAnalyzed {
		if err := r.dropStaging(ctx, merge.StepAnalyzed, st); err != nil {
			return err
		}
		after, err := snaps.Take(ctx, fs, stagePath)
		if err != nil {
			return err
		}
		p.FilesAfter, p.BytesAfter = after.Files, after.Bytes
		if p.Snapshot != nil {
			p.Snapshot.Names = "" // the file set is only needed while the partition is in flight
		}
		r.log(ctx, merge.LevelInfo, string(merge.StepDone), fmt.Sprintf("partition %s merged: %d files became %d; the original files stay at %s until %s",
			displayName(p.Partition), p.FilesBefore, p.FilesAfter, p.BackupLocation, p.KeepUntil.Format(time.RFC3339)))
		return r.savePartition(ctx, p, merge.StepDone)
	}
	return nil
}

// stage runs safe_merge's steps up to and including the swap.
func (r *run) stage(ctx context.Context, p *merge.PartitionCheckpoint, st *partStatements, fs fsys.FS, oldPath, stagePath string) (*Snapshot, error) {
	snaps := r.e.snapshots()
	// Leftovers of an earlier attempt: never live (the partition points at its old location).
	// A partition still at planned has none: its staging table is created, and written to,
	// only once the snapshotted checkpoint is recorded.
	if p.Step != merge.StepPlanned {
		if err := r.dropStaging(ctx, merge.StepPlanned, st); err != nil {
			return nil, err
		}
		if err := fs.RemoveAll(ctx, stagePath); err != nil {
			return nil, err
		}
	}

	snap, sum, err := r.readSource(ctx, st, fs, oldPath)
	if err != nil {
		return nil, err
	}
	p.Snapshot = snap.Mark()
	p.FilesBefore, p.BytesBefore = snap.Files, snap.Bytes
	p.RowsBefore, p.ChecksumBefore = sum.Rows, sum.Sum
	if err := r.savePartition(ctx, p, merge.StepSnapshotted); err != nil {
		return nil, err
	}

	for _, s := range []string{st.create, st.addPart} {
		if s == "" {
			continue
		}
		if _, err := r.exec(ctx, nil, merge.StepStaged, s, false); err != nil {
			return nil, err
		}
	}
	if err := r.write(ctx, merge.StepStaged, st, st.insert); err != nil {
		return nil, err
	}
	out, err := snaps.Take(ctx, fs, stagePath)
	if err != nil {
		return nil, err
	}
	p.Merged, p.FilesAfter, p.BytesAfter = out.Paths, out.Files, out.Bytes
	// A partition that had not swapped starts over on resume, whatever step it recorded:
	// staged is progress, recorded with validated.
	r.advance(p, merge.StepStaged)

	got, err := r.checksum(ctx, merge.StepValidated, st.checksumTmp)
	if err != nil {
		return nil, err
	}
	p.RowsAfter, p.ChecksumAfter = got.Rows, got.Sum
	if got.Rows != p.RowsBefore || got.Sum != p.ChecksumBefore {
		return nil, fmt.Errorf("validation failed: the merged output has %d rows (checksum %d) but the source has %d (checksum %d)", got.Rows, got.Sum, p.RowsBefore, p.ChecksumBefore)
	}
	if err := r.sameSchema(ctx, st.tmp); err != nil {
		return nil, err
	}
	r.log(ctx, merge.LevelInfo, string(merge.StepValidated), fmt.Sprintf("partition %s validated: %d rows, checksum %d, same schema and storage", displayName(p.Partition), got.Rows, got.Sum))

	// Just before the swap: the files read must all still be there, unchanged.
	d, err := snaps.Changed(ctx, fs, oldPath, snap)
	if err != nil {
		return nil, err
	}
	if d.Removed > 0 {
		return nil, fmt.Errorf("%d source file(s) were removed or modified since the snapshot, so the merged output no longer matches the partition; the merge was abandoned", d.Removed)
	}
	if len(d.Added) > 0 {
		if snap, err = r.copyLate(ctx, p, fs, oldPath, stagePath, snap, d.Added); err != nil {
			return nil, err
		}
	}
	// What the merge took (the snapshot and the copies) is durable before the swap: a worker
	// that resumes after it must not carry the copied originals over again, and cleanup
	// deletes them with the files read.
	p.Snapshot = snap.Mark()
	if err := r.recordBackup(ctx, p, snap); err != nil {
		return nil, err
	}
	if err := r.savePartition(ctx, p, merge.StepValidated); err != nil {
		return nil, err
	}
	if _, err := r.exec(ctx, nil, merge.StepSwapped, st.swap, false); err != nil {
		return nil, err
	}
	r.keepBackup(p)
	return snap, r.savePartition(ctx, p, merge.StepSwapped)
}

// copyLate copies the files a writer added to the old location since the snapshot into the
// staging location, so that it holds their rows at the moment the swap makes it live, while
// the originals stay visible where readers look until then. It returns the snapshot with the
// copies added as copied: the merge took them, so they are not carried over after the swap,
// and cleanup deletes them unless they change afterwards (then they stay in the backup, and
// cleanup says so). A file that arrives after the copy, from a writer whose job resolved the
// old location before the swap, is still carried over after it.
func (r *run) copyLate(ctx context.Context, p *merge.PartitionCheckpoint, fs fsys.FS, oldPath, stagePath string, snap *Snapshot, added []string) (*Snapshot, error) {
	copied, names, err := snapshot.Copy(ctx, fs, oldPath, added, stagePath)
	if err != nil {
		return nil, fmt.Errorf("copy the %d file(s) that appeared since the snapshot into the merged location: %w", len(added), err)
	}
	p.Merged = append(p.Merged, names...) // a rollback removes the copies, not carries them back
	p.LateFiles += int64(len(copied))
	r.log(ctx, merge.LevelInfo, string(merge.StepValidated), fmt.Sprintf("%d file(s) appeared since the snapshot (%s); they were copied into the merged location before the swap", len(added), summarize(added)))
	return snap.with(copied), nil
}

// snapshotAttempts is how many times readSource lists and counts a partition a writer keeps
// changing before it gives up.
const snapshotAttempts = 3

// readSource lists the source files and counts and checksums their rows, and checks that the
// listing still holds once the rows are counted. A file committed in between would be read by
// the checksum and by the merge without being in the snapshot, so after the swap it would be
// carried over as a late file too and its rows would be there twice: then both are taken
// again.
func (r *run) readSource(ctx context.Context, st *partStatements, fs fsys.FS, dir string) (*Snapshot, hive.Checksum, error) {
	snaps := r.e.snapshots()
	for attempt := 1; ; attempt++ {
		snap, err := snaps.Take(ctx, fs, dir)
		if err != nil {
			return nil, hive.Checksum{}, fmt.Errorf("snapshot the source files: %w", err)
		}
		sum, err := r.checksum(ctx, merge.StepSnapshotted, st.checksumSrc)
		if err != nil {
			return nil, hive.Checksum{}, err
		}
		d, err := snaps.Changed(ctx, fs, dir, snap)
		if err != nil {
			return nil, hive.Checksum{}, err
		}
		if d.Removed == 0 && len(d.Added) == 0 {
			return snap, sum, nil
		}
		if attempt == snapshotAttempts {
			return nil, hive.Checksum{}, fmt.Errorf("the partition's files changed while its rows were counted, %d times in a row: a writer is busy with it, so merge it once the writer is done", attempt)
		}
		r.log(ctx, merge.LevelInfo, string(merge.StepSnapshotted), fmt.Sprintf("the partition's files changed while its rows were counted (%d added, %d removed or modified): reading it again", len(d.Added), d.Removed))
	}
}

// keepBackup records the original location as the backup of a swapped partition, kept until
// the time its backup record (recordBackup) says, or from now on when the swap's record is
// not at hand (a resumed worker).
func (r *run) keepBackup(p *merge.PartitionCheckpoint) {
	p.BackupLocation = p.OldLocation
	if p.KeepUntil.IsZero() {
		p.KeepUntil = r.e.now().Add(r.e.retention())
	}
}

func (e *Executor) retention() time.Duration {
	if e.Retention > 0 {
		return e.Retention
	}
	return DefaultRetention
}

// sameSchema checks that the staging table has the source's columns, partition keys and storage
// (SerDe, formats, delimiters), so the swapped partition reads exactly as before.
func (r *run) sameSchema(ctx context.Context, tmp hql.Table) error {
	got, err := r.e.Hive.DescribeTable(ctx, tmp)
	if err != nil {
		return err
	}
	want := r.tb
	colsEqual := func(a, b []hive.Column) bool {
		return slices.EqualFunc(a, b, func(x, y hive.Column) bool {
			return strings.EqualFold(x.Name, y.Name) && strings.EqualFold(x.Type, y.Type)
		})
	}
	switch {
	case !colsEqual(got.Columns, want.Columns) || !colsEqual(got.PartitionKeys, want.PartitionKeys):
		return fmt.Errorf("validation failed: the staging table's columns differ from the source's")
	case got.Storage.SerDe != want.Storage.SerDe || got.Storage.InputFormat != want.Storage.InputFormat || got.Storage.OutputFormat != want.Storage.OutputFormat:
		return fmt.Errorf("validation failed: the staging table is stored as %s/%s, the source as %s/%s", got.Storage.InputFormat, got.Storage.SerDe, want.Storage.InputFormat, want.Storage.SerDe)
	case !maps.Equal(got.Storage.SerDeParams, want.Storage.SerDeParams):
		return fmt.Errorf("validation failed: the staging table's SerDe properties (delimiters) differ from the source's")
	}
	return nil
}

// dropStaging drops the staging table; hive.Client.DropExternalTable refuses anything but an
// EXTERNAL table whose drop keeps its files.
func (r *run) dropStaging(ctx context.Context, step merge.Step, st *partStatements) error {
	start := time.Now()
	if err := r.e.Hive.DropExternalTable(ctx, st.tmp); err != nil {
		return fmt.Errorf("drop staging table %s: %w", st.tmp, err)
	}
	// The table's own directory holds nothing (its partition lies beside it); the drop of an
	// EXTERNAL table leaves it behind.
	if st.tableLoc != "" {
		if fs, dir, err := r.e.Files.Open(ctx, st.tableLoc); err == nil {
			if entries, err := fsys.ReadDir(ctx, fs, dir); err == nil && len(entries) == 0 {
				_ = fs.RemoveAll(ctx, dir)
			}
		}
	}
	r.log(ctx, merge.LevelInfo, string(step), "dropped the staging table if it existed", merge.LogEntry{Level: merge.LevelInfo, Step: string(step), Message: "ran", SQL: st.drop, DurationMS: time.Since(start).Milliseconds()})
	return nil
}

// before reports whether step a comes before b in safe_merge's order.
func before(a, b merge.Step) bool {
	order := append(stepOrder(merge.StrategySafeMerge), merge.StepDone)
	return slices.Index(order, a) < slices.Index(order, b)
}

// inPlace runs concatenate or insert_overwrite: count and checksum the rows, rewrite the
// partition in place with the merge settings, compare, and refresh statistics.
func (r *run) inPlace(ctx context.Context, p *merge.PartitionCheckpoint, st *partStatements) error {
	if p.Step == merge.StepPlanned {
		sum, err := r.checksum(ctx, merge.StepSnapshotted, st.checksumSrc)
		if err != nil {
			return err
		}
		p.RowsBefore, p.ChecksumBefore = sum.Rows, sum.Sum
		if err := r.savePartition(ctx, p, merge.StepSnapshotted); err != nil {
			return err
		}
	}
	if p.Step == merge.StepSnapshotted {
		// Rewriting again after a restart is safe: both statements keep the rows.
		if err := r.write(ctx, merge.StepMerged, st, st.rewrite); err != nil {
			return err
		}
		if err := r.savePartition(ctx, p, merge.StepMerged); err != nil {
			return err
		}
	}
	if p.Step == merge.StepMerged {
		if err := r.compare(ctx, p, st); err != nil {
			return err
		}
		if _, err := r.exec(ctx, nil, merge.StepValidated, st.analyze, false); err != nil {
			return err
		}
		if err := r.savePartition(ctx, p, merge.StepValidated); err != nil {
			return err
		}
	}
	return r.measureDone(ctx, p)
}

func (r *run) compare(ctx context.Context, p *merge.PartitionCheckpoint, st *partStatements) error {
	got, err := r.checksum(ctx, merge.StepValidated, st.checksumSrc)
	if err != nil {
		return err
	}
	p.RowsAfter, p.ChecksumAfter = got.Rows, got.Sum
	if got.Rows != p.RowsBefore || got.Sum != p.ChecksumBefore {
		return fmt.Errorf("validation failed: the partition had %d rows (checksum %d) before the merge and has %d (checksum %d) after", p.RowsBefore, p.ChecksumBefore, got.Rows, got.Sum)
	}
	r.log(ctx, merge.LevelInfo, string(merge.StepValidated), fmt.Sprintf("partition %s validated: %d rows, checksum %d", displayName(p.Partition), got.Rows, got.Sum))
	return nil
}

// measureDone lists the partition's files after an in-place merge and records it done.
func (r *run) measureDone(ctx context.Context, p *merge.PartitionCheckpoint) error {
	loc, err := r.location(ctx, mustSpec(r, p))
	if err != nil {
		return err
	}
	if f, err := r.e.Planner.list(ctx, loc); err == nil {
		p.FilesAfter, p.BytesAfter = f.Files, f.Bytes
	}
	return r.savePartition(ctx, p, merge.StepDone)
}

func mustSpec(r *run, p *merge.PartitionCheckpoint) hql.Spec {
	spec, _ := r.tb.Spec(p.Spec) // validated when the statements were built
	return spec
}

// compact queues a major compaction and follows SHOW COMPACTIONS until it ends.
func (r *run) compact(ctx context.Context, p *merge.PartitionCheckpoint, st *partStatements) error {
	if p.Step == merge.StepPlanned {
		sum, err := r.checksum(ctx, merge.StepSnapshotted, st.checksumSrc)
		if err != nil {
			return err
		}
		p.RowsBefore, p.ChecksumBefore = sum.Rows, sum.Sum
		if err := r.savePartition(ctx, p, merge.StepSnapshotted); err != nil {
			return err
		}
	}
	if p.Step == merge.StepSnapshotted {
		seen, err := r.compactions(ctx, p)
		if err != nil {
			return err
		}
		if _, err := r.exec(ctx, nil, merge.StepMerged, st.rewrite, false); err != nil {
			return err
		}
		// The new compaction is the one of this partition that was not there before.
		var id int64
		err = r.poll(ctx, func(cs []hive.Compaction) bool {
			for _, c := range cs {
				if !seen[c.ID] {
					id = c.ID
					return true
				}
			}
			return false
		}, p)
		if err != nil {
			return err
		}
		p.CompactionID = id
		r.log(ctx, merge.LevelInfo, string(merge.StepMerged), fmt.Sprintf("compaction %d queued for %s", id, displayName(p.Partition)))
		if err := r.savePartition(ctx, p, merge.StepMerged); err != nil {
			return err
		}
	}
	if p.Step == merge.StepMerged {
		var final hive.Compaction
		err := r.poll(ctx, func(cs []hive.Compaction) bool {
			for _, c := range cs {
				if c.ID == p.CompactionID {
					if c.State != final.State {
						r.log(ctx, merge.LevelInfo, string(merge.StepMerged), fmt.Sprintf("compaction %d is %s", c.ID, c.State))
						r.mu.Lock()
						r.step = fmt.Sprintf("%s: compaction %s", displayName(p.Partition), c.State)
						r.mu.Unlock()
					}
					final = c
					return c.Done()
				}
			}
			return false
		}, p)
		if err != nil {
			return err
		}
		if final.State != hive.CompactionSucceeded {
			return fmt.Errorf("compaction %d ended as %q %s", final.ID, final.State, final.Error)
		}
		if err := r.compare(ctx, p, st); err != nil {
			return err
		}
		if err := r.savePartition(ctx, p, merge.StepValidated); err != nil {
			return err
		}
	}
	return r.measureDone(ctx, p)
}

// compactions are the IDs of the partition's compactions SHOW COMPACTIONS lists now.
func (r *run) compactions(ctx context.Context, p *merge.PartitionCheckpoint) (map[int64]bool, error) {
	cs, err := r.e.Hive.Compactions(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	for _, c := range r.ofPartition(cs, p) {
		seen[c.ID] = true
	}
	return seen, nil
}

func (r *run) ofPartition(cs []hive.Compaction, p *merge.PartitionCheckpoint) []hive.Compaction {
	var out []hive.Compaction
	for _, c := range cs {
		if strings.EqualFold(c.Database, r.src.Database) && strings.EqualFold(c.Table, r.src.Name) && c.Partition == p.Partition {
			out = append(out, c)
		}
	}
	return out
}

// poll reads SHOW COMPACTIONS every CompactionPoll until done says so, renewing the lease.
func (r *run) poll(ctx context.Context, done func([]hive.Compaction) bool, p *merge.PartitionCheckpoint) error {
	every := r.e.CompactionPoll
	if every <= 0 {
		every = 10 * time.Second
	}
	for {
		cs, err := r.e.Hive.Compactions(ctx)
		if err != nil {
			return err
		}
		if done(r.ofPartition(cs, p)) {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(every):
		}
	}
}

// undo puts a safe_merge partition back as it was before the task: pointing at its original
// location with any late files carried back, the staging table dropped and the staging output
// removed. It never deletes the original files, and it leaves a partition that points
// anywhere else alone. The in-place strategies have nothing to undo.
func (r *run) undo(ctx context.Context, p *merge.PartitionCheckpoint) error {
	if r.cp.Strategy != merge.StrategySafeMerge || p.Step == merge.StepSkipped || p.Step == merge.StepRolledBack {
		return nil
	}
	st, err := r.statements(r.cp.Strategy, p)
	if err != nil {
		return err
	}
	fs, oldPath, err := r.e.Files.Open(ctx, p.OldLocation)
	if err != nil {
		return err
	}
	_, stagePath, err := r.e.Files.Open(ctx, p.Staging)
	if err != nil {
		return err
	}
	cur, err := r.location(ctx, st.spec)
	if err != nil {
		return err
	}
	live := sameLocation(cur, p.Staging)
	if !live && !sameLocation(cur, p.OldLocation) {
		return fmt.Errorf("it points at %s, neither its original location %s nor the merged one: left alone", cur, p.OldLocation)
	}
	// Files in the staging location that the merge did not write are late files a writer
	// added while it was live: they go back with the partition. Before the swap the staging
	// location was never live, and everything in it is partial output.
	if live || !before(p.Step, merge.StepSwapped) {
		moved, err := carryBack(ctx, fs, p.Merged, stagePath, oldPath)
		if len(moved) > 0 {
			r.log(ctx, merge.LevelInfo, string(merge.StepRolledBack), fmt.Sprintf("carried %d file(s) written to the merged location back to the original one: %s", len(moved), summarize(moved)))
		}
		if err != nil {
			return fmt.Errorf("carry files back: %w", err)
		}
	}
	var swapErr error
	if live {
		_, swapErr = r.exec(ctx, nil, merge.StepRolledBack, st.swapBack, false)
	}
	// The staging table is EXTERNAL, so dropping it leaves its files alone: it goes even when
	// the partition could not be pointed back and still reads them.
	if err := r.dropStaging(ctx, merge.StepRolledBack, st); err != nil || swapErr != nil {
		return errors.Join(swapErr, err)
	}
	if err := fs.RemoveAll(ctx, stagePath); err != nil {
		return err
	}
	removeIfEmpty(ctx, fs, path.Dir(stagePath))
	if live {
		// Statistics come last: the partition is whole without them, and a Hive that fails or
		// hangs on them must not keep the staging output in place.
		if _, err := r.exec(ctx, nil, merge.StepRolledBack, st.analyze, false); err != nil {
			r.log(ctx, merge.LevelWarn, string(merge.StepRolledBack), fmt.Sprintf("the statistics of partition %s were not refreshed (%v): run %s", displayName(p.Partition), err, st.analyze))
		}
	}
	r.log(ctx, merge.LevelInfo, string(merge.StepRolledBack), fmt.Sprintf("partition %s points at its original location %s; the merge's output was removed", displayName(p.Partition), p.OldLocation))
	return nil
}

// removeIfEmpty removes a task's staging directory once no partition's output is left in it.
func removeIfEmpty(ctx context.Context, fs fsys.FS, dir string) {
	if !strings.HasPrefix(path.Base(dir), stagingPrefix) {
		return
	}
	if entries, err := fsys.ReadDir(ctx, fs, dir); err == nil && len(entries) == 0 {
		_ = fs.RemoveAll(ctx, dir)
	}
}

// Rollback points every partition a safe_merge task swapped back at its original location
// while the backup is kept, carrying back the files writers added to the merged location, and
// records who did it; it also removes what a worker that died before its swap left behind.
// Rolling back again changes nothing. Tasks still active, and in-place strategies, which keep
// no backup, cannot be rolled back.
func (e *Executor) Rollback(ctx context.Context, taskID, by string) (*merge.Task, error) {
	task, err := e.Tasks.GetTask(ctx, taskID)
	if err != nil {
		return nil, err
	}
	switch {
	case task.Status.Active():
		return nil, merge.Errorf(merge.ErrConflict, "task %s is %s; wait for it to finish or cancel it first", task.ID, task.Status)
	case task.Checkpoint == nil:
		return nil, merge.Errorf(merge.ErrConflict, "task %s never ran, so there is nothing to roll back", task.ID)
	case task.Checkpoint.Strategy != merge.StrategySafeMerge:
		return nil, merge.Errorf(merge.ErrInvalid, "task %s used %s, which rewrites files in place and keeps no backup to roll back to", task.ID, task.Checkpoint.Strategy)
	}
	r := &run{e: e, id: taskID, task: task, cp: task.Checkpoint, src: hql.Table{Database: task.Database, Name: task.Table}}
	if err := r.table(ctx); err != nil {
		return nil, err
	}
	now := e.now()
	for i := range r.cp.Partitions {
		p := &r.cp.Partitions[i]
		if p.Step == merge.StepSkipped || p.Step == merge.StepRolledBack || p.Step == merge.StepPlanned {
			continue
		}
		if before(p.Step, merge.StepSwapped) {
			// A worker died mid-way and the task was finished without it (a cancel requested
			// meanwhile): its staging table and output are left, the table unchanged.
			if err := r.undo(ctx, p); err != nil {
				return nil, fmt.Errorf("clean up partition %s: %w", displayName(p.Partition), err)
			}
			if task, err = e.Tasks.UpdateCheckpoint(ctx, taskID, func(c *merge.Checkpoint) error {
				c.Partitions[i].Step = merge.StepRolledBack
				return nil
			}); err != nil {
				return nil, err
			}
			p.Step = merge.StepRolledBack
			continue
		}
		if !p.BackupCleaned.IsZero() {
			return nil, merge.Errorf(merge.ErrConflict, "the backup of partition %s was deleted on %s (%s): it cannot be rolled back", displayName(p.Partition), p.BackupCleaned.Format(time.RFC3339), p.BackupNote)
		}
		if !p.KeepUntil.IsZero() && now.After(p.KeepUntil) {
			return nil, merge.Errorf(merge.ErrConflict, "the backup of partition %s was kept until %s and may be gone: it cannot be rolled back", displayName(p.Partition), p.KeepUntil.Format(time.RFC3339))
		}
		fs, oldPath, err := e.Files.Open(ctx, p.OldLocation)
		if err != nil {
			return nil, err
		}
		if _, err := fs.Stat(ctx, oldPath); err != nil {
			return nil, merge.Errorf(merge.ErrConflict, "the backup of partition %s at %s is not there (%v): it cannot be rolled back", displayName(p.Partition), p.OldLocation, err)
		}
		if err := r.undo(ctx, p); err != nil {
			return nil, fmt.Errorf("roll back partition %s: %w", displayName(p.Partition), err)
		}
		task, err = e.Tasks.UpdateCheckpoint(ctx, taskID, func(c *merge.Checkpoint) error {
			c.Partitions[i].Step = merge.StepRolledBack
			c.RolledBackBy, c.RolledBackAt = by, now
			return nil
		})
		if err != nil {
			return nil, err
		}
		p.Step = merge.StepRolledBack
		r.log(ctx, merge.LevelInfo, string(merge.StepRolledBack), fmt.Sprintf("partition %s rolled back to %s by %s", displayName(p.Partition), p.OldLocation, by))
	}
	return task, nil
}
