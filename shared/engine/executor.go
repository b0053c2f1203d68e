package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// Executor runs merge tasks as a durable state machine: it claims a task, plans it once, and
// then takes each partition through its strategy's steps, recording the step reached on the
// task (merge.Checkpoint) after each one, so that a worker that dies part-way leaves a task
// the next worker resumes from the recorded steps. Every step can run again safely.
//
// Failure policy: the partition being merged when a step fails is rolled back (pointed at its
// original location, staging output removed) and the task fails; partitions already merged
// stay merged, each with its backup, and Rollback restores them on request. A cancel is
// different: the user asked for the table as it was, so every partition a safe_merge swapped
// is rolled back before the task ends as cancelled (in-place strategies keep no backup: their
// finished partitions stay merged, and the task says so).
type Executor struct {
	Tasks   *merge.Service
	Planner *Planner
	Hive    *hive.Client
	Files   Files
	// Snapshots lists the source files of safe_merge; nil means FileSnapshots.
	Snapshots Snapshots
	// Lease is how long a claim or a renewal holds the task; 0 means DefaultLease. Renew is
	// how often the lease is renewed (and a cancel request noticed) while a step runs; 0
	// means a third of the lease, at most DefaultRenew.
	Lease time.Duration
	Renew time.Duration
	// Retention is how long the original files of a safe_merge stay as the backup a
	// rollback points back at; 0 means DefaultRetention.
	Retention time.Duration
	// Backups records, before each swap, which files a safe_merge read, so CleanupBackup can
	// delete exactly those once Retention has passed; nil keeps every backup for ever.
	Backups merge.BackupStore
	// Timeout bounds a task's execution from the claim that started it (merge.Task.Deadline);
	// 0 means merge.DefaultTaskTimeout. A run past it stops, and the task fails with the
	// partition being merged rolled back.
	Timeout time.Duration
	// CompactionPoll is how often acid_compact reads SHOW COMPACTIONS; 0 means 10s.
	CompactionPoll time.Duration
	// Now tells the time of step records and backup expiry; nil means time.Now.
	Now func() time.Time
}

// Defaults of the executor's durations.
const (
	DefaultLease     = 5 * time.Minute
	DefaultRenew     = 10 * time.Second
	DefaultRetention = 7 * 24 * time.Hour
)

var (
	errCancelRequested = errors.New("cancel requested")
	errLeaseLost       = errors.New("lease lost")
	errTimedOut        = errors.New("timed out")
)

func (e *Executor) lease() time.Duration {
	if e.Lease > 0 {
		return e.Lease
	}
	return DefaultLease
}

func (e *Executor) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

func (e *Executor) snapshots() Snapshots {
	if e.Snapshots != nil {
		return e.Snapshots
	}
	return FileSnapshots{}
}

// run is one execution of a task by one owner.
type run struct {
	e     *Executor
	id    string
	owner string // "" for a rollback, which holds no lease
	task  *merge.Task
	cp    *merge.Checkpoint
	src   hql.Table
	tb    *hive.Table

	mu      sync.Mutex
	step    string
	percent int
	// pending are log entries not written yet: each goes with the next task update (a
	// checkpoint save, a lease renewal, the finish), in the same write. wmu orders those
	// writes, so the log keeps the order entries were made in.
	pending []merge.LogEntry
	wmu     sync.Mutex
	// planned is set by a run that planned the task, until its first partition starts;
	// unsaved until its plan is recorded.
	planned, unsaved bool
}

// Run claims the task for owner (recorded as owner#<run>) and executes it to the end: success,
// failed (with what happened and what to do) or cancelled. A task another owner runs under a
// live lease, or one already finished, is an ErrConflict. When ctx ends (the worker is stopping) Run returns at
// once and leaves the task running under its lease: once the lease expires,
// Service.RequeueExpired queues it again and the next Run resumes it.
func (e *Executor) Run(ctx context.Context, taskID, owner string) (*merge.Task, error) {
	if owner == "" {
		return nil, merge.Errorf(merge.ErrInvalid, "a run needs an owner")
	}
	if e.Tasks == nil || e.Planner == nil || e.Hive == nil || e.Files == nil {
		return nil, errors.New("engine: an Executor needs Tasks, Planner, Hive and Files")
	}
	// Each run holds the lease under its own name, so two runs of one worker (or of two
	// workers configured alike) cannot both hold the task.
	owner += "#" + merge.NewID()[:8]
	task, err := e.Tasks.Claim(ctx, taskID, owner, e.lease())
	if err != nil {
		return nil, err
	}
	r := &run{e: e, id: taskID, owner: owner, task: task, cp: task.Checkpoint, src: hql.Table{Database: task.Database, Name: task.Table}}
	r.log(ctx, merge.LevelInfo, "", fmt.Sprintf("claimed by %s (attempt %d)", owner, task.Attempt))

	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if deadline := task.Deadline(e.Timeout); !deadline.IsZero() {
		var stop context.CancelFunc
		wctx, stop = context.WithDeadlineCause(wctx, deadline, errTimedOut)
		defer stop()
	}
	var wg sync.WaitGroup
	stopRenew := make(chan struct{})
	wg.Go(func() { r.keepAlive(wctx, cancel, stopRenew) })
	err = r.execute(wctx)
	close(stopRenew)
	wg.Wait()
	return r.finish(ctx, wctx, err)
}

