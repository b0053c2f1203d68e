package bolt_test

import (
	"context"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
	"github.com/hivemerge/hivemerge/shared/taskstore/storetest"
)

// BenchmarkBatchCreate compares a batch-create run's writes with the raw bulk write of the
// same documents (docs/benchmarks.md). HIVEMERGE_BENCH_BATCH_TASKS sets the candidate tables
// (default 10,000).
func BenchmarkBatchCreate(b *testing.B) {
	s := open(b)
	storetest.BenchBatch(b, func(b *testing.B) storetest.Stores { return storetest.Stores{Tasks: s, Clusters: s} },
		func(ctx context.Context, ts []*merge.Task) error { return bolt.RawCreate(s, ctx, ts) },
		storetest.BenchBatchSize(b, 10000))
}
