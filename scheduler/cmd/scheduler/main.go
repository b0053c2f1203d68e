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
	"github.com/hivemerge/hivemerge/shared/cloudlog"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore"
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
	store, err := taskstore.Open(ctx, getenv)
	if err != nil {
		return err
	}
	defer store.Close()
	if cfg.PoliciesFile != "" {
		n, err := scheduler.ApplyPolicyFile(ctx, merge.NewPolicies(store, scheduler.Windows{}), cfg.PoliciesFile)
		if err != nil {
			return fmt.Errorf("HIVEMERGE_POLICIES_FILE: %w", err)
		}
		log.Info("policies stored", "file", cfg.PoliciesFile, "count", n)
	}
	s, err := scheduler.ForService(merge.NewService(store, store), store, log, cfg)
	if err != nil {
		return err
	}
	s.Start()
	log.Info("scheduler started", "check_pending", cfg.CheckPending, "retention", cfg.Retention,
		"run_retention", cfg.RunRetention.String(), "time_zone", cfg.Location.String(), "owner", s.Service().Owner())
	<-ctx.Done()
	log.Info("scheduler stopping")
	sctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	return s.Stop(sctx)
}