// keepAlive renews the lease every Renew while the task runs, and cancels the work when a
// cancel is requested or the lease is lost.
func (r *run) keepAlive(ctx context.Context, cancel context.CancelCauseFunc, stop <-chan struct{}) {
	every := r.e.Renew
	if every <= 0 {
		every = min(r.e.lease()/3, DefaultRenew)
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		r.mu.Lock()
		p := merge.Progress{Step: r.step, Percent: r.percent}
		r.mu.Unlock()
		t, err := r.update(ctx, func(s *merge.Service) (*merge.Task, error) {
			return s.Heartbeat(ctx, r.id, r.owner, r.e.lease(), p)
		})
		switch {
		case errors.Is(err, merge.ErrConflict):
			cancel(errLeaseLost)
			return
		case err == nil && t.CancelRequested:
			cancel(errCancelRequested)
			return
		}
	}
}

// execute plans the task (once) and runs every partition from its recorded step.
func (r *run) execute(ctx context.Context) error {
	if r.task.CancelRequested {
		return errCancelRequested
	}
	if err := r.table(ctx); err != nil {
		return err
	}
	if r.cp == nil {
		if err := r.plan(ctx); err != nil {
			return err
		}
	} else {
		var at []string
		for _, p := range r.cp.Partitions {
			if !p.Step.Final() {
				at = append(at, fmt.Sprintf("%s at %s", displayName(p.Partition), p.Step))
			}
		}
		r.log(ctx, merge.LevelInfo, "", fmt.Sprintf("resumed with strategy %s: %s", r.cp.Strategy, summarize(at)))
	}
	for i := range r.cp.Partitions {
		p := &r.cp.Partitions[i]
		if p.Step.Final() {
			continue
		}
		if err := r.partition(ctx, p); err != nil {
			return &partitionError{p: p, err: err}
		}
	}
	if r.unsaved { // every partition was skipped
		return r.save(ctx, "planned", 0)
	}
	return nil
}

// table describes the task's table once.
func (r *run) table(ctx context.Context) error {
	if r.tb != nil {
		return nil
	}
	tb, err := r.e.Hive.DescribeTable(ctx, r.src)
	if err != nil {
		return fmt.Errorf("describe %s: %w", r.src, err)
	}
	r.tb = tb
	return nil
}

// partitionError is a failure of one partition's step.
type partitionError struct {
	p   *merge.PartitionCheckpoint
	err error
}

func (e *partitionError) Error() string {
	return fmt.Sprintf("partition %s failed after step %s: %v", displayName(e.p.Partition), e.p.Step, e.err)
}
func (e *partitionError) Unwrap() error { return e.err }

