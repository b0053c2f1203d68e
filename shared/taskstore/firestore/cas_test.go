package firestore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	gfs "cloud.google.com/go/firestore"

	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/firestore"
	"github.com/hivemerge/hivemerge/shared/taskstore/firestore/firestoretest"
	"github.com/hivemerge/hivemerge/shared/taskstore/storetest"
)

// instances returns n stores with clients of their own, standing in for function instances:
// they share no in-process state, so their races are settled by Firestore alone.
func instances(t *testing.T, n int) []*firestore.Store {
	firestoretest.Clear(t, projectID)
	stores := make([]*firestore.Store, n)
	for i := range stores {
		c, err := gfs.NewClient(context.Background(), projectID)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		stores[i] = firestore.New(c)
	}
	return stores
}

func pending(id, table string, parts ...merge.PartitionSpec) *merge.Task {
	return &merge.Task{ID: id, ClusterID: "prod", Database: "web", Table: table, Partitions: parts,
		Status: merge.StatusPending, CreatedAt: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}
}

// race runs fn(i) for i in [0, n) concurrently, all released at once.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func TestCreateAcrossInstances(t *testing.T) {
	const n = 64
	stores := instances(t, 4)
	ctx := context.Background()
	started := time.Now()
	errs := race(n, func(i int) error {
		return stores[i%len(stores)].CreateTask(ctx, pending(fmt.Sprintf("x%02d", i), "events"))
	})
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, merge.ErrConflict):
			t.Errorf("create %d: %v", i, err)
		}
	}
	if wins != 1 {
		t.Errorf("%d creates succeeded, want 1", wins)
	}
	t.Logf("%d racing creates on one target over %d clients: %s", n, len(stores), time.Since(started))

	started = time.Now()
	errs = race(n, func(i int) error {
		return stores[i%len(stores)].CreateTask(ctx, pending(fmt.Sprintf("y%02d", i), "clicks", merge.PartitionSpec{"dt": fmt.Sprint(i)}))
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("disjoint create %d: %v", i, err)
		}
	}
	t.Logf("%d creates of disjoint partitions of one table over %d clients: %s", n, len(stores), time.Since(started))
}

func TestClaimAcrossInstances(t *testing.T) {
	const n = 32
	stores := instances(t, 4)
	ctx := context.Background()
	if err := stores[0].CreateTask(ctx, pending("claimed", "events")); err != nil {
		t.Fatal(err)
	}
	errs := race(n, func(i int) error {
		svc := merge.NewService(stores[i%len(stores)], stores[i%len(stores)])
		_, err := svc.Claim(ctx, "claimed", fmt.Sprintf("w%d", i), time.Minute)
		return err
	})
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, merge.ErrConflict):
			t.Errorf("claim %d: %v", i, err)
		}
	}
	if wins != 1 {
		t.Errorf("%d claims succeeded, want 1", wins)
	}
}

func lockDocID(tableKey string) string {
	sum := sha256.Sum256([]byte(tableKey))
	return hex.EncodeToString(sum[:])
}

func TestLockLifecycle(t *testing.T) {
	client := firestoretest.NewClient(t, projectID)
	s := firestore.New(client)
	ctx := context.Background()
	locks := client.Collection("locks")
	count := func() int {
		docs, err := locks.Documents(ctx).GetAll()
		if err != nil {
			t.Fatal(err)
		}
		return len(docs)
	}
	for _, task := range []*merge.Task{pending("a", "events", merge.PartitionSpec{"dt": "1"}), pending("b", "events", merge.PartitionSpec{"dt": "2"})} {
		if err := s.CreateTask(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	// Heartbeats leave the lock alone; finishing releases it, and the last one deletes it.
	if _, err := s.UpdateTask(ctx, "a", func(t *merge.Task) error { t.Progress = 50; return nil }); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d lock documents for one table", n)
	}
	for _, id := range []string{"a", "b"} {
		if _, err := s.UpdateTask(ctx, id, func(t *merge.Task) error { t.Status = merge.StatusSuccess; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 0 {
		t.Errorf("%d lock documents left after every task finished", n)
	}
}

func TestStaleLockHeals(t *testing.T) {
	client := firestoretest.NewClient(t, projectID)
	s := firestore.New(client)
	ctx := context.Background()
	// A lock naming a task that does not exist, as a hand edit or a restore could leave it.
	ghost := pending("ghost", "events")
	_, err := client.Collection("locks").Doc(lockDocID(ghost.TableKey())).Set(ctx, map[string]any{
		"table_key": ghost.TableKey(),
		"holders":   []map[string]any{{"task_id": "ghost", "partitions": []string{}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTask(ctx, pending("real", "events")); err != nil {
		t.Fatalf("create over a stale lock: %v", err)
	}
	if err := s.CreateTask(ctx, pending("second", "events")); !errors.Is(err, merge.ErrConflict) {
		t.Errorf("the healed lock does not hold the new task: %v", err)
	}
}

// TestClaimCapAcrossInstances checks that instances with clients of their own, which share no
// in-process queue, keep one cluster's cap between them.
func TestClaimCapAcrossInstances(t *testing.T) {
	var stores []storetest.Stores
	for _, s := range instances(t, 2) {
		stores = append(stores, storetest.Stores{Tasks: s, Clusters: s})
	}
	storetest.ClaimCap(t, stores...)
}
