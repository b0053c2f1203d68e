package app

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/sandboxtest"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/secretref"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
)

// clock is a settable time, so that an update of a cluster gets a later UpdatedAt.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newRegistry(t *testing.T) (*merge.Service, *Clusters, *clock) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "hivemerge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	svc := merge.NewService(st, st).WithClock(c.now)
	r := NewClusters(svc, secretref.New(func(string) string { return "" }), nil, nil)
	t.Cleanup(func() { r.Close() })
	return svc, r, c
}

func sandboxCluster(t *testing.T, id string) merge.Cluster {
	t.Helper()
	c, _ := startSandbox(t, id)
	return c
}

// startSandbox starts a sandbox and returns the registration of cluster id on it.
func startSandbox(t *testing.T, id string) (merge.Cluster, *sandboxtest.Sandbox) {
	t.Helper()
	sb := sandboxtest.Start(t)
	return merge.Cluster{ID: id, Host: sb.Host, Port: sb.Port, Auth: merge.AuthNoSASL, FSDefault: "file://" + sb.Dir}, sb
}

// TestClustersRebuildWhenAClusterChanges: a changed registration gets new clients, and the
// old client is closed once its last user lets go, not before.
func TestClustersRebuildWhenAClusterChanges(t *testing.T) {
	ctx := context.Background()
	svc, r, clk := newRegistry(t)
	reg := sandboxCluster(t, "c1")
	if _, err := svc.CreateCluster(ctx, reg); err != nil {
		t.Fatal(err)
	}
	old, releaseOld, err := r.acquire(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	same, releaseSame, err := r.acquire(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	releaseSame()
	if same != old {
		t.Fatal("an unchanged cluster got new clients")
	}

	clk.t = clk.t.Add(time.Minute)
	reg.Name = "renamed"
	if _, err := svc.UpdateCluster(ctx, reg); err != nil {
		t.Fatal(err)
	}
	fresh, releaseFresh, err := r.acquire(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer releaseFresh()
	if fresh == old {
		t.Fatal("a changed cluster kept its old clients")
	}
	if err := old.client.Exec(ctx, "SHOW DATABASES", nil); err != nil {
		t.Fatalf("the old client was closed while still in use: %v", err)
	}
	releaseOld()
	if err := old.client.Exec(ctx, "SHOW DATABASES", nil); err == nil {
		t.Error("the old client still works after its last user let go")
	}
	if err := fresh.client.Exec(ctx, "SHOW DATABASES", nil); err != nil {
		t.Errorf("the new client: %v", err)
	}
}

// TestClustersFilesystems: file:// locations are opened only for a cluster whose fs_default is
// file:// (the sandbox); on any other cluster they would name this machine's disk.
func TestClustersFilesystems(t *testing.T) {
	ctx := context.Background()
	svc, r, _ := newRegistry(t)
	local := sandboxCluster(t, "local")
	remote := merge.Cluster{ID: "remote", Host: "127.0.0.1", Auth: merge.AuthNoSASL, FSDefault: "hdfs://nn.example.com:8020"}
	for _, c := range []merge.Cluster{local, remote} {
		if _, err := svc.CreateCluster(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		cluster, location string
		wantErr           error
	}{
		{"local", local.FSDefault, nil},
		{"remote", "file:///etc", fsys.ErrUnsupported},
		{"remote", "s3a://bucket/x", fsys.ErrUnsupported},
	} {
		t.Run(c.cluster+" "+c.location, func(t *testing.T) {
			cl, release, err := r.acquire(ctx, c.cluster)
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			_, _, err = cl.files.Open(ctx, c.location)
			if c.wantErr == nil && err != nil || c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("Open(%s) = %v, want %v", c.location, err, c.wantErr)
			}
		})
	}
}

func TestEngineConfig(t *testing.T) {
	for _, c := range []struct {
		name    string
		env     map[string]string
		mode    Mode
		want    Mode
		wantErr string
	}{
		{"default async", nil, "", ModeAsync, ""},
		{"entry default", nil, ModeSync, ModeSync, ""},
		{"environment wins", map[string]string{"HIVEMERGE_EXECUTE_MODE": "async"}, ModeSync, ModeAsync, ""},
		{"bad mode", map[string]string{"HIVEMERGE_EXECUTE_MODE": "later"}, "", "", "HIVEMERGE_EXECUTE_MODE"},
		{"remote", map[string]string{"HIVEMERGE_EXECUTE_MODE": "remote",
			"HIVEMERGE_FUNCTION_URLS": `{"ExecuteTask":"https://europe-west1-p.cloudfunctions.net/hm-execute-task"}`}, ModeSync, ModeRemote, ""},
		{"remote without URLs", map[string]string{"HIVEMERGE_EXECUTE_MODE": "remote"}, "", "", "HIVEMERGE_FUNCTION_URLS"},
		{"remote without ExecuteTask", map[string]string{"HIVEMERGE_EXECUTE_MODE": "remote",
			"HIVEMERGE_FUNCTION_URLS": `{"API":"https://europe-west1-p.cloudfunctions.net/hm-api"}`}, "", "", "has no ExecuteTask"},
		{"remote bad URL", map[string]string{"HIVEMERGE_EXECUTE_MODE": "remote",
			"HIVEMERGE_FUNCTION_URLS": `{"ExecuteTask":"http://10.0.0.1/x"}`}, "", "", "must be https"},
		{"bad workers", map[string]string{"HIVEMERGE_WORKERS": "0"}, "", "", "HIVEMERGE_WORKERS"},
		{"bad lease", map[string]string{"HIVEMERGE_TASK_LEASE": "10ms"}, "", "", "HIVEMERGE_TASK_LEASE"},
		{"bad timeout", map[string]string{"HIVEMERGE_TASK_TIMEOUT": "forever"}, "", "", "HIVEMERGE_TASK_TIMEOUT"},
		{"bad backup retention", map[string]string{"HIVEMERGE_BACKUP_RETENTION": "7d"}, "", "", "HIVEMERGE_BACKUP_RETENTION"},
		{"negative backup retention", map[string]string{"HIVEMERGE_BACKUP_RETENTION": "-1h"}, "", "", "HIVEMERGE_BACKUP_RETENTION"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := engineConfig(func(k string) string { return c.env[k] }, Options{Mode: c.mode})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, c.wantErr)
				}
				return
			}
			if err != nil || cfg.mode != c.want {
				t.Fatalf("mode %q, err %v; want %q", cfg.mode, err, c.want)
			}
		})
	}
	cfg, err := engineConfig(func(k string) string { return map[string]string{"HIVEMERGE_TASK_TIMEOUT": "90m"}[k] }, Options{})
	if err != nil || cfg.timeout != 90*time.Minute {
		t.Errorf("HIVEMERGE_TASK_TIMEOUT=90m gave %v, %v", cfg.timeout, err)
	}
	cfg, err = engineConfig(func(k string) string { return map[string]string{"HIVEMERGE_BACKUP_RETENTION": "72h"}[k] }, Options{})
	if err != nil || cfg.backupRetention != 72*time.Hour {
		t.Errorf("HIVEMERGE_BACKUP_RETENTION=72h gave %v, %v", cfg.backupRetention, err)
	}
}
