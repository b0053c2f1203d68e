package bolt_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
	"github.com/hivemerge/hivemerge/shared/taskstore/storetest"
)

func open(tb testing.TB) *bolt.Store {
	tb.Helper()
	s, err := bolt.Open(filepath.Join(tb.TempDir(), "hivemerge.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Stores {
		s := open(t)
		return storetest.Stores{Tasks: s, Clusters: s}
	})
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "store.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	task := &merge.Task{ID: "t1", ClusterID: "prod", Database: "web", Table: "events", Status: merge.StatusPending, CreatedAt: time.Now()}
	if err := s.CreateTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendLogs(ctx, "t1", merge.LogEntry{Message: "one"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetTask(ctx, "t1"); err != nil {
		t.Errorf("GetTask after reopen: %v", err)
	}
	// The target is still held and log sequence numbers continue.
	if err := s.CreateTask(ctx, &merge.Task{ID: "t2", ClusterID: "prod", Database: "web", Table: "events", Status: merge.StatusPending}); !errors.Is(err, merge.ErrConflict) {
		t.Errorf("overlapping create after reopen: %v", err)
	}
	if err := s.AppendLogs(ctx, "t1", merge.LogEntry{Message: "two"}); err != nil {
		t.Fatal(err)
	}
	logs, err := s.Logs(ctx, "t1", 0, 10)
	if err != nil || len(logs) != 2 || logs[1].Seq <= logs[0].Seq {
		t.Errorf("logs after reopen: %+v, %v", logs, err)
	}
}

func TestOpenLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// bbolt's flock is per open file, so a second Open in this process stands in for a second
	// process.
	_, err = bolt.Open(path)
	if !errors.Is(err, merge.ErrUnavailable) {
		t.Fatalf("second Open: got %v, want ErrUnavailable", err)
	}
}

func TestClosedStore(t *testing.T) {
	s, err := bolt.Open(filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetTask(context.Background(), "x"); !errors.Is(err, merge.ErrUnavailable) {
		t.Errorf("GetTask on a closed store: %v", err)
	}
}

func TestCancelledContext(t *testing.T) {
	s := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.GetTask(ctx, "x"); !errors.Is(err, context.Canceled) || !errors.Is(err, merge.ErrUnavailable) {
		t.Errorf("GetTask with a cancelled context: %v", err)
	}
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) merge.Store { return open(b) })
}
