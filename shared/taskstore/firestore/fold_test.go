package firestore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/firestore/firestoretest"
)

// TestFoldNames writes documents the way versions before name folding did (task names as the
// caller spelt them, locks keyed by the mixed-case table) and checks that FoldNames migrates
// them: old active tasks conflict with new lower-case ones, listing finds old tasks under the
// folded names, and finishing them frees the table.
func TestFoldNames(t *testing.T) {
	ctx := context.Background()
	s := New(firestoretest.NewClient(t, "hivemerge-test-fold"))
	created := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	legacy := []*merge.Task{
		{ID: "old1", ClusterID: "prod", Database: "WEB", Table: "PageViews", Status: merge.StatusPending, CreatedAt: created},
		// A second active task on the same table in another spelling, as the bug allowed.
		{ID: "old2", ClusterID: "prod", Database: "web", Table: "PAGEVIEWS", Status: merge.StatusRunning, CreatedAt: created.Add(time.Second),
			Partitions: []merge.PartitionSpec{{"DT": "2024-01-01"}}},
		{ID: "old3", ClusterID: "prod", Database: "Sales", Table: "Orders", Status: merge.StatusSuccess, CreatedAt: created.Add(2 * time.Second)},
	}
	for _, task := range legacy {
		if _, err := s.taskRef(task.ID).Create(ctx, toDoc(task)); err != nil {
			t.Fatal(err)
		}
		if task.Status.Active() {
			key := task.ClusterID + "/" + task.Database + "/" + task.Table
			sum := sha256.Sum256([]byte(key))
			lock := lockDoc{TableKey: key, Holders: []holder{{TaskID: task.ID, Partitions: encodeSpecs(task.Partitions)}}}
			if _, err := s.client.Collection(colLocks).Doc(hex.EncodeToString(sum[:])).Create(ctx, &lock); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A new task on the table before the migration ran shares nothing with the legacy locks.
	if err := s.CreateTask(ctx, &merge.Task{ID: "new0", ClusterID: "prod", Database: "web", Table: "pageviews",
		Partitions: []merge.PartitionSpec{{"dt": "2024-01-02"}}, Status: merge.StatusPending, CreatedAt: created.Add(3 * time.Second)}); err != nil {
		t.Fatal(err)
	}

	for range 2 { // the second run finds the marker and does nothing
		if err := s.FoldNames(ctx); err != nil {
			t.Fatal(err)
		}
	}

	locks, err := s.client.Collection(colLocks).Documents(ctx).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(locks) != 1 {
		t.Fatalf("%d lock documents after folding, want 1", len(locks))
	}
	var lock lockDoc
	if err := locks[0].DataTo(&lock); err != nil {
		t.Fatal(err)
	}
	var holders []string
	for _, h := range lock.Holders {
		holders = append(holders, h.TaskID)
	}
	slices.Sort(holders)
	if lock.TableKey != "prod/web/pageviews" || !slices.Equal(holders, []string{"new0", "old1", "old2"}) {
		t.Errorf("folded lock: %s held by %v, want prod/web/pageviews held by new0, old1, old2", lock.TableKey, holders)
	}

	err = s.CreateTask(ctx, &merge.Task{ID: "new1", ClusterID: "prod", Database: "web", Table: "pageviews",
		Partitions: []merge.PartitionSpec{{"dt": "2024-01-03"}}, Status: merge.StatusPending})
	if !errors.Is(err, merge.ErrConflict) {
		t.Errorf("create beside migrated active tasks: got %v, want ErrConflict", err)
	}
	for _, c := range []struct {
		f    merge.TaskFilter
		want []string
	}{
		{merge.TaskFilter{Database: "web", Table: "pageviews"}, []string{"new0", "old2", "old1"}},
		{merge.TaskFilter{Database: "sales"}, []string{"old3"}},
	} {
		page, err := s.ListTasks(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, task := range page.Tasks {
			got = append(got, task.ID)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("ListTasks(%+v) = %v, want %v", c.f, got, c.want)
		}
	}
	for _, id := range []string{"old1", "old2", "new0"} {
		if _, err := s.UpdateTask(ctx, id, func(task *merge.Task) error { task.Status = merge.StatusCancelled; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateTask(ctx, &merge.Task{ID: "new2", ClusterID: "prod", Database: "web", Table: "pageviews", Status: merge.StatusPending}); err != nil {
		t.Errorf("create after the legacy tasks finished: %v", err)
	}
}
