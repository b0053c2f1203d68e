package scheduler

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Config says when each job runs and how the jobs behave.
type Config struct {
	// Location is the zone specs are read in, unless a spec starts with CRON_TZ=.
	Location *time.Location
	// CheckPending is the spec of the job that requeues tasks whose worker died.
	CheckPending string
	// Retention is the spec of the job that deletes old run records.
	Retention string
	// Scan and BatchCreate are the specs of the scheduled scans of what policies cover and
	// of the creation of their tasks; BatchMaxTasks caps the tasks one run creates.
	Scan          string
	BatchCreate   string
	BatchMaxTasks int
	// CleanupBackups is the spec of the job that deletes safe_merge backups past their keep
	// period.
	CleanupBackups string
	// RunRetention is how long run records are kept.
	RunRetention time.Duration
	// PoliciesFile, when set, is a YAML or JSON file of policies the daemon stores at start.
	PoliciesFile string
}

// Default specs. CheckPending runs often: a dead worker's task waits at most this long plus
// its lease before it is resumed.
const (
	DefaultCheckPending = "@every 1m"
	DefaultRetention    = "@daily"
	DefaultScan         = "@every 6h"
	DefaultBatchCreate  = "@hourly"
	// DefaultCleanupBackups looks for expired backups every hour: a backup outlives its
	// keep period by at most that.
	DefaultCleanupBackups = "@hourly"
)

// ConfigFromEnv reads and validates:
//
//	HIVEMERGE_SCHEDULE_TZ             zone of the specs (default UTC)
//	HIVEMERGE_SCHEDULE_CHECK_PENDING  spec of check-pending (default @every 1m)
//	HIVEMERGE_SCHEDULE_RETENTION      spec of retention (default @daily)
//	HIVEMERGE_SCHEDULE_SCAN           spec of scan (default @every 6h)
//	HIVEMERGE_SCHEDULE_BATCH_CREATE   spec of batch-create (default @hourly)
//	HIVEMERGE_SCHEDULE_CLEANUP_BACKUPS spec of cleanup-backups (default @hourly)
//	HIVEMERGE_BATCH_MAX_TASKS         tasks one batch-create run may create (default 1000)
//	HIVEMERGE_RUN_RETENTION           age of run records retention deletes (default 30d)
//	HIVEMERGE_POLICIES_FILE           policies to store at start (YAML or JSON)
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{Location: time.UTC, CheckPending: DefaultCheckPending, Retention: DefaultRetention,
		Scan: DefaultScan, BatchCreate: DefaultBatchCreate, BatchMaxTasks: DefaultBatchMaxTasks, CleanupBackups: DefaultCleanupBackups,
		RunRetention: DefaultRunRetention, PoliciesFile: getenv("HIVEMERGE_POLICIES_FILE")}
	if tz := getenv("HIVEMERGE_SCHEDULE_TZ"); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return Config{}, fmt.Errorf("HIVEMERGE_SCHEDULE_TZ=%q: %w", tz, err)
		}
		cfg.Location = loc
	}
	for _, v := range []struct {
		env  string
		spec *string
	}{
		{"HIVEMERGE_SCHEDULE_CHECK_PENDING", &cfg.CheckPending},
		{"HIVEMERGE_SCHEDULE_RETENTION", &cfg.Retention},
		{"HIVEMERGE_SCHEDULE_SCAN", &cfg.Scan},
		{"HIVEMERGE_SCHEDULE_BATCH_CREATE", &cfg.BatchCreate},
		{"HIVEMERGE_SCHEDULE_CLEANUP_BACKUPS", &cfg.CleanupBackups},
	} {
		if spec := getenv(v.env); spec != "" {
			*v.spec = spec
		}
		if _, err := ParseSpec(*v.spec); err != nil {
			return Config{}, fmt.Errorf("%s: %w", v.env, err)
		}
	}
	if v := getenv("HIVEMERGE_BATCH_MAX_TASKS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > merge.MaxTasksPerRunLimit {
			return Config{}, fmt.Errorf("HIVEMERGE_BATCH_MAX_TASKS: %q is not a number between 1 and %d", v, merge.MaxTasksPerRunLimit)
		}
		cfg.BatchMaxTasks = n
	}
	if v := getenv("HIVEMERGE_RUN_RETENTION"); v != "" {
		d, err := ParseAge(v)
		if err != nil {
			return Config{}, fmt.Errorf("HIVEMERGE_RUN_RETENTION: %w", err)
		}
		cfg.RunRetention = d
	}
	return cfg, nil
}

// ParseAge reads a positive age as a Go duration ("36h") or whole days ("30d").
func ParseAge(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n > 100*365 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration such as 720h or 30d", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be positive", s)
	}
	return d, nil
}

// ForService returns a stopped scheduler running hivemerge's jobs over tasks and the run
// store on cfg's specs.
func ForService(tasks *merge.Service, runs merge.RunStore, log *slog.Logger, cfg Config) (*Scheduler, error) {
	svc := NewService(tasks, runs, log, ServiceConfig{RunRetention: cfg.RunRetention})
	s := New(svc, log, cfg.Location)
	for _, j := range []struct{ name, spec string }{
		{JobCheckPending, cfg.CheckPending},
		{JobRetention, cfg.Retention},
	} {
		if err := s.Add(j.name, j.spec); err != nil {
			return nil, fmt.Errorf("job %s: %w", j.name, err)
		}
	}
	return s, nil
}