// plan previews the task and records the plan as its checkpoint. The statements each step
// runs are rebuilt from the checkpoint, so a resumed task runs the same ones; the plan is
// checked against the preview's so the task runs exactly what a preview shows.
func (r *run) plan(ctx context.Context) error {
	// The table was described just now (r.table).
	pv, err := r.e.Planner.preview(ctx, RequestFor(r.task), r.tb)
	if err != nil {
		return err
	}
	cp := &merge.Checkpoint{Strategy: pv.Strategy, Rule: pv.Rule}
	keys := make([]string, len(r.tb.PartitionKeys))
	for i, k := range r.tb.PartitionKeys {
		keys[i] = k.Name
	}
	for _, pp := range pv.Partitions {
		p := merge.PartitionCheckpoint{Partition: pp.Partition, Rule: pp.Rule, Step: merge.StepPlanned, OldLocation: pp.Location,
			FilesBefore: pp.FilesBefore, BytesBefore: pp.BytesBefore}
		if pp.Partition != "" {
			part, err := hive.ParsePartitionName(pp.Partition, keys)
			if err != nil {
				return fmt.Errorf("partition %q: %w", pp.Partition, err)
			}
			p.Spec = part.Spec()
		}
		if pp.Skipped {
			p.Step, p.Error = merge.StepSkipped, pp.SkipReason
			cp.Partitions = append(cp.Partitions, p)
			continue
		}
		if pv.Strategy == merge.StrategySafeMerge {
			if p.Staging, err = stagingLocation(pp.Location, r.id); err != nil {
				return err
			}
			p.TempTable = tempTable(r.src.Database, r.id, pp.Partition).Name
		}
		st, err := r.statements(cp.Strategy, &p)
		if err != nil {
			return err
		}
		if got := st.list(cp.Strategy); strings.Join(got, "\n") != strings.Join(pp.Statements, "\n") {
			return fmt.Errorf("internal error: the statements of partition %s differ from the preview's", displayName(pp.Partition))
		}
		cp.Partitions = append(cp.Partitions, p)
	}
	r.cp, r.planned = cp, true
	r.log(ctx, merge.LevelInfo, "plan", fmt.Sprintf("strategy %s (rule %s): %s", pv.Strategy, pv.Rule, pv.Reason))
	for _, p := range cp.Partitions {
		if p.Step == merge.StepSkipped {
			r.log(ctx, merge.LevelInfo, "plan", fmt.Sprintf("partition %s skipped (rule %s): %s", displayName(p.Partition), p.Rule, p.Error))
		}
	}
	for _, w := range pv.Warnings {
		r.log(ctx, merge.LevelWarn, "plan", w)
	}
	// The plan is recorded with the first step of the first partition (see execute), in one
	// write: every strategy's first step only reads (checksums, a snapshot) before recording
	// its checkpoint, so until then there is nothing a resumed worker needs, and a worker that
	// dies before it leaves a task the next one plans afresh.
	r.unsaved = true
	r.mu.Lock()
	r.step = "planned"
	r.mu.Unlock()
	return nil
}

// progress is the task's percentage: partitions done over all of them, plus the share of the
// current partition's steps.
func (r *run) progress(p *merge.PartitionCheckpoint) int {
	n := len(r.cp.Partitions)
	if n == 0 {
		return 99
	}
	done := float64(r.cp.Done())
	if p != nil && !p.Step.Final() {
		steps := stepOrder(r.cp.Strategy)
		for i, s := range steps {
			if s == p.Step {
				done += float64(i) / float64(len(steps))
			}
		}
	}
	return min(int(done*100/float64(n)), 99)
}

// save records the checkpoint under the lease; it reports a cancel request or a lost lease as
// the error that stops the run.
func (r *run) save(ctx context.Context, step string, percent int) error {
	r.mu.Lock()
	r.step, r.percent = step, percent
	r.mu.Unlock()
	t, err := r.update(ctx, func(s *merge.Service) (*merge.Task, error) {
		return s.SaveCheckpoint(ctx, r.id, r.owner, r.e.lease(), r.cp, merge.Progress{Step: step, Percent: percent, Strategy: r.cp.Strategy, Reason: r.cp.Rule})
	})
	if err == nil {
		r.unsaved = false
	}
	switch {
	case errors.Is(err, merge.ErrConflict):
		return fmt.Errorf("%w: %v", errLeaseLost, err)
	case err != nil:
		return err
	case t.CancelRequested:
		r.task.CancelledBy = t.CancelledBy
		return errCancelRequested
	}
	return nil
}

// advance moves p to step without a write: the next save records it, and the lease renewal
// reports it as progress meanwhile. It is for the steps nothing depends on after a restart.
func (r *run) advance(p *merge.PartitionCheckpoint, step merge.Step) {
	p.Step = step
	r.mu.Lock()
	r.step, r.percent = fmt.Sprintf("%s: %s", displayName(p.Partition), step), r.progress(p)
	r.mu.Unlock()
}

// savePartition records p's new step.
func (r *run) savePartition(ctx context.Context, p *merge.PartitionCheckpoint, step merge.Step) error {
	p.Step = step
	if step == merge.StepDone {
		p.FinishedAt = r.e.now()
	}
	return r.save(ctx, fmt.Sprintf("%s: %s", displayName(p.Partition), step), r.progress(p))
}

