package merge_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
)

// fakeClock is a settable time source; the service reads time only through it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newService(t *testing.T) (*merge.Service, *fakeClock) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "tasks.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	svc := merge.NewService(st, st).WithClock(clock.Now)
	// Room for the three tasks TestRequeueExpired runs at once; the cap itself is checked by
	// the store conformance suite.
	if _, err := svc.CreateCluster(context.Background(), merge.Cluster{ID: "demo", Host: "127.0.0.1", MaxRunningTasks: 3}); err != nil {
		t.Fatal(err)
	}
	return svc, clock
}

func create(t *testing.T, svc *merge.Service, table string) *merge.Task {
	t.Helper()
	r := validRequest()
	r.Table = table
	task, err := svc.CreateTask(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func wantKind(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("got error %v, want %v", err, kind)
	}
}

func TestCreateTask(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	task := create(t, svc, "orders")
	if task.Status != merge.StatusPending || task.ID == "" || task.CreatedAt.IsZero() {
		t.Fatalf("new task = %+v", task)
	}
	t.Run("same_target_conflicts", func(t *testing.T) {
		_, err := svc.CreateTask(ctx, validRequest())
		wantKind(t, err, merge.ErrConflict)
	})
	t.Run("unknown_cluster_is_invalid", func(t *testing.T) {
		r := validRequest()
		r.ClusterID = "nope"
		_, err := svc.CreateTask(ctx, r)
		wantKind(t, err, merge.ErrInvalid)
	})
	t.Run("invalid_request_stores_nothing", func(t *testing.T) {
		r := validRequest()
		r.Table = "x;y"
		_, err := svc.CreateTask(ctx, r)
		wantKind(t, err, merge.ErrInvalid)
		page, err := svc.ListTasks(ctx, merge.TaskFilter{})
		if err != nil || len(page.Tasks) != 1 {
			t.Fatalf("list = %d tasks, %v; want only the first task", len(page.Tasks), err)
		}
	})
}

func TestCancelTask(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		prepare   func(t *testing.T, svc *merge.Service, id string)
		want      merge.Status
		requested bool
		wantErr   error
		// wantLog is the log after creation, one entry per change: a repeated cancel adds none.
		wantLog []string
	}{
		{name: "pending_becomes_cancelled", want: merge.StatusCancelled, wantLog: []string{"cancelled by alice before it ran"}},
		{name: "running_is_asked_to_stop", prepare: func(t *testing.T, svc *merge.Service, id string) {
			if _, err := svc.Claim(ctx, id, "w1", time.Minute); err != nil {
				t.Fatal(err)
			}
		}, want: merge.StatusRunning, requested: true,
			wantLog: []string{"cancel requested by alice; the running step stops and the table is left as it was"}},
		{name: "cancelled_again_is_idempotent", prepare: func(t *testing.T, svc *merge.Service, id string) {
			if _, err := svc.CancelTask(ctx, id, "alice"); err != nil {
				t.Fatal(err)
			}
		}, want: merge.StatusCancelled, wantLog: []string{"cancelled by alice before it ran"}},
		{name: "finished_conflicts", prepare: func(t *testing.T, svc *merge.Service, id string) {
			if _, err := svc.Claim(ctx, id, "w1", time.Minute); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Finish(ctx, id, "w1", merge.StatusSuccess, merge.Stats{FilesBefore: 10, FilesAfter: 1}, ""); err != nil {
				t.Fatal(err)
			}
		}, wantErr: merge.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, _ := newService(t)
			task := create(t, svc, "orders")
			if tc.prepare != nil {
				tc.prepare(t, svc, task.ID)
			}
			got, err := svc.CancelTask(ctx, task.ID, "alice")
			if tc.wantErr != nil {
				wantKind(t, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tc.want || got.CancelRequested != tc.requested || got.CancelledBy != "alice" {
				t.Fatalf("after cancel: status %s, cancel_requested %v, cancelled_by %q", got.Status, got.CancelRequested, got.CancelledBy)
			}
			logs, err := svc.TaskLogs(ctx, task.ID, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, e := range logs {
				msgs = append(msgs, e.Message)
			}
			if want := append([]string{"created by an unnamed caller"}, tc.wantLog...); !slices.Equal(msgs, want) {
				t.Errorf("log %q, want %q", msgs, want)
			}
		})
	}
	t.Run("unknown_id", func(t *testing.T) {
		svc, _ := newService(t)
		_, err := svc.CancelTask(ctx, "0123456789abcdef", "alice")
		wantKind(t, err, merge.ErrNotFound)
	})
}

func TestClaimExactlyOnce(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	task := create(t, svc, "orders")
	const workers = 32
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		wg.Go(func() {
			_, errs[i] = svc.Claim(ctx, task.ID, "worker-"+string(rune('a'+i)), time.Minute)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, merge.ErrConflict):
			t.Fatalf("claim failed with %v, want success or ErrConflict", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d claims won, want exactly 1", won)
	}
}

func TestLeaseLifecycle(t *testing.T) {
	ctx := context.Background()
	svc, clock := newService(t)
	task := create(t, svc, "orders")
	if _, err := svc.Claim(ctx, task.ID, "w1", time.Minute); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"other_worker_cannot_claim_live_lease", func() error { _, err := svc.Claim(ctx, task.ID, "w2", time.Minute); return err }, merge.ErrConflict},
		{"owner_heartbeats", func() error {
			_, err := svc.Heartbeat(ctx, task.ID, "w1", time.Minute, merge.Progress{Step: "snapshot", Percent: 10})
			return err
		}, nil},
		{"stranger_cannot_heartbeat", func() error {
			_, err := svc.Heartbeat(ctx, task.ID, "w2", time.Minute, merge.Progress{Percent: 20})
			return err
		}, merge.ErrConflict},
		{"lease_expires_then_takeover", func() error {
			clock.Advance(2 * time.Minute)
			got, err := svc.Claim(ctx, task.ID, "w2", time.Minute)
			if err == nil && (got.Attempt != 2 || got.Step != "snapshot") {
				t.Errorf("takeover: attempt %d step %q, want attempt 2 resuming at snapshot", got.Attempt, got.Step)
			}
			return err
		}, nil},
		{"old_owner_cannot_finish", func() error {
			_, err := svc.Finish(ctx, task.ID, "w1", merge.StatusSuccess, merge.Stats{}, "")
			return err
		}, merge.ErrConflict},
		{"new_owner_finishes", func() error {
			got, err := svc.Finish(ctx, task.ID, "w2", merge.StatusSuccess, merge.Stats{FilesBefore: 100, FilesAfter: 4}, "")
			if err == nil && (got.Status != merge.StatusSuccess || got.Progress != 100 || got.LeaseOwner != "") {
				t.Errorf("finished task = %+v", got)
			}
			return err
		}, nil},
		{"finished_cannot_be_claimed", func() error { _, err := svc.Claim(ctx, task.ID, "w3", time.Minute); return err }, merge.ErrConflict},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			err := s.do()
			if s.want == nil && err != nil {
				t.Fatal(err)
			}
			if s.want != nil {
				wantKind(t, err, s.want)
			}
		})
	}
	t.Run("target_released_after_finish", func(t *testing.T) { create(t, svc, "orders") })
}

