package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"cloud.google.com/go/storage"

	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/gcsfs"
	"github.com/hivemerge/hivemerge/shared/fsys/hdfsfs"
	"github.com/hivemerge/hivemerge/shared/fsys/localfs"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// Clusters keeps one Hive client, filesystem resolver and executor per registered cluster,
// built on first use and rebuilt when the cluster's registration changes (its UpdatedAt). A
// replaced or closed cluster's client is closed once no caller uses it any more. Clusters
// implements merge.TargetChecker.
type Clusters struct {
	svc     *merge.Service
	secrets merge.Secrets
	allowed *merge.HostAllowlist
	log     *slog.Logger
	// Lease is the executors' lease; 0 means engine.DefaultLease. Timeout bounds one task's
	// run; 0 means merge.DefaultTaskTimeout.
	Lease   time.Duration
	Timeout time.Duration
	// CheckTimeout bounds the check of a new task's table; 0 means 10s.
	CheckTimeout time.Duration
	// Retention is how long a safe_merge keeps the original files (engine.DefaultRetention
	// when 0); Backups records them for cleanup.
	Retention time.Duration
	Backups   merge.BackupStore

	gcs lazyGCS

	mu     sync.Mutex
	m      map[string]*cluster
	closed bool
}

// cluster is one cluster's clients. refs counts the callers using it; a retired cluster is
// closed when the last one lets go.
type cluster struct {
	updated time.Time
	client  *hive.Client
	files   *fsys.Resolver
	exec    *engine.Executor
	refs    int
	retired bool
}

func (c *cluster) close() error { return errors.Join(c.client.Close(), c.files.Close()) }

// NewClusters returns an empty registry over the clusters of svc. A nil logger discards.
func NewClusters(svc *merge.Service, secrets merge.Secrets, allowed *merge.HostAllowlist, logger *slog.Logger) *Clusters {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Clusters{svc: svc, secrets: secrets, allowed: allowed, log: logger, m: map[string]*cluster{}}
}

// acquire returns the clients of cluster id as registered now; release must be called when the
// caller is done with them.
func (r *Clusters) acquire(ctx context.Context, id string) (*cluster, func(), error) {
	reg, err := r.svc.GetCluster(ctx, id)
	if err != nil {
		if errors.Is(err, merge.ErrNotFound) {
			return nil, nil, merge.Errorf(merge.ErrConflict, "cluster %q is no longer registered", id)
		}
		return nil, nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, nil, merge.Errorf(merge.ErrUnavailable, "hivemerge is shutting down")
	}
	c := r.m[id]
	if c == nil || !c.updated.Equal(reg.UpdatedAt) {
		fresh, err := r.build(ctx, reg)
		if err != nil {
			return nil, nil, err
		}
		if c != nil {
			r.retire(c)
		}
		c = fresh
		r.m[id] = c
	}
	c.refs++
	return c, func() { r.release(c) }, nil
}

func (r *Clusters) release(c *cluster) {
	r.mu.Lock()
	c.refs--
	done := c.retired && c.refs == 0
	r.mu.Unlock()
	if done {
		r.closeQuietly(c)
	}
}

// retire takes c out of use; r.mu is held.
func (r *Clusters) retire(c *cluster) {
	c.retired = true
	if c.refs == 0 {
		go r.closeQuietly(c)
	}
}

func (r *Clusters) closeQuietly(c *cluster) {
	if err := c.close(); err != nil {
		r.log.Warn("closing a cluster's clients", "error", err)
	}
}

// build makes the clients of a cluster: its password resolved from password_ref, the host
// allowlist guarding every dial, and filesystems chosen from each location.
func (r *Clusters) build(ctx context.Context, reg *merge.Cluster) (*cluster, error) {
	password := ""
	if reg.PasswordRef != "" {
		p, err := r.secrets.Resolve(ctx, reg.PasswordRef)
		if err != nil {
			return nil, err
		}
		password = p
	}
	cfg := hive.ClusterConfig(reg, password)
	cfg.AllowedHosts = r.allowed
	cfg.Logger = r.log
	client, err := hive.New(cfg)
	if err != nil {
		return nil, merge.Errorf(merge.ErrInvalid, "cluster %s cannot be connected to as registered: %v", reg.ID, err)
	}
	files, err := r.resolver(reg)
	if err != nil {
		client.Close()
		return nil, err
	}
	planner := &engine.Planner{Hive: client, Files: files}
	exec := &engine.Executor{Tasks: r.svc, Planner: planner, Hive: client, Files: files, Lease: r.Lease, Timeout: r.Timeout,
		Retention: r.Retention, Backups: r.Backups}
	return &cluster{updated: reg.UpdatedAt, client: client, files: files, exec: exec}, nil
}

