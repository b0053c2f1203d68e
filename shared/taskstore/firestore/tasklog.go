package firestore

import (
	"context"
	"fmt"

	gfs "cloud.google.com/go/firestore"

	"github.com/hivemerge/hivemerge/shared/merge"
)

var _ merge.LoggingStore = (*Store)(nil)

// UpdateTaskLogs applies fn to the task and appends entries to its log in one transaction,
// conditioned on both the task and the log counter (a lost race on either runs fn again). An
// append too large for one commit (more than logBatchEntries entries) appends its leading
// batches first, on their own: they may then be recorded without the update, never the other
// way round.
func (s *Store) UpdateTaskLogs(ctx context.Context, id string, fn func(*merge.Task) error, entries ...merge.LogEntry) (*merge.Task, error) {
	if err := checkID("task", id); err != nil {
		return nil, err
	}
	batches := logBatches(entries)
	if len(batches) == 0 {
		return s.UpdateTask(ctx, id, fn)
	}
	for _, b := range batches[:len(batches)-1] {
		if err := s.appendBatch(ctx, id, b); err != nil {
			return nil, fmt.Errorf("firestore: append logs to %s: %w", id, translate(err))
		}
	}
	last := batches[len(batches)-1]
	defer s.keys.lock(colLogCounters + "/" + id)()
	return s.updateTask(ctx, id, 0, fn, func(ctx context.Context) (func(*gfs.Transaction) error, error) {
		return s.logWrites(ctx, id, last)
	})
}