func TestRequeueExpired(t *testing.T) {
	ctx := context.Background()
	svc, clock := newService(t)
	alive := create(t, svc, "alive")
	dead := create(t, svc, "dead")
	cancelled := create(t, svc, "cancelled")
	idle := create(t, svc, "idle")
	for _, task := range []*merge.Task{alive, dead, cancelled} {
		if _, err := svc.Claim(ctx, task.ID, "w-"+task.Table, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.CancelTask(ctx, cancelled.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(90 * time.Second)
	if _, err := svc.Heartbeat(ctx, alive.ID, "w-alive", time.Minute, merge.Progress{Percent: 50}); err == nil {
		t.Fatal("heartbeat after expiry succeeded")
	}
	// Renew alive's lease by claiming again as the same owner once expired: it is still its task.
	if _, err := svc.Claim(ctx, alive.ID, "w-alive", 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	n, err := svc.RequeueExpired(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("requeued %d tasks, want 2 (dead and cancelled)", n)
	}
	for _, tc := range []struct {
		task *merge.Task
		want merge.Status
	}{{alive, merge.StatusRunning}, {dead, merge.StatusPending}, {cancelled, merge.StatusCancelled}, {idle, merge.StatusPending}} {
		got, err := svc.GetTask(ctx, tc.task.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != tc.want {
			t.Errorf("%s: status %s, want %s", tc.task.Table, got.Status, tc.want)
		}
	}
}

// TestCreateTaskNameCase: Hive names are case-insensitive, so case variants of one table are
// one target, however many creates race for it, and listing finds them under any case.
func TestCreateTaskNameCase(t *testing.T) {
	ctx := context.Background()
	variants := []struct{ db, table string }{
		{"web", "pageviews"}, {"WEB", "PageViews"}, {"Web", "PAGEVIEWS"}, {"wEb", "pageViews"},
	}
	t.Run("sequential_variants_conflict", func(t *testing.T) {
		svc, _ := newService(t)
		r := validRequest()
		r.Database, r.Table = "WEB", "PageViews"
		task, err := svc.CreateTask(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if task.Database != "web" || task.Table != "pageviews" {
			t.Errorf("stored target %s.%s, want web.pageviews", task.Database, task.Table)
		}
		for _, v := range variants {
			r := validRequest()
			r.Database, r.Table = v.db, v.table
			_, err := svc.CreateTask(ctx, r)
			wantKind(t, err, merge.ErrConflict)
		}
	})
	t.Run("partition_key_case_conflicts", func(t *testing.T) {
		svc, _ := newService(t)
		r := validRequest()
		r.Partitions = []merge.PartitionSpec{{"DT": "2024-01-01"}}
		if _, err := svc.CreateTask(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.Partitions = []merge.PartitionSpec{{"dt": "2024-01-01", "Hr": "00"}}
		_, err := svc.CreateTask(ctx, r)
		wantKind(t, err, merge.ErrConflict)
		// Values are data: another value is another partition.
		r.Partitions = []merge.PartitionSpec{{"Dt": "2024-01-0X"}}
		if _, err := svc.CreateTask(ctx, r); err != nil {
			t.Fatalf("create on a partition value differing in case: %v", err)
		}
	})
	t.Run("concurrent_variants_one_wins", func(t *testing.T) {
		svc, _ := newService(t)
		const n = 16
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				r := validRequest()
				r.Database, r.Table = variants[i%len(variants)].db, variants[i%len(variants)].table
				_, errs[i] = svc.CreateTask(ctx, r)
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, merge.ErrConflict):
				t.Fatalf("create failed with %v, want success or ErrConflict", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d creates on case variants of one table succeeded, want exactly 1", won)
		}
	})
	t.Run("list_filters_fold", func(t *testing.T) {
		svc, _ := newService(t)
		r := validRequest()
		r.Database, r.Table = "Web", "PageViews"
		task, err := svc.CreateTask(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range variants {
			page, err := svc.ListTasks(ctx, merge.TaskFilter{Database: v.db, Table: v.table})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Tasks) != 1 || page.Tasks[0].ID != task.ID {
				t.Errorf("ListTasks(%s.%s) = %d tasks, want the task on web.pageviews", v.db, v.table, len(page.Tasks))
			}
		}
	})
}
