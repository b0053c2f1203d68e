package firestore_test

import (
	"context"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/firestore"
	"github.com/hivemerge/hivemerge/shared/taskstore/storetest"
)

// BenchmarkBatchCreate compares a batch-create run's writes with the raw bulk write of the
// same documents on the emulator (docs/benchmarks.md). HIVEMERGE_BENCH_BATCH_TASKS sets the
// candidate tables (default 2,000: 10,000 take minutes on the emulator).
func BenchmarkBatchCreate(b *testing.B) {
	s := newStore(b)
	storetest.BenchBatch(b, func(b *testing.B) storetest.Stores { return storetest.Stores{Tasks: s, Clusters: s} },
		func(ctx context.Context, ts []*merge.Task) error { return firestore.RawCreate(s, ctx, ts) },
		storetest.BenchBatchSize(b, 2000))
}
