package bolt

import (
	"context"
	"encoding/json"

	"go.etcd.io/bbolt"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// RawCreate writes what CreateTasks writes for each task (its record, its active target, its
// index entries and counters), batchTx per transaction, without reading anything first: no
// existence or overlap check. It is the floor the benchmark compares CreateTasks with.
func RawCreate(s *Store, ctx context.Context, ts []*merge.Task) error {
	for start := 0; start < len(ts); start += batchTx {
		err := s.update(ctx, func(tx *bbolt.Tx) error {
			for _, t := range ts[start:min(start+batchTx, len(ts))] {
				normalize(t)
				data, err := encodeTask(t)
				if err != nil {
					return err
				}
				target, err := json.Marshal(t.Partitions)
				if err != nil {
					return err
				}
				if err := tx.Bucket(bucketActive).Put(activeKey(t), target); err != nil {
					return err
				}
				if err := tx.Bucket(bucketTasks).Put([]byte(t.ID), data); err != nil {
					return err
				}
				if err := addIndexes(tx, t); err != nil {
					return err
				}
				if err := addStats(tx, t, 1); err != nil {
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