// finish ends the task according to how execute ended.
func (r *run) finish(ctx, wctx context.Context, err error) (*merge.Task, error) {
	cause := context.Cause(wctx)
	switch {
	case err == nil:
		stats := r.stats()
		r.log(ctx, merge.LevelInfo, "done", fmt.Sprintf("merged: %d files (%d bytes) became %d files (%d bytes), %d rows validated",
			stats.FilesBefore, stats.BytesBefore, stats.FilesAfter, stats.BytesAfter, stats.RowsValidated))
		return r.finishAs(ctx, merge.StatusSuccess, stats, "")
	case errors.Is(err, errLeaseLost) || errors.Is(cause, errLeaseLost):
		// Another worker may own the task now: touch nothing but the log.
		r.flush(ctx)
		return nil, fmt.Errorf("engine: task %s: %w: %v", r.id, merge.ErrConflict, err)
	case ctx.Err() != nil:
		// The worker is stopping; the lease runs out and the task is resumed elsewhere.
		r.flush(ctx)
		return nil, fmt.Errorf("engine: task %s stopped: %w", r.id, ctx.Err())
	}
	// The cancel and the rollback get their own context: the work's has ended.
	rctx := context.WithoutCancel(ctx)
	if errors.Is(err, errCancelRequested) || errors.Is(cause, errCancelRequested) {
		by := r.cancelledBy(rctx)
		msg := "cancelled by " + by + "; the table was left as it was"
		if r.cp != nil && r.cp.Strategy != merge.StrategySafeMerge {
			msg = fmt.Sprintf("cancelled by %s; the statement running was cancelled, and the %d partition(s) merged before it stay merged: %s rewrites in place, which cannot be rolled back", by, r.merged(), r.cp.Strategy)
		} else {
			r.log(rctx, merge.LevelWarn, "cancel", fmt.Sprintf("cancelled by %s; rolling back every partition this task changed", by))
		}
		if rbErr := r.rollbackAll(rctx); rbErr != nil {
			msg = fmt.Sprintf("cancelled by %s, but rolling back failed: %v; run the rollback again once the cause is fixed", by, rbErr)
			r.log(rctx, merge.LevelError, "cancel", msg)
		}
		return r.finishAs(rctx, merge.StatusCancelled, r.stats(), msg)
	}
	msg := r.failure(rctx, err)
	if errors.Is(cause, errTimedOut) {
		timeout := r.e.Timeout
		if timeout <= 0 {
			timeout = merge.DefaultTaskTimeout
		}
		msg = fmt.Sprintf("the task ran past its timeout of %s (started %s): %s", timeout, r.task.StartedAt.Format(time.RFC3339), msg)
	}
	r.log(rctx, merge.LevelError, "failed", msg)
	t, ferr := r.finishAs(rctx, merge.StatusFailed, r.stats(), msg)
	if ferr != nil {
		return nil, ferr
	}
	return t, nil
}

// finishAs ends the task with status, writing the log entries left with it.
func (r *run) finishAs(ctx context.Context, status merge.Status, stats merge.Stats, msg string) (*merge.Task, error) {
	return r.update(ctx, func(s *merge.Service) (*merge.Task, error) {
		return s.Finish(ctx, r.id, r.owner, status, stats, msg)
	})
}

func (r *run) cancelledBy(ctx context.Context) string {
	if r.task.CancelledBy != "" {
		return r.task.CancelledBy
	}
	if t, err := r.e.Tasks.GetTask(ctx, r.id); err == nil && t.CancelledBy != "" {
		return t.CancelledBy
	}
	return "a user"
}

