package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// JobFunc is one job's work. It returns what it saw and did; an error fails the run.
type JobFunc func(ctx context.Context) (Outcome, error)

// Outcome is what a job run saw and did, for its run record.
type Outcome struct {
	// Counts are named numbers ("requeued": 2).
	Counts map[string]int64
	// Summary is one short sentence; Skipped marks a run that had nothing it was allowed to
	// do.
	Summary string
	Skipped bool
}

// Job names.
const (
	JobCheckPending = "check-pending"
	JobRetention    = "retention"
)

// Job timeouts: a run that outlives its timeout has its context cancelled and is recorded as
// failed.
const (
	CheckPendingTimeout = 5 * time.Minute
	RetentionTimeout    = 10 * time.Minute
)

// DefaultRunRetention is how long run records are kept.
const DefaultRunRetention = 30 * 24 * time.Hour

// Service holds the scheduler's jobs. Each job is a plain method (CheckPending, Retention) and
// runs through Run, which claims the run's slot in the run store first, so that of several
// schedulers (or a scheduler and an API call) only one runs a given slot, then records the
// outcome and logs once.
//
// Register is the extension point for jobs whose work lives elsewhere (scheduled scans, batch
// task creation, backup cleanup): give it a name, a timeout and a method.
type Service struct {
	tasks     *merge.Service
	runs      merge.RunStore
	log       *slog.Logger
	owner     string
	now       merge.Clock
	retention time.Duration

	mu      sync.Mutex
	jobs    map[string]job
	running map[string]bool
}

type job struct {
	timeout time.Duration
	fn      JobFunc
}

// ServiceConfig configures a Service.
type ServiceConfig struct {
	// Owner names this scheduler in run records; default host/pid.
	Owner string
	// RunRetention is how long run records are kept; default DefaultRunRetention.
	RunRetention time.Duration
}

// NewService returns a Service with the check-pending and retention jobs over tasks and runs.
func NewService(tasks *merge.Service, runs merge.RunStore, log *slog.Logger, cfg ServiceConfig) *Service {
	if cfg.Owner == "" {
		cfg.Owner = DefaultOwner()
	}
	if cfg.RunRetention <= 0 {
		cfg.RunRetention = DefaultRunRetention
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{tasks: tasks, runs: runs, log: log, owner: cfg.Owner, now: time.Now, retention: cfg.RunRetention,
		jobs: map[string]job{}, running: map[string]bool{}}
	s.Register(JobCheckPending, CheckPendingTimeout, s.CheckPending)
	s.Register(JobRetention, RetentionTimeout, s.Retention)
	return s
}

// DefaultOwner is "host/pid".
func DefaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

// WithClock makes the service read time from now; tests use it.
func (s *Service) WithClock(now merge.Clock) *Service {
	s.now = now
	return s
}

// Register adds or replaces a job. name must pass merge.CheckJobName.
func (s *Service) Register(name string, timeout time.Duration, fn JobFunc) {
	if err := merge.CheckJobName("job", name); err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs[name] = job{timeout: timeout, fn: fn}
}

// Jobs returns the names of the registered jobs, sorted.
func (s *Service) Jobs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.jobs))
}

// Owner is the name this service gives itself in run records.
func (s *Service) Owner() string { return s.owner }

// Runs lists run records, newest first.
func (s *Service) Runs(ctx context.Context, f merge.RunFilter) (merge.RunPage, error) {
	if f.Job != "" {
		if err := merge.CheckJobName("job", f.Job); err != nil {
			return merge.RunPage{}, err
		}
	}
	if f.Limit < 0 || f.Limit > merge.MaxListLimit {
		return merge.RunPage{}, merge.Errorf(merge.ErrInvalid, "limit must be between 1 and %d", merge.MaxListLimit)
	}
	return s.runs.ListRuns(ctx, f)
}

