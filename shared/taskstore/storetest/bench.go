package storetest

import (
	"context"
	"fmt"
	"os"
	"strconv"
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

// BenchBatch measures what a batch-create run writes for n candidate tables, creating their
// tasks through merge.Service.CreatePlan (validation, the per-table locks, the bulk write of
// the BatchStore), beside raw, which writes the same task documents in bulk without any
// check, in the same run. Each iteration writes n tasks on tables of its own.
func BenchBatch(b *testing.B, newStores func(b *testing.B) Stores, raw func(ctx context.Context, ts []*merge.Task) error, n int) {
	ctx := context.Background()
	s := newStores(b)
	if err := s.Clusters.CreateCluster(ctx, &merge.Cluster{ID: "prod", Host: "hive.example.com", Port: 10000, Auth: merge.AuthNoSASL}); err != nil {
		b.Fatal(err)
	}
	svc := merge.NewService(s.Tasks, s.Clusters)
	p := merge.DefaultPolicy()
	p.Name, p.MaxTasksPerRun = "bench", n
	round := 0
	b.Run(fmt.Sprintf("create-%d", n), func(b *testing.B) {
		for b.Loop() {
			round++
			plan := &merge.Plan{Policy: p.Name}
			for i := range n {
				plan.Candidates = append(plan.Candidates, merge.Candidate{ClusterID: "prod", Database: "web", Table: fmt.Sprintf("r%d_t%d", round, i)})
			}
			res, err := svc.CreatePlan(ctx, &p, plan, n)
			if err != nil || len(res.Created) != n {
				b.Fatalf("created %d of %d: %v", len(res.Created), n, err)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
	})
	b.Run(fmt.Sprintf("raw-%d", n), func(b *testing.B) {
		now := time.Now()
		for b.Loop() {
			round++
			ts := make([]*merge.Task, n)
			for i := range ts {
				ts[i] = benchTask(fmt.Sprintf("r%d_", round), i, now)
				ts[i].Name, ts[i].Strategy, ts[i].CreatedBy = "bench: web."+ts[i].Table, merge.StrategyAuto, "scheduler:bench"
			}
			if err := raw(ctx, ts); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
	})
}

// BenchBatchSize is HIVEMERGE_BENCH_BATCH_TASKS, or def when unset.
func BenchBatchSize(b *testing.B, def int) int {
	v := os.Getenv("HIVEMERGE_BENCH_BATCH_TASKS")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > merge.MaxTasksPerRunLimit {
		b.Fatalf("HIVEMERGE_BENCH_BATCH_TASKS=%q: want 1 to %d", v, merge.MaxTasksPerRunLimit)
	}
	return n
}
