package bolt

import (
	"context"
	"encoding/json"

	"go.etcd.io/bbolt"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// RawCreate writes the task documents alone, batchTx per transaction as CreateTasks does,
// without checks, locks, indexes or counters: the floor the benchmark compares CreateTasks
// with.
func RawCreate(s *Store, ctx context.Context, ts []*merge.Task) error {
	for start := 0; start < len(ts); start += batchTx {
		err := s.update(ctx, func(tx *bbolt.Tx) error {
			for _, t := range ts[start:min(start+batchTx, len(ts))] {
				data, err := json.Marshal(t)
				if err != nil {
					return err
				}
				if err := tx.Bucket(bucketTasks).Put([]byte(t.ID), data); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
