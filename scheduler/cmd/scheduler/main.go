// Command scheduler is hivemerge's scheduler daemon for on-prem deployments: it runs the
// periodic jobs against the configured task store until it is stopped.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hivemerge/hivemerge/scheduler"
	"github.com/hivemerge/hivemerge/shared/app"
	"github.com/hivemerge/hivemerge/shared/cloudlog"
	"github.com/hivemerge/hivemerge/shared/merge"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "scheduler:", err)
		os.Exit(1)
	}
}

// stopTimeout bounds how long running jobs may finish after a signal.
const stopTimeout = 30 * time.Second

// run schedules the jobs until ctx is done, then waits for running jobs.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	level, err := cloudlog.ParseLevel(getenv("HIVEMERGE_LOG_LEVEL"))
	if err != nil {
		return fmt.Errorf("HIVEMERGE_LOG_LEVEL: %w", err)
	}
	log := cloudlog.New(stdout, level)
	cfg, err := scheduler.ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, getenv, log, app.Options{Mode: app.ModeAsync})
	if err != nil {
		return err
	}
	defer a.Close()
	if cfg.PoliciesFile != "" {
		n, err := scheduler.ApplyPolicyFile(ctx, merge.NewPolicies(a.Store, scheduler.Windows{}), cfg.PoliciesFile)
		if err != nil {
			return fmt.Errorf("HIVEMERGE_POLICIES_FILE: %w", err)
		}
		log.Info("policies stored", "file", cfg.PoliciesFile, "count", n)
	}
	s, err := scheduler.ForService(a.Service, a.Store, log, cfg)
	if err != nil {
		return err
	}
	// The daemon's workers resume the merges whose worker died.
	if err := a.Engine.ScheduleResume(s, cfg.CheckPending); err != nil {
		return err
	}
	if err := a.Engine.ScheduleDispatch(s, cfg.CheckPending, a.Store); err != nil {
		return err
	}
	if err := s.AddPolicyJobs(scheduler.PolicyJobs{Policies: a.Store, Metrics: a.Store, Scanner: a.Discovery, MaxTasks: cfg.BatchMaxTasks}, cfg); err != nil {
		return err
	}
	if err := s.AddCleanupJob(a.Engine, cfg); err != nil {
		return err
	}
	s.Start()
	log.Info("scheduler started", "check_pending", cfg.CheckPending, "retention", cfg.Retention, "scan", cfg.Scan, "batch_create", cfg.BatchCreate, "cleanup_backups", cfg.CleanupBackups,
		"run_retention", cfg.RunRetention.String(), "time_zone", cfg.Location.String(), "owner", s.Service().Owner())
	<-ctx.Done()
	log.Info("scheduler stopping")
	sctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	return s.Stop(sctx)
}
