// Package app builds hivemerge's services from the environment: the task store, the resolver
// of cluster passwords, a Hive client and filesystems per cluster, and the engine that
// previews, runs and rolls back merges. The local server, the scheduler daemon and the Cloud
// Functions entry all start from Open, so package functions holds only HTTP.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/hivemerge/hivemerge/shared/discovery"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/secretref"
	"github.com/hivemerge/hivemerge/shared/taskstore"
)

// Mode is how ExecuteTask runs a task.
type Mode string

// Execute modes.
const (
	// ModeAsync hands the task to a bounded pool of in-process workers and answers at once:
	// the local server and the scheduler daemon, which live longer than a request.
	ModeAsync Mode = "async"
	// ModeSync runs the task within the request: a deployed function, whose instance may be
	// stopped once it has answered.
	ModeSync Mode = "sync"
	// ModeRemote hands the task to the deployment's ExecuteTask function (ModeSync there) and
	// answers once it is claimed: the API function, whose timeout is shorter than a merge's.
	// HIVEMERGE_FUNCTION_URLS names the function.
	ModeRemote Mode = "remote"
)

// Options are what the entry point decides rather than the environment.
type Options struct {
	// Mode is the execute mode unless HIVEMERGE_EXECUTE_MODE says otherwise.
	Mode Mode
	// Owner names this process in task leases and logs; empty means host:pid.
	Owner string
	// IDToken mints the bearer tokens of ModeRemote's hand-offs; nil means Google ID tokens
	// of the instance's service account.
	IDToken IDTokenFunc
}

// App is hivemerge's services, built once per process. Close releases them.
type App struct {
	Store     taskstore.Store
	StoreKind string
	Service   *merge.Service
	Engine    *Engine
	// Discovery scans the clusters with the same clients and filesystems as the engine.
	Discovery *discovery.Service

	secrets  *secretref.Resolver
	clusters *Clusters
}

// Defaults of the environment's settings.
const (
	DefaultWorkers = 2
	DefaultLease   = 5 * time.Minute
)

// Open builds the services the environment configures (getenv; nil means os.Getenv). The
// workers of ModeAsync start at once and run until Close.
func Open(ctx context.Context, getenv func(string) string, logger *slog.Logger, opt Options) (*App, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := engineConfig(getenv, opt)
	if err != nil {
		return nil, err
	}
	kind, err := taskstore.Kind(getenv)
	if err != nil {
		return nil, err
	}
	secrets, err := secretref.FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	allowed, err := merge.ParseHostAllowlist(getenv("HIVEMERGE_ALLOWED_CLUSTER_HOSTS"))
	if err != nil {
		secrets.Close()
		return nil, fmt.Errorf("HIVEMERGE_ALLOWED_CLUSTER_HOSTS: %w", err)
	}
	st, err := taskstore.Open(ctx, getenv)
	if err != nil {
		secrets.Close()
		return nil, err
	}
	svc := merge.NewService(st, st).WithProber(&hive.Prober{Logger: logger, AllowedHosts: allowed}, secrets).WithAllowedHosts(allowed)
	clusters := NewClusters(svc, secrets, allowed, logger)
	clusters.Lease, clusters.Timeout = cfg.lease, cfg.timeout
	clusters.Retention, clusters.Backups = cfg.backupRetention, st
	svc.WithTargetChecker(clusters)
	a := &App{Store: st, StoreKind: kind, Service: svc, secrets: secrets, clusters: clusters}
	a.Engine = newEngine(svc, clusters, cfg, logger)
	if cfg.mode == ModeRemote {
		a.Engine.remote = newRemote(a.Engine.ctx, cfg.executeURL, opt.IDToken, svc, logger)
	}
	a.Discovery = &discovery.Service{Store: st, Connector: clusters, Registry: st, Logger: logger}
	return a, nil
}

// Close stops the workers (a task they were running stays running under its lease, for the
// next worker to resume), then closes the Hive clients, filesystems and the store.
func (a *App) Close() error {
	a.Engine.stop()
	derr := a.Discovery.Close()
	return errors.Join(derr, a.clusters.Close(), a.secrets.Close(), a.Store.Close())
}

// engineSettings are the engine's settings from the environment.
type engineSettings struct {
	mode    Mode
	workers int
	lease   time.Duration
	timeout time.Duration
	owner   string
	// backupRetention is how long safe_merge keeps the original files.
	backupRetention time.Duration
	// executeURL is ExecuteTask's URL, which ModeRemote hands tasks to.
	executeURL string
}

func engineConfig(getenv func(string) string, opt Options) (engineSettings, error) {
	cfg := engineSettings{mode: opt.Mode, workers: DefaultWorkers, lease: DefaultLease, owner: opt.Owner}
	if cfg.mode == "" {
		cfg.mode = ModeAsync
	}
	switch m := Mode(getenv("HIVEMERGE_EXECUTE_MODE")); m {
	case "":
	case ModeAsync, ModeSync, ModeRemote:
		cfg.mode = m
	default:
		return cfg, fmt.Errorf("HIVEMERGE_EXECUTE_MODE=%q: want async, sync or remote", m)
	}
	if cfg.mode == ModeRemote {
		v := getenv("HIVEMERGE_FUNCTION_URLS")
		if v == "" {
			return cfg, errors.New("HIVEMERGE_EXECUTE_MODE=remote needs HIVEMERGE_FUNCTION_URLS with the URL of " + ExecuteFunction)
		}
		urls, err := ParseFunctionURLs(v)
		if err != nil {
			return cfg, fmt.Errorf("HIVEMERGE_FUNCTION_URLS: %w", err)
		}
		if cfg.executeURL = urls[ExecuteFunction]; cfg.executeURL == "" {
			return cfg, fmt.Errorf("HIVEMERGE_FUNCTION_URLS has no %s, which HIVEMERGE_EXECUTE_MODE=remote hands tasks to", ExecuteFunction)
		}
	}
	if v := getenv("HIVEMERGE_WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			return cfg, fmt.Errorf("HIVEMERGE_WORKERS=%q: want a number from 1 to 64", v)
		}
		cfg.workers = n
	}
	if v := getenv("HIVEMERGE_TASK_LEASE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > time.Hour {
			return cfg, fmt.Errorf("HIVEMERGE_TASK_LEASE=%q: want a duration from 1s to 1h", v)
		}
		cfg.lease = d
	}
	timeout, err := merge.ParseTaskTimeout(getenv("HIVEMERGE_TASK_TIMEOUT"))
	if err != nil {
		return cfg, fmt.Errorf("HIVEMERGE_TASK_TIMEOUT: %w", err)
	}
	cfg.timeout = timeout
	if v := getenv("HIVEMERGE_BACKUP_RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return cfg, fmt.Errorf("HIVEMERGE_BACKUP_RETENTION=%q: want a positive duration such as 72h", v)
		}
		cfg.backupRetention = d
	}
	if cfg.owner == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "worker"
		}
		cfg.owner = host + ":" + strconv.Itoa(os.Getpid())
	}
	return cfg, nil
}
