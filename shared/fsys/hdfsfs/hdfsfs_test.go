package hdfsfs_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/fsystest"
	"github.com/hivemerge/hivemerge/shared/fsys/hdfsfs"
	"github.com/hivemerge/hivemerge/shared/fsys/hdfsfs/namenodetest"
	"github.com/hivemerge/hivemerge/shared/fsys/scan"
)

// noHadoopEnv keeps a developer's Hadoop configuration out of the tests.
func noHadoopEnv(t *testing.T) {
	t.Setenv("HADOOP_CONF_DIR", "")
	t.Setenv("HADOOP_HOME", "")
}

func newFS(t *testing.T, cfg hdfsfs.Config) *hdfsfs.FS {
	t.Helper()
	if cfg.User == "" {
		cfg.User = "hive"
	}
	fs, err := hdfsfs.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return fs
}

func TestConformance(t *testing.T) {
	noHadoopEnv(t)
	fsystest.Run(t, func(t *testing.T) fsystest.Fixture {
		ns := namenodetest.NewNamespace()
		if err := ns.MkdirAll("/root"); err != nil {
			t.Fatal(err)
		}
		srv := namenodetest.Start(t, ns, namenodetest.Options{})
		return fsystest.Fixture{
			FS:     newFS(t, hdfsfs.Config{Addresses: []string{srv.Addr()}}),
			Root:   "/root",
			NoData: true,
			// Every connection drops: the first attempt and its retry.
			Unavailable: func(*testing.T) { srv.DropConnections("getFileInfo", 1<<20) },
			WriteFile: func(t *testing.T, name string, size int64, mtime time.Time) {
				if err := ns.WriteFile(name, size, mtime); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}

// TestListPages proves that listing goes through getListing pages of dfs.ls.limit entries,
// not through one getFileInfo per file as the client's Walk does.
func TestListPages(t *testing.T) {
	noHadoopEnv(t)
	const files = 100_000
	ns := namenodetest.NewNamespace()
	mtime := time.Now()
	for i := range files {
		if err := ns.WriteFile(fmt.Sprintf("/w/t/%06d_0", i), int64(i%1000), mtime); err != nil {
			t.Fatal(err)
		}
	}
	srv := namenodetest.Start(t, ns, namenodetest.Options{})
	fs := newFS(t, hdfsfs.Config{Addresses: []string{srv.Addr()}})
	srv.ResetCalls()

	stats, err := scan.Scanner{}.Tree(context.Background(), fs, "/w/t")
	if err != nil {
		t.Fatal(err)
	}
	if stats.Files != files {
		t.Errorf("scanned %d files, want %d", stats.Files, files)
	}
	calls := srv.CallCounts()
	// 100 full pages; the last being full, the client asks once more to learn nothing remains.
	if n := calls["getListing"]; n < files/1000 || n > files/1000+1 {
		t.Errorf("getListing called %d times for %d files, want %d pages", n, files, files/1000)
	}
	// One to find the root, one to open it for listing.
	if n := calls["getFileInfo"]; n > 2 {
		t.Errorf("getFileInfo called %d times, want at most 2", n)
	}
}

func TestFailures(t *testing.T) {
	noHadoopEnv(t)
	tests := []struct {
		name string
		// inject sets up the failure; call is the operation under test.
		inject    func(srv *namenodetest.Server)
		call      func(fs fsys.FS) error
		wantErr   error
		wantCalls map[string]int
	}{
		{
			name:      "dropped connection, read retried",
			inject:    func(srv *namenodetest.Server) { srv.DropConnections("getFileInfo", 1) },
			call:      func(fs fsys.FS) error { _, err := fs.Stat(context.Background(), "/w/f"); return err },
			wantCalls: map[string]int{"getFileInfo": 2},
		},
		{
			name:      "connection keeps dropping",
			inject:    func(srv *namenodetest.Server) { srv.DropConnections("getFileInfo", 100) },
			call:      func(fs fsys.FS) error { _, err := fs.Stat(context.Background(), "/w/f"); return err },
			wantErr:   fsys.ErrUnavailable,
			wantCalls: map[string]int{"getFileInfo": 2},
		},
		{
			name:   "dropped during the first page, listing retried",
			inject: func(srv *namenodetest.Server) { srv.DropConnections("getListing", 1) },
			call: func(fs fsys.FS) error {
				entries, err := fsys.ReadDir(context.Background(), fs, "/w")
				if err == nil && len(entries) != 1 {
					err = fmt.Errorf("listed %d entries, want 1", len(entries))
				}
				return err
			},
			wantCalls: map[string]int{"getListing": 2},
		},
		{
			name:      "rename is not retried",
			inject:    func(srv *namenodetest.Server) { srv.DropConnections("rename2", 1) },
			call:      func(fs fsys.FS) error { return fs.Rename(context.Background(), "/w/f", "/w/g") },
			wantErr:   fsys.ErrUnavailable,
			wantCalls: map[string]int{"rename2": 1},
		},
		{
			name: "safe mode",
			inject: func(srv *namenodetest.Server) {
				srv.Fail("mkdirs", 1, "org.apache.hadoop.hdfs.server.namenode.SafeModeException", "Cannot create directory /w/d. Name node is in safe mode.")
			},
			call:      func(fs fsys.FS) error { return fs.MkdirAll(context.Background(), "/w/d") },
			wantErr:   fsys.ErrUnavailable,
			wantCalls: map[string]int{"mkdirs": 1},
		},
		{
			name: "permission denied",
			inject: func(srv *namenodetest.Server) {
				srv.Fail("delete", 1, "org.apache.hadoop.security.AccessControlException", "Permission denied: user=hive, access=WRITE, inode=\"/w\"")
			},
			call:      func(fs fsys.FS) error { return fs.RemoveAll(context.Background(), "/w/f") },
			wantErr:   os.ErrPermission,
			wantCalls: map[string]int{"delete": 1},
		},
		{
			name:    "standby only",
			inject:  func(srv *namenodetest.Server) { srv.SetStandby(true) },
			call:    func(fs fsys.FS) error { _, err := fs.Summary(context.Background(), "/w"); return err },
			wantErr: fsys.ErrUnavailable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := namenodetest.NewNamespace()
			if err := ns.WriteFile("/w/f", 1, time.Now()); err != nil {
				t.Fatal(err)
			}
			srv := namenodetest.Start(t, ns, namenodetest.Options{})
			fs := newFS(t, hdfsfs.Config{Addresses: []string{srv.Addr()}})
			srv.ResetCalls()
			tt.inject(srv)
			err := tt.call(fs)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			for method, want := range tt.wantCalls {
				if got := srv.Calls(method); got != want {
					t.Errorf("%s called %d times, want %d", method, got, want)
				}
			}
		})
	}
}

func TestNamenodeDown(t *testing.T) {
	noHadoopEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = hdfsfs.New(context.Background(), hdfsfs.Config{Addresses: []string{addr}, User: "hive"})
	if !errors.Is(err, fsys.ErrUnavailable) {
		t.Errorf("New with nothing listening: error %v, want ErrUnavailable", err)
	}
}

func TestStandbyFailover(t *testing.T) {
	noHadoopEnv(t)
	ns := namenodetest.NewNamespace()
	if err := ns.WriteFile("/w/t/f", 5, time.Now()); err != nil {
		t.Fatal(err)
	}
	standby := namenodetest.Start(t, ns, namenodetest.Options{})
	active := namenodetest.Start(t, ns, namenodetest.Options{})
	standby.SetStandby(true)
	fs := newFS(t, hdfsfs.Config{Addresses: []string{standby.Addr(), active.Addr()}, Connections: 2})
	stats, err := scan.Scanner{}.Tree(context.Background(), fs, "/w")
	if err != nil {
		t.Fatalf("scan through a standby and an active NameNode: %v", err)
	}
	if stats.Files != 1 || stats.Bytes != 5 {
		t.Errorf("scan = %+v", stats)
	}
	if active.Calls("getListing") == 0 || standby.Calls("getListing") != 0 {
		t.Errorf("listings: active %v, standby %v; want all on the active", active.CallCounts(), standby.CallCounts())
	}

	// The other way round: the active steps down and the standby takes over.
	active.SetStandby(true)
	standby.SetStandby(false)
	if _, err := fs.Stat(context.Background(), "/w/t/f"); err != nil {
		t.Errorf("Stat after failover: %v", err)
	}
}

func TestSlowCall(t *testing.T) {
	noHadoopEnv(t)
	tests := []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		cancel  bool // cancel once the call is held at the NameNode
		wantErr error
	}{
		{"canceled", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, true, context.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, false, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := namenodetest.NewNamespace()
			if err := ns.WriteFile("/w/f", 1, time.Now()); err != nil {
				t.Fatal(err)
			}
			srv := namenodetest.Start(t, ns, namenodetest.Options{})
			fs := newFS(t, hdfsfs.Config{Addresses: []string{srv.Addr()}, Connections: 1})
			gate := srv.Hold("getListing")
			defer gate.Release()

			ctx, cancel := tt.ctx()
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- fs.List(ctx, "/w", func([]fsys.Entry) error { return nil })
			}()
			<-gate.Arrived()
			if tt.cancel {
				cancel()
			}
			if err := <-done; !errors.Is(err, tt.wantErr) {
				t.Fatalf("List error = %v, want %v", err, tt.wantErr)
			}
			// The cut connection was replaced: the pool's only slot works again.
			gate.Release()
			if _, err := fs.Stat(context.Background(), "/w/f"); err != nil {
				t.Errorf("Stat after the canceled call: %v", err)
			}
		})
	}
}

