package merge

import (
	"errors"
	"time"
)

// ErrBusy means a limit on concurrent work refused a request for now: the task's cluster
// already runs as many tasks as its MaxRunningTasks allows. The task stays pending and a later
// claim, once a running task of the cluster has finished or been requeued, may succeed. It is
// not an ErrConflict, so that callers treating "already running" as success do not mistake a
// full cluster for it.
var ErrBusy = errors.New("busy")

// Running slots. A task holds one of its cluster's MaxRunningTasks slots from the claim that
// moves it from pending to running until it leaves running: it finishes (success, failed,
// cancelled) or is requeued to pending. A task whose lease expired still holds its slot: its
// worker may still be running Hive statements, so the slot is freed only when
// Service.RequeueExpired requeues it (or another worker takes it over, which needs no new
// slot).

// Task timeout defaults and bounds (HIVEMERGE_TASK_TIMEOUT).
const (
	DefaultTaskTimeout = 6 * time.Hour
	MinTaskTimeout     = time.Minute
	MaxTaskTimeout     = 30 * 24 * time.Hour
)

// ParseTaskTimeout parses a task timeout as HIVEMERGE_TASK_TIMEOUT holds it: a Go duration
// such as "90m" or "6h" between MinTaskTimeout and MaxTaskTimeout; empty means
// DefaultTaskTimeout.
func ParseTaskTimeout(s string) (time.Duration, error) {
	if s == "" {
		return DefaultTaskTimeout, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, Errorf(ErrInvalid, "task timeout %q is not a duration such as 90m or 6h", s)
	}
	if d < MinTaskTimeout || d > MaxTaskTimeout {
		return 0, Errorf(ErrInvalid, "task timeout %s must be between %s and %s", d, MinTaskTimeout, MaxTaskTimeout)
	}
	return d, nil
}

// Deadline is when t's execution must have ended: timeout (DefaultTaskTimeout when 0 or less)
// after StartedAt, the claim that last moved it from pending to running. A worker that takes
// over an expired lease inherits the deadline; a task requeued to pending gets a new one when
// it is claimed again. A task that never started has no deadline (the zero time).
func (t *Task) Deadline(timeout time.Duration) time.Time {
	if t.StartedAt.IsZero() {
		return time.Time{}
	}
	if timeout <= 0 {
		timeout = DefaultTaskTimeout
	}
	return t.StartedAt.Add(timeout)
}
