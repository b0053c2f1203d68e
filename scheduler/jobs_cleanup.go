package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// The cleanup-backups job deletes the backups of safe_merge whose keep period has passed. Its
// timeout stays under Cloud Scheduler's longest attempt deadline; what a run does not reach
// stays due for the next.
const (
	JobCleanupBackups     = "cleanup-backups"
	CleanupBackupsTimeout = 25 * time.Minute
)

// BackupCleaner cleans up the backups due at now; the app's engine is one.
type BackupCleaner interface {
	CleanupBackups(ctx context.Context, now time.Time) (merge.BackupReport, error)
}

// RegisterCleanupJob adds the cleanup-backups job over c.
func (s *Service) RegisterCleanupJob(c BackupCleaner) {
	s.Register(JobCleanupBackups, CleanupBackupsTimeout, func(ctx context.Context) (Outcome, error) {
		r, err := c.CleanupBackups(ctx, s.now())
		out := Outcome{
			Counts: map[string]int64{
				"checked": int64(r.Checked), "cleaned": int64(r.Cleaned), "kept": int64(r.Kept), "dropped": int64(r.Dropped),
				"failed": int64(r.Failed), "files_deleted": r.FilesDeleted, "bytes_deleted": r.BytesDeleted, "files_carried": r.FilesCarried,
			},
			Summary: fmt.Sprintf("checked %d backups: %d cleaned (%d files, %d bytes deleted), %d kept, %d dropped, %d failed",
				r.Checked, r.Cleaned, r.FilesDeleted, r.BytesDeleted, r.Kept, r.Dropped, r.Failed),
		}
		if err != nil {
			return out, fmt.Errorf("cleanup backups: %w", err)
		}
		return out, nil
	})
}

// AddCleanupJob registers the cleanup-backups job and schedules it on cfg's spec.
func (s *Scheduler) AddCleanupJob(c BackupCleaner, cfg Config) error {
	s.svc.RegisterCleanupJob(c)
	if err := s.Add(JobCleanupBackups, cfg.CleanupBackups); err != nil {
		return fmt.Errorf("job %s: %w", JobCleanupBackups, err)
	}
	return nil
}
