package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// runBatchCases runs the cases of merge.BatchStore, each on fresh stores.
func runBatchCases(t *testing.T, newStores func(t *testing.T) Stores) {
	for _, c := range []struct {
		name string
		run  func(t *testing.T, s Stores, bs merge.BatchStore)
	}{
		{"BatchCreate", testBatchCreate},
		{"BatchDuplicates", testBatchDuplicates},
		{"BatchConcurrent", testBatchConcurrent},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newStores(t)
			bs, ok := s.Tasks.(merge.BatchStore)
			if !ok {
				t.Fatalf("%T does not implement merge.BatchStore", s.Tasks)
			}
			c.run(t, s, bs)
		})
	}
}

// batchOf returns n pending tasks on tables t000... of prod/web with ids prefix000...
func batchOf(prefix string, n int) []*merge.Task {
	ts := make([]*merge.Task, n)
	for i := range ts {
		ts[i] = newTask(fmt.Sprintf("%s%03d", prefix, i), i, "prod", "web", fmt.Sprintf("t%03d", i))
	}
	return ts
}

func testBatchCreate(t *testing.T, s Stores, bs merge.BatchStore) {
	ctx := context.Background()
	// More than one commit's worth on Firestore.
	ts := batchOf("b", 600)
	for i, err := range bs.CreateTasks(ctx, ts) {
		if err != nil {
			t.Fatalf("task %d: %v", i, err)
		}
	}
	for _, i := range []int{0, 499, 599} {
		got, err := s.Tasks.GetTask(ctx, ts[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "stored task", got, ts[i])
	}
	stats, err := s.Tasks.TaskStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Total != 600 || stats.ByStatus[merge.StatusPending] != 600 {
		t.Errorf("stats %+v, want 600 pending", stats)
	}
	if errs := bs.CreateTasks(ctx, nil); len(errs) != 0 {
		t.Errorf("empty batch: %v", errs)
	}
}

func testBatchDuplicates(t *testing.T, s Stores, bs merge.BatchStore) {
	ctx := context.Background()
	mustCreate(t, s, newTask("old", 0, "prod", "web", "events", spec("dt", "1")))
	finished := newTask("done", 0, "prod", "web", "clicks")
	finished.Status = merge.StatusSuccess
	mustCreate(t, s, finished)
	ts := []*merge.Task{
		newTask("a", 1, "prod", "web", "events"),                  // overlaps the stored active task
		newTask("b", 2, "prod", "web", "events", spec("dt", "2")), // disjoint from it
		newTask("c", 3, "prod", "web", "events", spec("dt", "2")), // duplicate of b in the batch
		newTask("d", 4, "prod", "WEB", "Users"),                   // first on its table
		newTask("e", 5, "prod", "web", "users"),                   // the same table, folded
		newTask("old", 6, "prod", "web", "other"),                 // an existing ID
		newTask("f", 7, "prod", "web", "clicks"),                  // a finished task holds nothing
		newTask("g", 8, "prod", "web", "events", spec("dt", "3")), // disjoint again
	}
	want := []error{merge.ErrConflict, nil, merge.ErrConflict, nil, merge.ErrConflict, merge.ErrConflict, nil, nil}
	errs := bs.CreateTasks(ctx, ts)
	if len(errs) != len(ts) {
		t.Fatalf("%d errors for %d tasks", len(errs), len(ts))
	}
	for i, err := range errs {
		if (want[i] == nil) != (err == nil) || (want[i] != nil && !errors.Is(err, want[i])) {
			t.Errorf("task %s: got %v, want %v", ts[i].ID, err, want[i])
		}
	}
	got := listAll(t, s, merge.TaskFilter{Status: merge.StatusPending})
	sameJSON(t, "pending tasks", ids(got), []string{"g", "f", "d", "b", "old"})
	// The conflicting "old" of the batch did not replace the stored one.
	if old, err := s.Tasks.GetTask(ctx, "old"); err != nil || old.Table != "events" {
		t.Errorf("stored task old: %+v, %v", old, err)
	}
}

func testBatchConcurrent(t *testing.T, s Stores, bs merge.BatchStore) {
	const n, tables = 4, 150
	ctx := context.Background()
	// n schedulers write batches over the same tables, in different orders.
	results := make([][]error, n)
	parallel(n, func(i int) error {
		ts := batchOf(fmt.Sprintf("s%d-", i), tables)
		if i%2 == 1 {
			for l, r := 0, len(ts)-1; l < r; l, r = l+1, r-1 {
				ts[l], ts[r] = ts[r], ts[l]
			}
		}
		results[i] = bs.CreateTasks(ctx, ts)
		return nil
	})
	created := 0
	for i, errs := range results {
		for j, err := range errs {
			switch {
			case err == nil:
				created++
			case !errors.Is(err, merge.ErrConflict):
				t.Errorf("scheduler %d task %d: %v, want nil or ErrConflict", i, j, err)
			}
		}
	}
	if created != tables {
		t.Errorf("%d tasks created, want one per table: %d", created, tables)
	}
	perTable := map[string]int{}
	for _, task := range listAll(t, s, merge.TaskFilter{}) {
		perTable[task.Table]++
	}
	if len(perTable) != tables {
		t.Errorf("%d tables have tasks, want %d", len(perTable), tables)
	}
	for tbl, k := range perTable {
		if k != 1 {
			t.Errorf("table %s has %d tasks, want 1", tbl, k)
		}
	}
}