// resolver chooses each location's filesystem: hdfs:// through the NameNode of the location,
// or of fs_default when the location names none; gs:// through Cloud Storage; file:// only for
// a cluster whose fs_default is file:// (the sandbox), since on a real cluster such a path
// would name this machine's disk, not the cluster's.
func (r *Clusters) resolver(reg *merge.Cluster) (*fsys.Resolver, error) {
	openers := map[string]fsys.Opener{"gs": r.gcs.opener()}
	hdfs := hdfsfs.Config{}
	if reg.FSDefault != "" {
		def, err := fsys.ParseLocation(reg.FSDefault)
		if err != nil {
			return nil, merge.Errorf(merge.ErrInvalid, "cluster %s: fs_default: %v", reg.ID, err)
		}
		switch def.Scheme {
		case "hdfs":
			if def.Authority != "" {
				hdfs.Addresses = []string{def.Authority}
			}
		case "file":
			openers["file"] = localfs.Opener()
		}
	}
	openers["hdfs"] = hdfsfs.Opener(hdfs)
	return fsys.NewResolver(openers), nil
}

// Close closes every cluster's clients, waiting for none: callers still holding one close it
// when they let go.
func (r *Clusters) Close() error {
	r.mu.Lock()
	r.closed = true
	var idle []*cluster
	for id, c := range r.m {
		c.retired = true
		if c.refs == 0 {
			idle = append(idle, c)
		}
		delete(r.m, id)
	}
	r.mu.Unlock()
	var errs []error
	for _, c := range idle {
		errs = append(errs, c.close())
	}
	return errors.Join(append(errs, r.gcs.close())...)
}

// CheckTarget reads the table of a new task from its cluster: it must exist, every partition
// filter must name its partition keys with values of their types, and the strategy must be
// one hivemerge allows for the table. A cluster that does not answer in time is an
// ErrUnavailable error, so the task is created unchecked.
func (r *Clusters) CheckTarget(ctx context.Context, reg *merge.Cluster, req merge.CreateTaskRequest) error {
	timeout := r.CheckTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, release, err := r.acquire(ctx, reg.ID)
	if err != nil {
		return merge.Errorf(merge.ErrUnavailable, "its clients could not be built")
	}
	defer release()
	t := hql.Table{Database: req.Database, Name: req.Table}
	tb, err := c.client.DescribeTable(ctx, t)
	switch {
	case errors.Is(err, merge.ErrNotFound):
		return merge.Errorf(merge.ErrInvalid, "table %s.%s does not exist on cluster %s", req.Database, req.Table, reg.ID)
	case err != nil:
		return merge.Errorf(merge.ErrUnavailable, "Hive could not describe the table")
	}
	if err := merge.Check(engine.Facts(tb), req.Strategy); err != nil {
		return err
	}
	if len(req.Partitions) > 0 && !tb.Partitioned() {
		return merge.Errorf(merge.ErrInvalid, "%s.%s is not partitioned, so partition_filter must be empty", req.Database, req.Table)
	}
	for _, p := range req.Partitions {
		if _, err := tb.Spec(p); err != nil {
			if errors.Is(err, merge.ErrInvalid) {
				return err
			}
			return merge.Errorf(merge.ErrInvalid, "partition_filter %v: %v", p, err)
		}
	}
	return nil
}

// lazyGCS makes the Cloud Storage client the first time a gs:// location is opened, so that
// processes that never read Cloud Storage need no Google credentials.
type lazyGCS struct {
	mu     sync.Mutex
	client *storage.Client
}

func (g *lazyGCS) opener() fsys.Opener {
	return func(ctx context.Context, bucket string) (fsys.FS, error) {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.client == nil {
			// The client outlives the request that first needs it.
			c, err := storage.NewClient(context.WithoutCancel(ctx))
			if err != nil {
				return nil, fmt.Errorf("cloud storage: %w", fsys.ErrUnavailable)
			}
			g.client = c
		}
		return gcsfs.Opener(g.client, gcsfs.Options{})(ctx, bucket)
	}
}

func (g *lazyGCS) close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.client == nil {
		return nil
	}
	err := g.client.Close()
	g.client = nil
	return err
}
