package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Bench measures the raw store operations the API is compared against (docs/benchmarks.md):
// create, get by ID and a first page of 50, each on a fresh store from newStore.
func Bench(b *testing.B, newStore func(b *testing.B) merge.Store) {
	ctx := context.Background()
	b.Run("create", func(b *testing.B) {
		s := prepared(b, newStore, 0)
		now := time.Now()
		i := 0
		for b.Loop() {
			if err := s.CreateTask(ctx, benchTask("c", i, now)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("get", func(b *testing.B) {
		s := prepared(b, newStore, 200)
		i := 0
		for b.Loop() {
			if _, err := s.GetTask(ctx, fmt.Sprintf("s%08d", i%200)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("list50", func(b *testing.B) {
		s := prepared(b, newStore, 200)
		for b.Loop() {
			page, err := s.ListTasks(ctx, merge.TaskFilter{Limit: 50})
			if err != nil || len(page.Tasks) != 50 {
				b.Fatal(len(page.Tasks), err)
			}
		}
	})
}

// prepared returns a store seeded with n tasks on distinct tables, after one create and one
// read, so the first timed operation does not pay for connections or a backend's warm-up.
func prepared(b *testing.B, newStore func(b *testing.B) merge.Store, n int) merge.Store {
	ctx := context.Background()
	s := newStore(b)
	now := time.Now()
	for i := range n {
		if err := s.CreateTask(ctx, benchTask("s", i, now)); err != nil {
			b.Fatal(err)
		}
	}
	warm := benchTask("w", 0, now)
	if err := s.CreateTask(ctx, warm); err != nil {
		b.Fatal(err)
	}
	if _, err := s.GetTask(ctx, warm.ID); err != nil {
		b.Fatal(err)
	}
	return s
}

func benchTask(prefix string, i int, now time.Time) *merge.Task {
	return &merge.Task{
		ID: fmt.Sprintf("%s%08d", prefix, i), ClusterID: "prod", Database: "web", Table: fmt.Sprintf("%s%d", prefix, i),
		Status: merge.StatusPending, CreatedAt: now.Add(time.Duration(i) * time.Microsecond),
	}
}
