// Command local serves every hivemerge function at /Name, the REST API at /api/v1, the API docs
// at /docs, the web console at /console/ and /health on one port, over the embedded store
// unless Firestore is configured.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/hivemerge/hivemerge/functions"
	"github.com/hivemerge/hivemerge/scheduler"
	"github.com/hivemerge/hivemerge/shared/app"
	"github.com/hivemerge/hivemerge/shared/cloudlog"
	"github.com/hivemerge/hivemerge/shared/merge"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

// serverLimits bound what one client may hold of the server: a connection, a handler and
// memory for its headers.
type serverLimits struct {
	// readHeader and read bound reading a request's headers and the whole request: a
	// client sending its body a byte at a time is cut off once read has passed.
	readHeader, read time.Duration
	// write bounds a request from the end of its headers to the end of its response. No
	// endpoint streams; one that does (a log tail) would extend its own deadline with
	// http.ResponseController.SetWriteDeadline.
	write, idle    time.Duration
	maxHeaderBytes int
	// shutdown is how long in-flight requests may finish after a signal; connections still
	// open then are closed.
	shutdown time.Duration
}

// limits are the server's limits; tests shorten them. read leaves a 1 MiB body (the largest
// accepted) 30 s; write outlasts a connection test (hive.DefaultProbeTimeout).
var limits = serverLimits{
	readHeader:     10 * time.Second,
	read:           30 * time.Second,
	write:          time.Minute,
	idle:           2 * time.Minute,
	maxHeaderBytes: 64 << 10,
	shutdown:       10 * time.Second,
}

