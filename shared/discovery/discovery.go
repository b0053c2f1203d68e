// Package discovery scans Hive warehouses: it lists every partition of the tables in a scope
// through their filesystem (or asks Hive when the filesystem is out of reach), evaluates them
// with the rules of package merge and keeps the metrics, scan by scan, in a merge.MetricsStore.
package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// Hive is the part of *hive.Client a scan uses: the planner's metadata calls and the catalog.
type Hive interface {
	engine.Hive
	Databases(ctx context.Context) ([]string, error)
	Tables(ctx context.Context, db string) ([]string, error)
}

var _ Hive = (*hive.Client)(nil)

// Connector gives the Hive client and the filesystems of a registered cluster. It fails with
// merge.ErrNotFound for an unknown cluster.
type Connector interface {
	Connect(ctx context.Context, clusterID string) (Hive, engine.Files, error)
}

// Defaults of a Service.
const (
	DefaultConcurrency          = 4
	DefaultPartitionConcurrency = 8
	DefaultRetention            = 90 * 24 * time.Hour
	DefaultLease                = 2 * time.Minute
)

// Service runs scans and answers for their metrics. Only Store and Connector are required.
type Service struct {
	Store     merge.MetricsStore
	Connector Connector
	// Registry lets the dashboard summary cover every cluster; without it a cluster is needed.
	Registry Registry
	// Thresholds are what files are measured against (merge's defaults when zero).
	Thresholds merge.Thresholds
	// Concurrency bounds the tables measured at once per cluster, over all of its scans;
	// PartitionConcurrency the partitions at once per table.
	Concurrency          int
	PartitionConcurrency int
	// Retention is how long a table's history is kept (DefaultRetention when 0; forever when
	// negative).
	Retention time.Duration
	// GrowthAlertPerDay: a table whose small files grow faster than this many a day between
	// two scans raises a growth alert (merge.DefaultGrowthAlertPerDay when 0).
	GrowthAlertPerDay float64
	// Lease is how long a running scan may go without a heartbeat before it is reported
	// interrupted; heartbeats come at a third of it.
	Lease  time.Duration
	Logger *slog.Logger
	// Now and NewID default to time.Now and merge.NewID.
	Now   func() time.Time
	NewID func() string

	once    sync.Once
	owner   string
	mu      sync.Mutex
	running map[string]*run          // by scan ID, in this process
	slots   map[string]chan struct{} // by cluster ID
}

// run is a scan this process is running.
type run struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	done   chan struct{}
}

// Causes of a scan's context ending early.
var (
	// errCancelled: a user cancelled the scan.
	errCancelled = errors.New("the scan was cancelled")
	// errShutdown: this process is stopping. The scan stays running in the store, so the next
	// process resumes it (Resume), or a reader reports it interrupted once its lease lapses.
	errShutdown = errors.New("the server is shutting down")
	// errLost: another worker took the scan over (its lease had lapsed).
	errLost = errors.New("another worker took the scan over")
)

// Close stops the scans this process runs and waits for them. They stay running in the
// store, to be resumed by the next process (see Resume).
func (s *Service) Close() error {
	s.init()
	s.mu.Lock()
	runs := make([]*run, 0, len(s.running))
	for _, r := range s.running {
		runs = append(runs, r)
	}
	s.mu.Unlock()
	for _, r := range runs {
		r.cancel(errShutdown)
	}
	for _, r := range runs {
		<-r.done
	}
	return nil
}

func (s *Service) init() {
	s.once.Do(func() {
		if s.Now == nil {
			s.Now = time.Now
		}
		if s.NewID == nil {
			s.NewID = merge.NewID
		}
		if s.Logger == nil {
			s.Logger = slog.New(slog.DiscardHandler)
		}
		s.owner = merge.NewID()
		s.running = map[string]*run{}
		s.slots = map[string]chan struct{}{}
	})
}

func (s *Service) now() time.Time { return s.Now().UTC() }

