package functions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/hivemerge/hivemerge/scheduler"
	"github.com/hivemerge/hivemerge/shared/cloudlog"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/secretref"
	"github.com/hivemerge/hivemerge/shared/taskstore"
)

// The functions framework calls registered functions without a main to build anything, so
// they share a Server built from the environment on first use: AuthFromEnv and taskstore.Open,
// with the Hive prober and the password resolver for connection tests. Its store stays open
// for the life of the instance.
var defaultServer struct {
	mu  sync.Mutex
	srv *Server
	fns map[string]http.Handler
}

func init() {
	functions.HTTP(apiFunction, defaultFunction(apiFunction))
}

// register makes each operation with a function name a function of the framework.
func register(ops []operation) {
	for _, o := range ops {
		if o.fn != "" {
			functions.HTTP(o.fn, defaultFunction(o.fn))
		}
	}
}

// defaultFunction serves the function name of the default Server.
func defaultFunction(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fns, err := defaultFunctions()
		if err != nil {
			// Configuration errors are the operator's to fix; the caller learns only that the
			// service is unavailable.
			cloudlog.New(os.Stderr, slog.LevelInfo).Error("hivemerge is not configured", "error", err.Error(), "function", name)
			writeError(w, err)
			return
		}
		fns[name].ServeHTTP(w, r)
	}
}

// defaultFunctions builds the default Server once it is first needed. Unlike sync.Once it
// retries after a failure, so a transient error at a cold start does not stick for the life
// of the instance.
func defaultFunctions() (map[string]http.Handler, error) {
	defaultServer.mu.Lock()
	defer defaultServer.mu.Unlock()
	if defaultServer.srv != nil {
		return defaultServer.fns, nil
	}
	level, err := cloudlog.ParseLevel(os.Getenv("HIVEMERGE_LOG_LEVEL"))
	if err != nil {
		return nil, err
	}
	auth, err := AuthFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	// A deployed function is not bound to loopback: anonymous access is for cmd/local only.
	if auth.Anonymous() != RoleNone {
		return nil, errors.New("HIVEMERGE_ALLOW_ANONYMOUS is only honoured by the local server on a loopback address; unset it")
	}
	secrets, err := secretref.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	allowed, err := merge.ParseHostAllowlist(os.Getenv("HIVEMERGE_ALLOWED_CLUSTER_HOSTS"))
	if err != nil {
		return nil, fmt.Errorf("HIVEMERGE_ALLOWED_CLUSTER_HOSTS: %w", err)
	}
	st, err := taskstore.Open(context.Background(), os.Getenv)
	if err != nil {
		return nil, err
	}
	logger := cloudlog.New(os.Stdout, level)
	svc := merge.NewService(st, st).WithProber(&hive.Prober{Logger: logger, AllowedHosts: allowed}, secrets).WithAllowedHosts(allowed)
	runCfg, err := scheduler.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	srv := NewServer(svc, auth, logger).WithDiscovery(newDiscovery(st, secrets, logger)).WithScheduling(Scheduling{
		Policies: merge.NewPolicies(st, scheduler.Windows{}),
		Jobs:     scheduler.NewService(svc, st, logger, scheduler.ServiceConfig{RunRetention: runCfg.RunRetention}),
	})
	fns := map[string]http.Handler{}
	for _, f := range srv.Functions() {
		fns[f.Name] = f.Handler
	}
	defaultServer.srv, defaultServer.fns = srv, fns
	return fns, nil
}