// Run runs job name for the slot starting at slot on behalf of owner ("" for this service):
// it claims the slot's run record, runs the job under its timeout, records the outcome and
// logs one line. A slot another run claimed fails with ErrConflict; an unknown job with
// ErrNotFound naming the known ones. A job's own failure (an error or a panic) is not an
// error of Run: it is the returned record's status and errors.
func (s *Service) Run(ctx context.Context, name string, slot time.Time, owner string) (*merge.Run, error) {
	s.mu.Lock()
	j, ok := s.jobs[name]
	s.mu.Unlock()
	if !ok {
		return nil, merge.Errorf(merge.ErrNotFound, "job %q not found; the jobs are %s", excerpt(name), strings.Join(s.Jobs(), ", "))
	}
	if owner == "" {
		owner = s.owner
	}
	slot = slot.UTC()
	started := s.now().UTC()
	r := &merge.Run{ID: merge.RunID(name, slot), Job: name, Slot: slot, Status: merge.RunRunning, StartedAt: started, Owner: owner}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The claim is not abandoned half-way when ctx ends (a stop): a record created but
	// unanswered would stay "running" with its job never run.
	cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	err := s.runs.CreateRun(cctx, r)
	ccancel()
	if err != nil {
		if errors.Is(err, merge.ErrConflict) {
			return nil, merge.Errorf(merge.ErrConflict, "job %s already ran for slot %s (run %s)", name, slot.Format(time.RFC3339), r.ID)
		}
		return nil, err
	}

	out, err := s.execute(ctx, name, j, r)
	r.FinishedAt = s.now().UTC()
	r.DurationMS = r.FinishedAt.Sub(started).Milliseconds()
	r.Counts, r.Summary = out.Counts, out.Summary
	switch {
	case err != nil:
		r.Status, r.Errors = merge.RunFailed, []string{err.Error()}
	case out.Skipped:
		r.Status = merge.RunSkipped
	default:
		r.Status = merge.RunSucceeded
	}
	r.Trim()
	// The outcome is recorded even when ctx ended (a stop, a client that went away).
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	recErr := s.runs.UpdateRun(rctx, r)

	attrs := []any{"job", name, "run_id", r.ID, "status", r.Status, "duration_ms", r.DurationMS, "owner", owner}
	for _, k := range slices.Sorted(maps.Keys(r.Counts)) {
		attrs = append(attrs, k, r.Counts[k])
	}
	if recErr != nil {
		attrs = append(attrs, "record_error", recErr.Error())
	}
	switch {
	case err != nil:
		s.log.Error("job failed", append(attrs, "error", err.Error())...)
	case recErr != nil:
		s.log.Warn("job finished but its run record was not updated", attrs...)
	default:
		s.log.Info("job finished", attrs...)
	}
	return r, nil
}

// execute runs j unless another run of it is going in this process (then the run is
// skipped), under its timeout, turning a panic into an error.
func (s *Service) execute(ctx context.Context, name string, j job, r *merge.Run) (out Outcome, err error) {
	s.mu.Lock()
	busy := s.running[name]
	s.running[name] = true
	s.mu.Unlock()
	if busy {
		return Outcome{Skipped: true, Summary: "a run of " + name + " was still in progress"}, nil
	}
	defer func() {
		s.mu.Lock()
		delete(s.running, name)
		s.mu.Unlock()
	}()
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("job panicked", "job", name, "run_id", r.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			out, err = Outcome{}, fmt.Errorf("panic: %v", p)
		}
	}()
	if j.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, j.timeout)
		defer cancel()
	}
	return j.fn(ctx)
}

// CheckPending returns tasks whose worker died (lease expired) to pending so they resume from
// their recorded step, or finishes them as cancelled when a cancel was requested.
func (s *Service) CheckPending(ctx context.Context) (Outcome, error) {
	n, err := s.tasks.RequeueExpired(ctx)
	out := Outcome{Counts: map[string]int64{"requeued": int64(n)}, Summary: fmt.Sprintf("requeued %d tasks with expired leases", n)}
	if err != nil {
		return out, fmt.Errorf("check pending: %w", err)
	}
	return out, nil
}

// Retention deletes run records older than the configured retention.
func (s *Service) Retention(ctx context.Context) (Outcome, error) {
	cutoff := s.now().Add(-s.retention)
	n, err := s.runs.DeleteRunsBefore(ctx, cutoff)
	out := Outcome{Counts: map[string]int64{"runs_deleted": int64(n)},
		Summary: fmt.Sprintf("deleted %d run records with slots before %s", n, cutoff.UTC().Format(time.RFC3339))}
	if err != nil {
		return out, fmt.Errorf("retention: %w", err)
	}
	return out, nil
}

// excerpt bounds how much of a caller's name an error repeats.
func excerpt(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%.64s...", s)
	}
	return s
}
