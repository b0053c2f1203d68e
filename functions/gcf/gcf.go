// Package gcf is the Cloud Functions entry: importing it registers every hivemerge function
// with the functions framework (package functions does, in its init functions) and makes them
// serve one Server built from the environment by package app on first use. Executions run
// within the ExecuteTask request unless HIVEMERGE_EXECUTE_MODE says otherwise: with remote
// (the API and RunSchedulerJob functions), execute requests and the dispatch and
// resume-requeued jobs hand tasks to ExecuteTask.
package gcf

import (
	"context"
	"errors"
	"os"

	"github.com/hivemerge/hivemerge/functions"
	"github.com/hivemerge/hivemerge/scheduler"
	"github.com/hivemerge/hivemerge/shared/app"
	"github.com/hivemerge/hivemerge/shared/cloudlog"
	"github.com/hivemerge/hivemerge/shared/merge"
)

func init() { functions.SetBuilder(build) }

// build makes the Server of a deployed function. Its App stays open for the life of the
// instance.
func build() (*functions.Server, error) {
	level, err := cloudlog.ParseLevel(os.Getenv("HIVEMERGE_LOG_LEVEL"))
	if err != nil {
		return nil, err
	}
	auth, err := functions.AuthFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	// A deployed function is not bound to loopback: anonymous access is for cmd/local only.
	if auth.Anonymous() != functions.RoleNone {
		return nil, errors.New("HIVEMERGE_ALLOW_ANONYMOUS is only honoured by the local server on a loopback address; unset it")
	}
	logger := cloudlog.New(os.Stdout, level)
	a, err := app.Open(context.Background(), os.Getenv, logger, app.Options{Mode: app.ModeSync})
	if err != nil {
		return nil, err
	}
	runCfg, err := scheduler.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	jobs := scheduler.NewService(a.Service, a.Store, logger, scheduler.ServiceConfig{RunRetention: runCfg.RunRetention})
	jobs.RegisterPolicyJobs(scheduler.PolicyJobs{Policies: a.Store, Metrics: a.Store, Scanner: a.Discovery, MaxTasks: runCfg.BatchMaxTasks})
	jobs.RegisterCleanupJob(a.Engine)
	a.Engine.RegisterJobs(jobs, a.Store)
	return functions.NewServer(a.Service, auth, logger).WithEngine(a.Engine).WithDiscovery(a.Discovery).
		WithScheduling(functions.Scheduling{
			Policies: merge.NewPolicies(a.Store, scheduler.Windows{}),
			Jobs:     jobs,
			Planner:  jobs.Planner(a.Store),
		}), nil
}
