package discovery_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/app"
	"github.com/hivemerge/hivemerge/shared/discovery"
	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/fsystest"
	"github.com/hivemerge/hivemerge/shared/fsys/localfs"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/sandboxtest"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
)

const cluster = "sb"

// env is a sandbox registered as cluster "sb" in a bolt store, with a filesystem that counts
// the directories it lists.
type env struct {
	srv    *sandboxtest.Sandbox
	client *hive.Client
	store  *bolt.Store
	svc    *merge.Service
	files  *countingFiles
}

// start starts the sandbox, with its configuration changed by opts.
func start(t testing.TB, opts ...func(*hivesandbox.Config)) *env {
	t.Helper()
	srv := sandboxtest.Start(t, opts...)
	client := srv.Client(t, hive.Config{Name: "sb", PoolSize: 4})
	store, err := bolt.Open(filepath.Join(t.TempDir(), "hivemerge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := merge.NewService(store, store)
	if _, err := svc.CreateCluster(context.Background(), merge.Cluster{ID: cluster, Host: srv.Host, Port: srv.Port, Auth: merge.AuthNoSASL}); err != nil {
		t.Fatal(err)
	}
	res := fsys.NewResolver(map[string]fsys.Opener{"file": localfs.Opener()})
	t.Cleanup(func() { res.Close() })
	return &env{srv: srv, client: client, store: store, svc: svc, files: &countingFiles{res: res}}
}

// connector gives the Hive client that app.Clusters keeps for a registered cluster, as the
// servers do, with files of the test's choosing (counted, or another filesystem's).
type connector struct {
	clusters *app.Clusters
	files    engine.Files
}

func (c connector) Connect(ctx context.Context, id string) (discovery.Hive, engine.Files, error) {
	h, _, err := c.clusters.Connect(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return h, c.files, nil
}

// connector returns a connector to the env's clusters whose filesystems are files.
func (e *env) connector(t testing.TB, files engine.Files) connector {
	t.Helper()
	cs := app.NewClusters(e.svc, nil, nil, nil)
	t.Cleanup(func() { cs.Close() })
	return connector{clusters: cs, files: files}
}

// service returns a discovery service over the env. Its clock runs two hours ahead, past the
// quiet period of the files the test just wrote.
func (e *env) service(t testing.TB) *discovery.Service {
	t.Helper()
	svc := &discovery.Service{Store: e.store, Connector: e.connector(t, e.files), Now: func() time.Time { return time.Now().Add(2 * time.Hour) }}
	t.Cleanup(func() { svc.Close() })
	return svc
}

func (e *env) exec(t testing.TB, stmts ...string) {
	t.Helper()
	e.srv.Exec(t, e.client, stmts...)
}

// location is the directory of a table, from Hive.
func (e *env) location(t testing.TB, db, table string) string {
	t.Helper()
	tb, err := e.client.DescribeTable(context.Background(), hql.Table{Database: db, Name: table})
	if err != nil {
		t.Fatal(err)
	}
	l, err := fsys.ParseLocation(tb.Location)
	if err != nil {
		t.Fatal(err)
	}
	return l.Path
}

// append writes n data files into a table or partition, as a writer outside Hive would.
func (e *env) append(t testing.TB, db, table string, part map[string]string, n int) {
	t.Helper()
	e.srv.AppendFiles(t, db, table, part, n, func(i int) [][]string {
		return [][]string{{strconv.Itoa(i), "value-" + strconv.Itoa(i)}}
	})
}

// sparse writes a file of size bytes that takes no disk space.
func sparse(t testing.TB, path string, size int64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

// walk is fsystest.Walk: the files and bytes under a location, counted independently.
var walk = fsystest.Walk

// countingFiles is the real resolver with every Stat and List recorded. block, when set, makes a List
// of a directory whose path contains it wait until the listing's context ends.
type countingFiles struct {
	res     *fsys.Resolver
	mu      sync.Mutex
	lists   []string
	stats   []string
	block   string
	blocked chan struct{} // closed when a List blocks
}

func (c *countingFiles) Open(ctx context.Context, location string) (fsys.FS, string, error) {
	fs, p, err := c.res.Open(ctx, location)
	if err != nil {
		return nil, "", err
	}
	return &countingFS{FS: fs, c: c}, p, nil
}

// reset forgets the calls recorded and returns the directories listed since the last reset.
func (c *countingFiles) reset() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.lists
	c.lists, c.stats = nil, nil
	return out
}

type countingFS struct {
	fsys.FS
	c *countingFiles
}

func (f *countingFS) Stat(ctx context.Context, name string) (fsys.Entry, error) {
	f.c.mu.Lock()
	f.c.stats = append(f.c.stats, name)
	f.c.mu.Unlock()
	return f.FS.Stat(ctx, name)
}

func (f *countingFS) List(ctx context.Context, dir string, fn func([]fsys.Entry) error) error {
	f.c.mu.Lock()
	f.c.lists = append(f.c.lists, dir)
	block := f.c.block != "" && strings.Contains(dir, f.c.block)
	if block && f.c.blocked != nil {
		close(f.c.blocked)
		f.c.blocked = nil
	}
	f.c.mu.Unlock()
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	return f.FS.List(ctx, dir, fn)
}