// run serves until ctx is done, then shuts down gracefully. It logs the bound address as
// {"message":"listening","addr":...}, so a caller passing port 0 learns where it is.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stdout)
	host := fs.String("host", envOr(getenv, "HOST", "127.0.0.1"), "address to listen on (HOST)")
	port := fs.String("port", envOr(getenv, "PORT", "8080"), "port to listen on, 0 for any (PORT)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}

	level, err := cloudlog.ParseLevel(getenv("HIVEMERGE_LOG_LEVEL"))
	if err != nil {
		return err
	}
	logger := cloudlog.New(stdout, level)

	auth, err := functions.AuthFromEnv(getenv)
	if err != nil {
		return err
	}
	if r := auth.Anonymous(); r != functions.RoleNone && !isLoopback(*host) {
		return fmt.Errorf("HIVEMERGE_ALLOW_ANONYMOUS=%s lets anyone who reaches %s in as %s; it is only allowed on a loopback address (HOST=127.0.0.1 or ::1)", r, *host, r)
	}

	a, err := app.Open(ctx, getenv, logger, app.Options{Mode: app.ModeAsync})
	if err != nil {
		return err
	}
	defer a.Close()
	svc := a.Service
	if getenv("HIVEMERGE_DEMO_CLUSTER") != "0" {
		if err := ensureDemoCluster(ctx, svc, getenv); err != nil {
			return err
		}
	}
	// A merge this server was running when it died resumes here once its lease expires: now
	// if it already has, else at the scheduler's next pending check.
	if a.Engine.Mode() == app.ModeAsync {
		if err := a.Engine.Recover(ctx); err != nil {
			return fmt.Errorf("resuming interrupted tasks: %w", err)
		}
	}

	// The embedded store admits one process, so the local server runs the scheduler's jobs
	// itself instead of beside a separate daemon. The API's job runs go through the same
	// service, so they and the scheduled runs see each other.
	cfg, err := scheduler.ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	policies := merge.NewPolicies(a.Store, scheduler.Windows{})
	if cfg.PoliciesFile != "" {
		n, err := scheduler.ApplyPolicyFile(ctx, policies, cfg.PoliciesFile)
		if err != nil {
			return fmt.Errorf("HIVEMERGE_POLICIES_FILE: %w", err)
		}
		logger.Info("policies stored", "file", cfg.PoliciesFile, "count", n)
	}
	sched, err := scheduler.ForService(svc, a.Store, logger, cfg)
	if err != nil {
		return err
	}
	if getenv("HIVEMERGE_SCHEDULER") != "0" {
		if err := a.Engine.ScheduleResume(sched, cfg.CheckPending); err != nil {
			return err
		}
		if err := a.Engine.ScheduleDispatch(sched, cfg.CheckPending, a.Store); err != nil {
			return err
		}
		sched.Start()
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), limits.shutdown)
			defer cancel()
			if err := sched.Stop(sctx); err != nil {
				logger.Warn("scheduler did not stop in time", "error", err)
			}
		}()
	}

	if err := startDiscovery(ctx, a, logger, getenv("HIVEMERGE_DEMO_CLUSTER") != "0"); err != nil {
		return err
	}
	if err := sched.AddPolicyJobs(scheduler.PolicyJobs{Policies: a.Store, Metrics: a.Store, Scanner: a.Discovery, MaxTasks: cfg.BatchMaxTasks}, cfg); err != nil {
		return err
	}
	if err := sched.AddCleanupJob(a.Engine, cfg); err != nil {
		return err
	}
	srv := functions.NewServer(svc, auth, logger).WithEngine(a.Engine).WithDiscovery(a.Discovery).
		WithScheduling(functions.Scheduling{Policies: policies, Jobs: sched.Service(), Planner: sched.Service().Planner(a.Store)})
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, *port))
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           mux(srv, getenv("FUNCTION_TARGET")),
		ReadHeaderTimeout: limits.readHeader,
		ReadTimeout:       limits.read,
		WriteTimeout:      limits.write,
		IdleTimeout:       limits.idle,
		MaxHeaderBytes:    limits.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String(), "store", a.StoreKind, "execute_mode", string(a.Engine.Mode()))

	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), limits.shutdown)
	defer cancel()
	if err := hs.Shutdown(sctx); errors.Is(err, context.DeadlineExceeded) {
		// A client still holding a request now (a hung or deliberately slow one) must not
		// turn a requested stop into a failure: its request ends as if the process had.
		logger.Warn("shutdown grace period over; closed the connections left", "grace", limits.shutdown.String())
		if err := hs.Close(); err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// apiFunction names the function that serves the whole REST router and the web console
// (functions.Server's Functions).
const apiFunction = "API"

// mux serves like the functions framework does, with the REST router beside the functions.
// funcframework.Start cannot be used: it calls http.ListenAndServe itself, so there is no
// listener to choose (port 0), no bound address to report and no graceful shutdown. Its
// routing is simple to keep: with FUNCTION_TARGET unset every function at exactly /Name; set,
// that one function at /.
//
// Additions for people: the API function, deployed, answers every path below its URL
// (.../API/api/v1/tasks/, .../API/console/), so it does so below /API/ too; the REST router
// leads / to the console at /console/.
func mux(srv *functions.Server, target string) http.Handler {
	m := http.NewServeMux()
	for _, f := range srv.Functions() {
		if target != "" {
			if f.Name == target {
				m.Handle("/", f.Handler)
			}
			continue
		}
		switch f.Name {
		case apiFunction:
			m.Handle("/"+f.Name, f.Handler)
			m.Handle("/"+f.Name+"/", http.StripPrefix("/"+f.Name, f.Handler))
			m.Handle("GET /"+f.Name, http.RedirectHandler("/"+f.Name+"/docs", http.StatusFound))
		default:
			m.Handle("/"+f.Name, f.Handler)
		}
	}
	if target == "" {
		m.Handle("/", srv.Handler())
	}
	return m
}

// ensureDemoCluster registers the cluster "demo" (the Hive sandbox) unless it exists, so the
// README's first curl works on a fresh store.
func ensureDemoCluster(ctx context.Context, svc *merge.Service, getenv func(string) string) error {
	if _, err := svc.GetCluster(ctx, "demo"); !errors.Is(err, merge.ErrNotFound) {
		return err
	}
	host, portText, err := net.SplitHostPort(envOr(getenv, "HIVEMERGE_SANDBOX_ADDR", "127.0.0.1:10000"))
	if err != nil {
		return fmt.Errorf("HIVEMERGE_SANDBOX_ADDR: %w", err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("HIVEMERGE_SANDBOX_ADDR: port %q is not a number", portText)
	}
	c := merge.Cluster{
		ID:        "demo",
		Name:      "Hive sandbox (demo)",
		Host:      host,
		Port:      port,
		Transport: merge.TransportBinary,
		Auth:      merge.AuthNoSASL,
	}
	if wh := getenv("HIVEMERGE_SANDBOX_WAREHOUSE"); wh != "" {
		abs, err := filepath.Abs(wh)
		if err != nil {
			return fmt.Errorf("HIVEMERGE_SANDBOX_WAREHOUSE: %w", err)
		}
		c.FSDefault = "file://" + filepath.ToSlash(abs)
	}
	if _, err := svc.CreateCluster(ctx, c); err != nil && !errors.Is(err, merge.ErrConflict) {
		return fmt.Errorf("registering the demo cluster: %w", err)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}
