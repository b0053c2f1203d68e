// Package scheduler runs hivemerge's periodic jobs on cron schedules.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Scheduler runs a Service's jobs on cron specs. A run that is still going when its next time
// comes is skipped, and a panicking job is logged and recovered so its schedule goes on. Every
// run goes through Service.Run with the slot its schedule fired for, so schedulers sharing a
// store run each slot once.
type Scheduler struct {
	svc    *Service
	cron   *cron.Cron
	loc    *time.Location
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
}

// specParser accepts the standard five fields plus descriptors (@every 1m, @daily) and a
// CRON_TZ= prefix.
var specParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// New returns a stopped scheduler of svc's jobs whose specs are read in loc (robfig/cron would
// otherwise use the machine's local zone).
func New(svc *Service, log *slog.Logger, loc *time.Location) *Scheduler {
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
	return &Scheduler{svc: svc, cron: c, loc: loc, log: log, ctx: ctx, cancel: cancel}
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

// Add schedules the service's job name on spec.
func (s *Scheduler) Add(name, spec string) error {
	if !slices.Contains(s.svc.Jobs(), name) {
		return fmt.Errorf("job %q is not registered", name)
	}
	sched, err := ParseSpec(spec)
	if err != nil {
		return err
	}
	s.cron.Schedule(sched, cron.FuncJob(func() {
		slot := slotOf(sched, time.Now().In(s.loc))
		// A taken slot is another scheduler's run, not a failure. A job's own failure is in
		// its record and logged by Run; an error here means the run could not be claimed.
		_, err := s.svc.Run(s.ctx, name, slot, "")
		switch {
		case errors.Is(err, merge.ErrConflict):
			s.log.Debug("job run not started: its slot is taken", "job", name, "slot", slot)
		case err != nil:
			s.log.Error("job run not started", "job", name, "slot", slot, "error", err.Error())
		}
	}))
	return nil
}

// slotLookback bounds how late after its activation a run may start and still be given that
// activation as its slot.
const slotLookback = time.Hour

// slotOf returns the start of the slot a run starting at now belongs to, the same on every
// scheduler with the same spec: for a calendar spec, its latest activation at or before now;
// for @every d, now truncated to a multiple of d (since the zero time), because @every counts
// from whenever each scheduler started and so gives replicas no common activations.
func slotOf(sched cron.Schedule, now time.Time) time.Time {
	if d, ok := sched.(cron.ConstantDelaySchedule); ok {
		return now.Truncate(d.Delay)
	}
	t := sched.Next(now.Add(-slotLookback))
	if t.IsZero() || t.After(now) {
		return now.Truncate(time.Second)
	}
	for n := sched.Next(t); !n.IsZero() && !n.After(now); n = sched.Next(n) {
		t = n
	}
	return t
}

// Service is the service whose jobs s runs.
func (s *Scheduler) Service() *Service { return s.svc }

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

// cronLogger adapts slog to cron's logger interface. cron reports a run skipped because the
// previous one is still going as Info("skip"); that is worth seeing, the rest is debug.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" {
		c.l.Info("job run skipped: its previous run is still going", kv...)
		return
	}
	c.l.Debug("cron: "+msg, kv...)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "error", err)...)
}
