package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
	bbolt "go.etcd.io/bbolt"
)

// TestOpenFoldsLegacyNames writes tasks the way versions before name folding did (names as the
// caller spelt them, in the task, its index entries and its active target) and checks that
// Open migrates them: they conflict with and are listed beside lower-case tasks.
func TestOpenFoldsLegacyNames(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "legacy.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	legacy := []*merge.Task{
		{ID: "old1", ClusterID: "prod", Database: "WEB", Table: "PageViews", Status: merge.StatusPending, CreatedAt: created},
		// A second active task on the same table in another spelling, as the bug allowed.
		{ID: "old2", ClusterID: "prod", Database: "web", Table: "PAGEVIEWS", Status: merge.StatusRunning, CreatedAt: created.Add(time.Second)},
		{ID: "old3", ClusterID: "prod", Database: "Sales", Table: "Orders", Status: merge.StatusSuccess, CreatedAt: created.Add(2 * time.Second),
			Partitions: []merge.PartitionSpec{{"DT": "2024-01-01"}}},
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		for _, task := range legacy {
			data, err := json.Marshal(task)
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketTasks).Put([]byte(task.ID), data); err != nil {
				return err
			}
			if err := addIndexes(tx, task); err != nil {
				return err
			}
			if err := addStats(tx, task, 1); err != nil {
				return err
			}
			if task.Status.Active() {
				key := append(lp(task.ClusterID+"/"+task.Database+"/"+task.Table), task.ID...)
				if err := tx.Bucket(bucketActive).Put(key, []byte("null")); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bucketMeta).Delete(metaNamesFolded)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range []string{"old1", "old2"} {
		if _, err := s.UpdateTask(ctx, id, func(*merge.Task) error { return nil }); err != nil {
			t.Fatalf("UpdateTask(%s) after migration: %v", id, err)
		}
	}
	err = s.CreateTask(ctx, &merge.Task{ID: "new1", ClusterID: "prod", Database: "web", Table: "pageviews", Status: merge.StatusPending})
	if !errors.Is(err, merge.ErrConflict) {
		t.Errorf("create beside migrated active tasks: got %v, want ErrConflict", err)
	}
	for _, c := range []struct {
		name string
		f    merge.TaskFilter
		want []string
	}{
		{"table", merge.TaskFilter{Table: "pageviews"}, []string{"old2", "old1"}},
		{"database and table", merge.TaskFilter{Database: "sales", Table: "orders"}, []string{"old3"}},
		{"database", merge.TaskFilter{Database: "web"}, []string{"old2", "old1"}},
	} {
		page, err := s.ListTasks(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, task := range page.Tasks {
			got = append(got, task.ID)
			if task.Database != merge.FoldName(task.Database) || task.Table != merge.FoldName(task.Table) {
				t.Errorf("%s: task %s still named %s.%s", c.name, task.ID, task.Database, task.Table)
			}
		}
		if len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("%s: ListTasks = %v, want %v", c.name, got, c.want)
		}
	}
	// Finishing both legacy holders frees the folded target.
	for _, id := range []string{"old1", "old2"} {
		if _, err := s.UpdateTask(ctx, id, func(task *merge.Task) error { task.Status = merge.StatusCancelled; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateTask(ctx, &merge.Task{ID: "new2", ClusterID: "prod", Database: "Web", Table: "PageViews", Status: merge.StatusPending}); err != nil {
		t.Errorf("create after the legacy tasks finished: %v", err)
	}
	// No stale index entries under the old spellings remain.
	page, err := s.ListTasks(ctx, merge.TaskFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Tasks) != 4 {
		t.Errorf("ListTasks = %d tasks, want 4", len(page.Tasks))
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketIndex).Bucket([]byte("table_name")).ForEach(func(k, _ []byte) error {
			if bytes.HasPrefix(k, lp("PageViews")) || bytes.HasPrefix(k, lp("PAGEVIEWS")) {
				t.Errorf("stale index entry %q", k)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}