func TestNamenodes(t *testing.T) {
	conf := map[string]string{
		"fs.defaultFS":                          "hdfs://prod",
		"dfs.nameservices":                      "prod,fed",
		"dfs.ha.namenodes.prod":                 "nn1, nn2",
		"dfs.namenode.rpc-address.prod.nn1":     "m1.example.com:8020",
		"dfs.namenode.rpc-address.prod.nn2":     "m2.example.com:8020",
		"dfs.namenode.rpc-address.fed":          "f1.example.com:9000",
		"dfs.ha.namenodes.broken":               "nn1",
		"dfs.namenode.rpc-address.broken.other": "x:1",
	}
	tests := []struct {
		name      string
		authority string
		want      []string
		wantErr   bool
	}{
		{"default cluster", "", []string{"m1.example.com:8020", "m2.example.com:8020"}, false},
		{"HA nameservice", "prod", []string{"m1.example.com:8020", "m2.example.com:8020"}, false},
		{"federated nameservice", "fed", []string{"f1.example.com:9000"}, false},
		{"host and port", "nn:9000", []string{"nn:9000"}, false},
		{"host", "nn", []string{"nn:8020"}, false},
		{"nameservice without addresses", "broken", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hdfsfs.Namenodes(conf, tt.authority)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Namenodes(%q) error = %v", tt.authority, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Namenodes(%q) = %v, want %v", tt.authority, got, tt.want)
			}
		})
	}
}