// failure rolls back the partition that failed and says what happened and what to do.
func (r *run) failure(ctx context.Context, err error) string {
	var pe *partitionError
	if !errors.As(err, &pe) {
		var mid []string
		if r.cp != nil {
			for _, p := range r.cp.Partitions {
				if !p.Step.Final() && p.Step != merge.StepPlanned {
					mid = append(mid, fmt.Sprintf("%s at %s", displayName(p.Partition), p.Step))
				}
			}
		}
		switch {
		case len(mid) > 0:
			return fmt.Sprintf("%v; partitions were left mid-way (%s): roll the task back to restore them, fix the cause and create the task again", err, summarize(mid))
		case r.cp != nil && r.merged() > 0:
			return fmt.Sprintf("%v; %d partition(s) merged earlier stay merged. Fix the cause and create a task for the remaining partitions", err, r.merged())
		}
		return fmt.Sprintf("%v; nothing was changed. Fix the cause and create the task again", err)
	}
	merged := r.merged()
	var b strings.Builder
	b.WriteString(pe.Error())
	uctx, cancel := r.undoContext(ctx)
	defer cancel()
	if rbErr := r.undo(uctx, pe.p); rbErr != nil {
		fmt.Fprintf(&b, "; rolling it back failed too (%v): check that it points at %s and remove %s", rbErr, pe.p.OldLocation, pe.p.Staging)
	} else {
		switch {
		case r.cp.Strategy == merge.StrategySafeMerge:
			b.WriteString("; the partition was rolled back to its original location and is unchanged")
		case pe.p.Step == merge.StepPlanned:
			b.WriteString("; the partition was not changed")
		case r.cp.Strategy == merge.StrategyACIDCompact:
			b.WriteString("; a compaction changes no rows, and Hive's compactor may retry it")
		default:
			fmt.Fprintf(&b, "; %s rewrites in place and cannot be rolled back, so check the partition's rows", r.cp.Strategy)
		}
		pe.p.Error = pe.err.Error()
		if r.cp.Strategy == merge.StrategySafeMerge {
			pe.p.Step = merge.StepRolledBack
		}
		_ = r.saveQuiet(ctx)
	}
	if merged > 0 {
		fmt.Fprintf(&b, ". %d partition(s) merged before it stay merged", merged)
		if r.cp.Strategy == merge.StrategySafeMerge {
			b.WriteString(" (a rollback can restore them while their backups are kept)")
		}
	}
	b.WriteString(". Fix the cause and run a new task for the remaining partitions")
	return b.String()
}

// merged counts the partitions done.
func (r *run) merged() int {
	n := 0
	for _, p := range r.cp.Partitions {
		if p.Step == merge.StepDone {
			n++
		}
	}
	return n
}

// saveQuiet records the checkpoint without letting a cancel request stop the caller.
func (r *run) saveQuiet(ctx context.Context) error {
	err := r.save(ctx, r.step, r.percent)
	if errors.Is(err, errCancelRequested) {
		return nil
	}
	return err
}

// undoContext bounds the rollback a run makes as it ends, so that a Hive that hangs cannot
// keep the task from ending: nobody renews the lease then, and half of it is left to record
// the outcome before another worker may take the task over. ctx stays for the task's own
// writes.
func (r *run) undoContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.e.lease()/2)
}

// rollbackAll rolls back every partition that is not back at its original location.
func (r *run) rollbackAll(ctx context.Context) error {
	if r.cp == nil {
		return nil
	}
	uctx, cancel := r.undoContext(ctx)
	defer cancel()
	if err := r.table(uctx); err != nil {
		return err
	}
	var errs []error
	for i := range r.cp.Partitions {
		p := &r.cp.Partitions[i]
		if p.Step == merge.StepSkipped || p.Step == merge.StepRolledBack || p.Step == merge.StepPlanned {
			continue
		}
		if err := r.undo(uctx, p); err != nil {
			errs = append(errs, fmt.Errorf("partition %s: %w", displayName(p.Partition), err))
			continue
		}
		if r.cp.Strategy == merge.StrategySafeMerge {
			p.Step = merge.StepRolledBack
		}
		_ = r.saveQuiet(ctx)
	}
	return errors.Join(errs...)
}

// stats adds up the partitions the task merged.
func (r *run) stats() merge.Stats {
	var s merge.Stats
	if r.cp != nil {
		for _, p := range r.cp.Partitions {
			if p.Step != merge.StepDone {
				continue
			}
			s.FilesBefore += p.FilesBefore
			s.BytesBefore += p.BytesBefore
			s.FilesAfter += p.FilesAfter
			s.BytesAfter += p.BytesAfter
			s.RowsValidated += p.RowsBefore
		}
	}
	if !r.task.StartedAt.IsZero() {
		s.DurationMS = max(r.e.now().Sub(r.task.StartedAt).Milliseconds(), 0)
	}
	return s
}

// log adds to the task's log. A run holding the task keeps its entries until its next task
// update, which writes them in the same store write (see update): a step's log lines are
// recorded with the checkpoint that ends the step, so a worker that dies loses at most the
// lines of the step in flight (and of the lease renewal period), never those of a step it
// recorded. Logging is best effort: a store hiccup must not fail a merge whose state is
// recorded by the checkpoint.
func (r *run) log(ctx context.Context, level merge.LogLevel, step, msg string, extra ...merge.LogEntry) {
	r.add(ctx, append([]merge.LogEntry{{Level: level, Step: step, Message: msg}}, extra...)...)
}