func (s *Service) thresholds() merge.Thresholds { return s.Thresholds.WithDefaults() }

func (s *Service) partitionConcurrency() int {
	if s.PartitionConcurrency > 0 {
		return s.PartitionConcurrency
	}
	return DefaultPartitionConcurrency
}

func (s *Service) lease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return DefaultLease
}

// slot returns the cluster's table semaphore, shared by all its scans.
func (s *Service) slot(clusterID string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.slots[clusterID]
	if !ok {
		n := s.Concurrency
		if n <= 0 {
			n = DefaultConcurrency
		}
		c = make(chan struct{}, n)
		s.slots[clusterID] = c
	}
	return c
}

// StartScan records a scan of scope on the cluster and runs it in the background; the scan it
// returns is pending. Follow it with GetScan, or Wait in the same process.
func (s *Service) StartScan(ctx context.Context, clusterID string, scope merge.ScanScope) (*merge.Scan, error) {
	sc, err := s.create(ctx, clusterID, scope)
	if err != nil {
		return nil, err
	}
	s.launch(sc)
	return sc, nil
}

// Scan runs a scan of scope to its end and returns it.
func (s *Service) Scan(ctx context.Context, clusterID string, scope merge.ScanScope) (*merge.Scan, error) {
	sc, err := s.create(ctx, clusterID, scope)
	if err != nil {
		return nil, err
	}
	r := s.register(ctx, sc.ID)
	defer s.unregister(sc.ID, r)
	return s.execute(r, sc)
}

func (s *Service) create(ctx context.Context, clusterID string, scope merge.ScanScope) (*merge.Scan, error) {
	s.init()
	if err := merge.CheckClusterID("cluster_id", clusterID); err != nil {
		return nil, err
	}
	if err := scope.Validate(); err != nil {
		return nil, err
	}
	// The cluster must exist and be reachable through the connector before a scan is kept.
	if _, _, err := s.Connector.Connect(ctx, clusterID); err != nil {
		return nil, err
	}
	now := s.now()
	sc := &merge.Scan{ID: s.NewID(), ClusterID: clusterID, Scope: scope, Status: merge.ScanPending, CreatedAt: now, Heartbeat: now, Owner: s.owner, Log: []merge.ScanLogEntry{}}
	sc.AddLog(now, "INFO", "scan of "+describeScope(clusterID, scope)+" requested")
	if err := s.Store.CreateScan(ctx, sc); err != nil {
		return nil, err
	}
	return sc, nil
}

// launch runs sc in the background, detached from the request that started it.
func (s *Service) launch(sc *merge.Scan) {
	r := s.register(context.Background(), sc.ID)
	go func() {
		defer s.unregister(sc.ID, r)
		if _, err := s.execute(r, sc); err != nil {
			s.Logger.Error("scan failed", "scan_id", sc.ID, "cluster_id", sc.ClusterID, "error", err.Error())
		}
	}()
}

