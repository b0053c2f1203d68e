package app

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// cleanupBatch bounds the backups one cleanup run looks at; the rest stay due for the next.
// failedRetry is how much later a backup whose cleanup failed is due again: within the next
// hourly run.
const (
	cleanupBatch = 500
	failedRetry  = 30 * time.Minute
)

// excerpt cuts s to at most n bytes at a rune boundary.
func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// CleanupBackups cleans up the safe_merge backups due at now, each with its cluster's
// executor (engine.Executor.CleanupBackup), and counts what it did. A backup that fails is
// counted and left due, the others go on; the error names every failure.
func (e *Engine) CleanupBackups(ctx context.Context, now time.Time) (merge.BackupReport, error) {
	var rep merge.BackupReport
	store := e.clusters.Backups
	if store == nil {
		return rep, errors.New("no backup store is configured")
	}
	due, err := store.BackupsDue(ctx, now, cleanupBatch)
	if err != nil {
		return rep, err
	}
	var errs []error
	for _, b := range due {
		if ctx.Err() != nil {
			errs = append(errs, fmt.Errorf("stopped with %d backups left: %w", len(due)-rep.Checked, context.Cause(ctx)))
			break
		}
		rep.Checked++
		res, err := e.cleanupOne(ctx, b)
		rep.FilesDeleted += int64(res.Deleted)
		rep.BytesDeleted += res.Bytes
		rep.FilesCarried += int64(res.Carried)
		switch {
		case err != nil:
			rep.Failed++
			errs = append(errs, fmt.Errorf("backup %s of task %s: %w", b.Location, b.TaskID, err))
			// Records are taken earliest due first: one that keeps failing (its cluster gone,
			// say) must not hold the head of the queue and starve the others.
			b.Due, b.Note = now.Add(failedRetry), excerpt("the last cleanup failed: "+err.Error(), 500)
			if err := store.PutBackup(ctx, b); err != nil {
				errs = append(errs, fmt.Errorf("backup %s of task %s: put it back: %w", b.Location, b.TaskID, err))
			}
		case res.Outcome == merge.BackupCleaned:
			rep.Cleaned++
		case res.Outcome == merge.BackupDropped:
			rep.Dropped++
		default:
			rep.Kept++
		}
	}
	return rep, errors.Join(errs...)
}

func (e *Engine) cleanupOne(ctx context.Context, b *merge.Backup) (engine.BackupResult, error) {
	c, release, err := e.clusters.acquire(ctx, b.ClusterID)
	if err != nil {
		return engine.BackupResult{}, err
	}
	defer release()
	return c.exec.CleanupBackup(ctx, b)
}
