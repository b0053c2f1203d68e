// Package scheduler runs hivemerge's periodic jobs on cron schedules.
package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Job is one periodic piece of work. It gets a context that ends when the scheduler stops.
type Job func(ctx context.Context) error

// Scheduler runs named jobs on cron specs. A run that is still going when its next time comes is
// skipped, and a panicking job is logged and recovered so its schedule goes on.
type Scheduler struct {
	cron   *cron.Cron
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
}

// specParser accepts the standard five fields plus descriptors (@every 1m, @daily) and a
// CRON_TZ= prefix.
var specParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// New returns a stopped scheduler whose specs are read in loc (robfig/cron would otherwise use
// the machine's local zone).
func New(log *slog.Logger, loc *time.Location) *Scheduler {
	cl := cronLogger{log}
	// SkipIfStillRunning must wrap Recover: in the other order a panic leaves the job's
	// "running" flag set and the job is skipped forever.
	c := cron.New(
		cron.WithLocation(loc),
		cron.WithParser(specParser),
		cron.WithChain(cron.SkipIfStillRunning(cl), cron.Recover(cl)),
		cron.WithLogger(cl),
	)
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{cron: c, log: log, ctx: ctx, cancel: cancel}
}

// ParseSpec validates a cron spec. robfig/cron panics on some malformed specs (a bare
// "CRON_TZ=UTC"), so the panic is turned into an error.
func ParseSpec(spec string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("invalid cron spec %q: %v", spec, r)
		}
	}()
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("empty cron spec")
	}
	s, err = specParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("invalid cron spec %q: %w", spec, err)
	}
	return s, nil
}

// Add schedules job under name.
func (s *Scheduler) Add(name, spec string, job Job) error {
	sched, err := ParseSpec(spec)
	if err != nil {
		return err
	}
	s.cron.Schedule(sched, cron.FuncJob(func() { s.run(name, job) }))
	return nil
}

// Run runs one job now, logging its outcome like a scheduled run.
func (s *Scheduler) run(name string, job Job) {
	start := time.Now()
	err := job(s.ctx)
	attrs := []any{"job", name, "duration_ms", time.Since(start).Milliseconds()}
	if err != nil {
		s.log.Error("job failed", append(attrs, "error", err)...)
		return
	}
	s.log.Info("job finished", attrs...)
}

// Start begins running jobs on their schedules.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops scheduling, cancels running jobs' context and waits for them until ctx ends.
func (s *Scheduler) Stop(ctx context.Context) error {
	done := s.cron.Stop().Done()
	s.cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("scheduler stop: %w", ctx.Err())
	}
}

// Jobs are hivemerge's periodic jobs as plain functions of the domain service.
type Jobs struct {
	Tasks *merge.Service
	Log   *slog.Logger
}

// CheckPending returns tasks whose worker died (lease expired) to pending so they resume from
// their recorded step, or finishes them as cancelled when a cancel was requested.
func (j Jobs) CheckPending(ctx context.Context) error {
	n, err := j.Tasks.RequeueExpired(ctx)
	if err != nil {
		return fmt.Errorf("check pending: %w", err)
	}
	if n > 0 {
		j.Log.Info("requeued tasks with expired leases", "count", n)
	}
	return nil
}

// cronLogger adapts slog to cron's logger interface.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "error", err)...)
}
