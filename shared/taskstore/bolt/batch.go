package bolt

import (
	"context"
	"errors"

	"go.etcd.io/bbolt"

	"github.com/hivemerge/hivemerge/shared/merge"
)

var _ merge.BatchStore = (*Store)(nil)

// batchTx bounds the tasks one write transaction stores, so a large batch does not hold the
// single writer for long.
const batchTx = 2000

// CreateTasks stores tasks batchTx at a time per write transaction, with CreateTask's checks
// for each: a task that conflicts is left out and the others are stored.
func (s *Store) CreateTasks(ctx context.Context, ts []*merge.Task) []error {
	errs := make([]error, len(ts))
	for start := 0; start < len(ts); start += batchTx {
		chunk := ts[start:min(start+batchTx, len(ts))]
		out := errs[start : start+len(chunk)]
		data := make([][]byte, len(chunk))
		for i, t := range chunk {
			if t.ID == "" {
				out[i] = merge.Errorf(merge.ErrInvalid, "task id is required")
				continue
			}
			normalize(t)
			var err error
			if data[i], err = encodeTask(t); err != nil {
				out[i] = err
			}
		}
		err := s.update(ctx, func(tx *bbolt.Tx) error {
			for i, t := range chunk {
				if data[i] == nil {
					continue
				}
				out[i] = createInTx(tx, t, data[i])
				if out[i] != nil && !errors.Is(out[i], merge.ErrConflict) {
					return out[i]
				}
			}
			return nil
		})
		if err != nil {
			for i := range out {
				if data[i] != nil {
					out[i] = err
				}
			}
		}
	}
	return errs
}

// createInTx is CreateTask's work inside tx. A conflict writes nothing.
func createInTx(tx *bbolt.Tx, t *merge.Task, data []byte) error {
	if tx.Bucket(bucketTasks).Get([]byte(t.ID)) != nil {
		return merge.Errorf(merge.ErrConflict, "task %s already exists", t.ID)
	}
	if t.Status.Active() {
		if err := acquire(tx, t); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketTasks).Put([]byte(t.ID), data); err != nil {
		return err
	}
	if err := addIndexes(tx, t); err != nil {
		return err
	}
	return addStats(tx, t, 1)
}