func (s *Service) register(ctx context.Context, id string) *run {
	ctx, cancel := context.WithCancelCause(ctx)
	r := &run{ctx: ctx, cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	s.running[id] = r
	s.mu.Unlock()
	return r
}

func (s *Service) unregister(id string, r *run) {
	r.cancel(nil)
	s.mu.Lock()
	delete(s.running, id)
	s.mu.Unlock()
	close(r.done)
}

// Wait blocks until a scan this process runs ends, then returns it as stored.
func (s *Service) Wait(ctx context.Context, clusterID, id string) (*merge.Scan, error) {
	s.init()
	s.mu.Lock()
	r := s.running[id]
	s.mu.Unlock()
	if r != nil {
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.GetScan(ctx, clusterID, id)
}

// GetScan returns a scan with its progress and log. An active scan whose worker has not
// heartbeated within the lease (its process died) is marked interrupted here, so no scan
// stays running forever.
func (s *Service) GetScan(ctx context.Context, clusterID, id string) (*merge.Scan, error) {
	s.init()
	if err := checkScanID(clusterID, id); err != nil {
		return nil, err
	}
	sc, err := s.Store.GetScan(ctx, clusterID, id)
	if err != nil || !sc.Status.Active() || !s.stale(sc) {
		return sc, err
	}
	return s.Store.UpdateScan(ctx, clusterID, id, func(sc *merge.Scan) error {
		if sc.Status.Active() && s.stale(sc) {
			now := s.now()
			sc.Status, sc.FinishedAt = merge.ScanInterrupted, now
			sc.Error = fmt.Sprintf("the worker stopped at %s without finishing; start the scan again (unchanged partitions are not listed twice)", sc.Heartbeat.Format(time.RFC3339))
			sc.AddLog(now, "WARN", sc.Error)
		}
		return nil
	})
}

// stale reports whether sc's worker is gone: not this process's, and silent past the lease.
func (s *Service) stale(sc *merge.Scan) bool {
	s.mu.Lock()
	_, mine := s.running[sc.ID]
	s.mu.Unlock()
	return !mine && s.now().Sub(sc.Heartbeat) > s.lease()
}

// CancelScan asks a scan to stop. A scan running here stops at once; one running elsewhere at
// its next heartbeat. An ended scan is returned unchanged.
func (s *Service) CancelScan(ctx context.Context, clusterID, id string) (*merge.Scan, error) {
	s.init()
	if err := checkScanID(clusterID, id); err != nil {
		return nil, err
	}
	sc, err := s.Store.UpdateScan(ctx, clusterID, id, func(sc *merge.Scan) error {
		if sc.Status.Active() && !sc.CancelRequested {
			sc.CancelRequested = true
			sc.AddLog(s.now(), "INFO", "cancel requested")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	r := s.running[id]
	s.mu.Unlock()
	if r != nil {
		r.cancel(errCancelled)
	}
	return sc, nil
}

// Resume takes over the active scans of a cluster (every cluster when clusterID is empty) whose worker has been silent for staleAfter
// (0 takes every one: a process that alone uses its store, such as the local server over
// bolt, calls it at start) and runs them again in the background. Tables the scan already
// measured are not measured again.
func (s *Service) Resume(ctx context.Context, clusterID string, staleAfter time.Duration) (int, error) {
	s.init()
	scans, err := s.Store.ListScans(ctx, clusterID, merge.ScanPending, merge.ScanRunning)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sc := range scans {
		if s.now().Sub(sc.Heartbeat) < staleAfter {
			continue
		}
		s.mu.Lock()
		_, mine := s.running[sc.ID]
		s.mu.Unlock()
		if mine {
			continue
		}
		claimed, err := s.Store.UpdateScan(ctx, sc.ClusterID, sc.ID, func(c *merge.Scan) error {
			if !c.Status.Active() || s.now().Sub(c.Heartbeat) < staleAfter {
				return errSkip
			}
			c.Owner, c.Heartbeat = s.owner, s.now()
			c.AddLog(s.now(), "INFO", "resumed after its worker stopped")
			return nil
		})
		if errors.Is(err, errSkip) {
			continue
		}
		if err != nil {
			return n, err
		}
		s.launch(claimed)
		n++
	}
	return n, nil
}

var errSkip = errors.New("skip")

func checkScanID(clusterID, id string) error {
	if err := merge.CheckClusterID("cluster_id", clusterID); err != nil {
		return err
	}
	if id == "" || len(id) > 64 || !isHex(id) {
		return merge.Errorf(merge.ErrNotFound, "scan %q not found", id)
	}
	return nil
}

func isHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func describeScope(clusterID string, sc merge.ScanScope) string {
	switch {
	case len(sc.Partitions) > 0:
		return fmt.Sprintf("%d partition filter(s) of %s.%s", len(sc.Partitions), sc.Database, sc.Table)
	case sc.Table != "":
		return "table " + sc.Database + "." + sc.Table
	case sc.Database != "":
		return "database " + sc.Database
	}
	return "cluster " + clusterID
}