// TestOpenerFromConfDir resolves an HA nameservice from HADOOP_CONF_DIR, as on a cluster edge
// node, and fails over from its standby.
func TestOpenerFromConfDir(t *testing.T) {
	noHadoopEnv(t)
	ns := namenodetest.NewNamespace()
	if err := ns.WriteFile("/w/f", 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	standby := namenodetest.Start(t, ns, namenodetest.Options{})
	active := namenodetest.Start(t, ns, namenodetest.Options{})
	standby.SetStandby(true)
	dir := t.TempDir()
	writeConf(t, filepath.Join(dir, "core-site.xml"), map[string]string{"fs.defaultFS": "hdfs://prod"})
	writeConf(t, filepath.Join(dir, "hdfs-site.xml"), map[string]string{
		"dfs.nameservices":                  "prod",
		"dfs.ha.namenodes.prod":             "nn1,nn2",
		"dfs.namenode.rpc-address.prod.nn1": standby.Addr(),
		"dfs.namenode.rpc-address.prod.nn2": active.Addr(),
	})
	t.Setenv("HADOOP_CONF_DIR", dir)

	r := fsys.NewResolver(map[string]fsys.Opener{"hdfs": hdfsfs.Opener(hdfsfs.Config{User: "hive"})})
	defer r.Close()
	for _, loc := range []string{"hdfs://prod/w/f", "hdfs:///w/f"} {
		fs, p, err := r.Open(context.Background(), loc)
		if err != nil {
			t.Fatalf("Open(%q): %v", loc, err)
		}
		if e, err := fs.Stat(context.Background(), p); err != nil || e.Size != 1 {
			t.Errorf("Stat(%q) = %+v, %v", loc, e, err)
		}
	}
}

func writeConf(t *testing.T, name string, props map[string]string) {
	t.Helper()
	s := "<?xml version=\"1.0\"?>\n<configuration>\n"
	for k, v := range props {
		s += fmt.Sprintf("  <property><name>%s</name><value>%s</value></property>\n", k, v)
	}
	s += "</configuration>\n"
	if err := os.WriteFile(name, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDropMidListing cuts the connection after the caller has seen a page: retrying would
// hand it the same entries again, so the listing fails instead.
func TestDropMidListing(t *testing.T) {
	noHadoopEnv(t)
	ns := namenodetest.NewNamespace()
	for _, name := range []string{"a", "b", "c"} {
		if err := ns.WriteFile("/w/"+name, 1, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	srv := namenodetest.Start(t, ns, namenodetest.Options{})
	fs := newFS(t, hdfsfs.Config{Addresses: []string{srv.Addr()}, ListPage: 1})
	srv.ResetCalls()
	pages := 0
	err := fs.List(context.Background(), "/w", func([]fsys.Entry) error {
		if pages++; pages == 1 {
			srv.DropConnections("getListing", 1)
		}
		return nil
	})
	if !errors.Is(err, fsys.ErrUnavailable) || pages != 1 {
		t.Errorf("List error = %v after %d pages, want ErrUnavailable after 1", err, pages)
	}
	if n := srv.Calls("getListing"); n != 2 {
		t.Errorf("getListing called %d times, want 2 (no retry)", n)
	}
}
