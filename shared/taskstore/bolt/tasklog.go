package bolt

import (
	"context"

	"go.etcd.io/bbolt"

	"github.com/hivemerge/hivemerge/shared/merge"
)

var _ merge.LoggingStore = (*Store)(nil)

// UpdateTaskLogs applies fn to the task and appends entries to its log in one write
// transaction: one fsync for both.
func (s *Store) UpdateTaskLogs(ctx context.Context, id string, fn func(*merge.Task) error, entries ...merge.LogEntry) (*merge.Task, error) {
	var updated *merge.Task
	err := s.update(ctx, func(tx *bbolt.Tx) (err error) {
		if updated, err = updateTask(tx, id, 0, fn); err != nil {
			return err
		}
		return appendLogs(tx, id, entries)
	})
	if err != nil {
		return nil, err
	}
	return updated, nil
}
