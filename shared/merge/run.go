package merge

import (
	"context"
	"regexp"
	"time"
)

// RunStatus is where a scheduler job run is.
type RunStatus string

// Run statuses. A run is created running (which claims its slot) and ends in one of the
// others; skipped means the job had nothing it was allowed to do, for example because another
// run of it was still going in the same process.
const (
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"
	RunSkipped   RunStatus = "skipped"
)

// Run is the record of one run of a scheduler job in one time slot. Its ID is RunID(Job,
// Slot): creating it claims the slot, so two schedulers never run one slot twice.
type Run struct {
	ID         string    `json:"id"`
	Job        string    `json:"job"`
	Slot       time.Time `json:"slot"`
	Status     RunStatus `json:"status"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	DurationMS int64     `json:"duration_ms"`
	// Owner says who ran it: a scheduler host and process, or the API caller.
	Owner string `json:"owner"`
	// Counts are what the run saw and did, by name ("requeued": 2).
	Counts  map[string]int64 `json:"counts,omitempty"`
	Summary string           `json:"summary,omitempty"`
	Errors  []string         `json:"errors,omitempty"`
}

// Limits that keep a run record small.
const (
	MaxRunSummary = 1024
	MaxRunErrors  = 20
	MaxRunError   = 1024
)

// Trim cuts the summary and errors to the limits above.
func (r *Run) Trim() {
	r.Summary = cut(r.Summary, MaxRunSummary)
	if len(r.Errors) > MaxRunErrors {
		r.Errors = r.Errors[:MaxRunErrors]
	}
	for i, e := range r.Errors {
		r.Errors[i] = cut(e, MaxRunError)
	}
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}

// RunID is the deterministic ID of job's run in the slot starting at slot:
// "<job>-<slot in UTC, RFC 3339 basic format>", e.g. "retention-20260301T020000Z".
func RunID(job string, slot time.Time) string {
	return job + "-" + slot.UTC().Format("20060102T150405Z")
}

var jobNameRe = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// CheckJobName accepts the names jobs may have: lowercase letters, digits and '-'.
func CheckJobName(field, name string) error {
	if !jobNameRe.MatchString(name) {
		return Errorf(ErrInvalid, "%s %q must be 1-63 lowercase letters, digits or '-', starting with a letter", field, excerpt(name))
	}
	return nil
}

// RunFilter selects run records; an empty Job selects every job's.
type RunFilter struct {
	Job       string
	Limit     int
	PageToken string
}

// RunPage is one page of run records, newest slot first.
type RunPage struct {
	Runs          []*Run `json:"runs"`
	NextPageToken string `json:"next_page_token,omitempty"`
}

// RunStore keeps run records.
type RunStore interface {
	// CreateRun stores a new record; it fails with ErrConflict when r.ID exists, atomically
	// with respect to concurrent creates, across processes. That is what claims a slot.
	CreateRun(ctx context.Context, r *Run) error
	// UpdateRun replaces a record; it fails with ErrNotFound for an unknown ID.
	UpdateRun(ctx context.Context, r *Run) error
	// GetRun fails with ErrNotFound for an unknown ID.
	GetRun(ctx context.Context, id string) (*Run, error)
	// ListRuns returns records matching f ordered by Slot then ID, newest first.
	ListRuns(ctx context.Context, f RunFilter) (RunPage, error)
	// DeleteRunsBefore removes the records whose slot is before t and returns how many.
	DeleteRunsBefore(ctx context.Context, t time.Time) (int, error)
}
