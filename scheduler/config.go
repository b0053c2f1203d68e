package scheduler

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Config says when each job runs.
type Config struct {
	// Location is the zone specs are read in, unless a spec starts with CRON_TZ=.
	Location *time.Location
	// CheckPending is the spec of the job that requeues tasks whose worker died.
	CheckPending string
}

// DefaultCheckPending runs the lease check often: a dead worker's task waits at most this long
// plus its lease before it is resumed.
const DefaultCheckPending = "@every 1m"

// ConfigFromEnv reads HIVEMERGE_SCHEDULE_TZ (default UTC) and HIVEMERGE_SCHEDULE_CHECK_PENDING
// (default @every 1m) and validates them.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{Location: time.UTC, CheckPending: DefaultCheckPending}
	if tz := getenv("HIVEMERGE_SCHEDULE_TZ"); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return Config{}, fmt.Errorf("HIVEMERGE_SCHEDULE_TZ=%q: %w", tz, err)
		}
		cfg.Location = loc
	}
	if spec := getenv("HIVEMERGE_SCHEDULE_CHECK_PENDING"); spec != "" {
		cfg.CheckPending = spec
	}
	if _, err := ParseSpec(cfg.CheckPending); err != nil {
		return Config{}, fmt.Errorf("HIVEMERGE_SCHEDULE_CHECK_PENDING: %w", err)
	}
	return cfg, nil
}

// ForService returns a stopped scheduler with hivemerge's jobs over svc.
func ForService(svc *merge.Service, log *slog.Logger, cfg Config) (*Scheduler, error) {
	s := New(log, cfg.Location)
	jobs := Jobs{Tasks: svc, Log: log}
	if err := s.Add("check-pending", cfg.CheckPending, jobs.CheckPending); err != nil {
		return nil, err
	}
	return s, nil
}