func (r *run) add(ctx context.Context, entries ...merge.LogEntry) {
	now := r.e.now()
	for i := range entries {
		if entries[i].Time.IsZero() {
			entries[i].Time = now
		}
	}
	if r.owner == "" {
		// A rollback holds no lease and makes no task update of its own to log with.
		_ = r.e.Tasks.Log(context.WithoutCancel(ctx), r.id, entries...)
		return
	}
	r.mu.Lock()
	r.pending = append(r.pending, entries...)
	r.mu.Unlock()
}

// update makes one task update through fn, with the pending log entries written in the same
// store write. When the update fails they are logged on their own, so that nothing is lost
// with a lost lease or a failed save.
func (r *run) update(ctx context.Context, fn func(*merge.Service) (*merge.Task, error)) (*merge.Task, error) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	entries := r.takePending()
	t, err := fn(r.e.Tasks.Logged(entries...))
	if err != nil && len(entries) > 0 {
		_ = r.e.Tasks.Log(context.WithoutCancel(ctx), r.id, entries...)
	}
	return t, err
}

// flush writes the pending log entries on their own, when no task update will follow.
func (r *run) flush(ctx context.Context) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if entries := r.takePending(); len(entries) > 0 {
		_ = r.e.Tasks.Log(context.WithoutCancel(ctx), r.id, entries...)
	}
}

func (r *run) takePending() []merge.LogEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	entries := r.pending
	r.pending = nil
	return entries
}

// Hive's log lines kept per statement: the first hiveHead and the last hiveTail, with a note
// of how many were left out between them. A statement over many files can print thousands
// (one per task or file), and they are written with the step's checkpoint.
const (
	hiveHead = 20
	hiveTail = 20
)

// hiveLines collects a statement's Hive log lines, as many as it keeps.
type hiveLines struct {
	mu         sync.Mutex
	head, tail []string
	n          int
}

func (h *hiveLines) add(line string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
	switch {
	case len(h.head) < hiveHead:
		h.head = append(h.head, line)
	case len(h.tail) < hiveTail:
		h.tail = append(h.tail, line)
	default:
		copy(h.tail, h.tail[1:])
		h.tail[hiveTail-1] = line
	}
}

// entries are the kept lines as debug entries of step.
func (h *hiveLines) entries(step merge.Step) []merge.LogEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	lines := slices.Clone(h.head)
	if left := h.n - len(h.head) - len(h.tail); left > 0 {
		lines = append(lines, fmt.Sprintf("(%d more lines)", left))
	}
	lines = append(lines, h.tail...)
	out := make([]merge.LogEntry, 0, len(lines))
	for _, l := range lines {
		out = append(out, merge.LogEntry{Level: merge.LevelDebug, Step: string(step), Message: "hive: " + l})
	}
	return out
}

// exec runs one statement (on sess when set, so it sees the session's settings) and logs it
// with its duration and Hive's log lines. A statement cancelled because a cancel was
// requested is cancelled on the server too (CancelOperation).
func (r *run) exec(ctx context.Context, sess *hive.Session, step merge.Step, stmt string, rows bool) (*hive.Result, error) {
	var lines hiveLines
	ev := &hive.Events{Log: lines.add}
	start := time.Now()
	var res *hive.Result
	var err error
	switch {
	case sess != nil && rows:
		res, err = sess.Query(ctx, stmt, ev)
	case sess != nil:
		err = sess.Exec(ctx, stmt, ev)
	case rows:
		res, err = r.e.Hive.Query(ctx, stmt, ev)
	default:
		err = r.e.Hive.Exec(ctx, stmt, ev)
	}
	d := time.Since(start)
	entry := merge.LogEntry{Level: merge.LevelInfo, Step: string(step), Message: "ran", SQL: stmt, DurationMS: d.Milliseconds()}
	if err != nil {
		entry.Level, entry.Message = merge.LevelError, "failed: "+err.Error()
	}
	r.add(ctx, append(lines.entries(step), entry)...)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("%w (%v)", cause, err)
		}
		return nil, err
	}
	return res, nil
}

// sameLocation reports whether two locations name the same directory ("file:/x" and
// "file:///x" do).
func sameLocation(a, b string) bool {
	la, err1 := fsys.ParseLocation(a)
	lb, err2 := fsys.ParseLocation(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return la == lb
}
