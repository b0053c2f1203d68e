package firestore

import (
	"context"
	"fmt"
	"time"

	gfs "cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// colBackups holds one document per backup record (task and partition), each under
// merge.MaxBackupSnapshot of snapshot. BackupsDue filters and orders on due alone, which the
// automatic single-field index serves.
const colBackups = "backups"

var _ merge.BackupStore = (*Store)(nil)

type backupDoc struct {
	TaskID    string    `firestore:"task_id"`
	ClusterID string    `firestore:"cluster_id"`
	Partition string    `firestore:"partition"`
	Location  string    `firestore:"location"`
	Live      string    `firestore:"live"`
	Snapshot  []byte    `firestore:"snapshot"`
	CreatedAt time.Time `firestore:"created_at"`
	Due       time.Time `firestore:"due"`
	Note      string    `firestore:"note"`
}

// PutBackup stores b with Set, replacing a record of the same ID.
func (s *Store) PutBackup(ctx context.Context, b *merge.Backup) error {
	if err := merge.CheckBackup(b); err != nil {
		return err
	}
	if err := checkID("backup", b.ID); err != nil {
		return merge.Errorf(merge.ErrInvalid, "backup id %q cannot be a Firestore document id", b.ID)
	}
	b.CreatedAt, b.Due = roundTime(b.CreatedAt), roundTime(b.Due)
	d := &backupDoc{TaskID: b.TaskID, ClusterID: b.ClusterID, Partition: b.Partition, Location: b.Location, Live: b.Live,
		Snapshot: b.Snapshot, CreatedAt: b.CreatedAt, Due: b.Due, Note: b.Note}
	if _, err := s.client.Collection(colBackups).Doc(b.ID).Set(ctx, d); err != nil {
		return fmt.Errorf("firestore: put backup %s: %w", b.ID, translate(err))
	}
	return nil
}

// GetBackup returns one record.
func (s *Store) GetBackup(ctx context.Context, id string) (*merge.Backup, error) {
	if err := checkID("backup record", id); err != nil {
		return nil, err
	}
	snap, err := s.client.Collection(colBackups).Doc(id).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, merge.Errorf(merge.ErrNotFound, "backup record %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("firestore: get backup %s: %w", id, translate(err))
	}
	return decodeBackup(snap)
}

func decodeBackup(snap *gfs.DocumentSnapshot) (*merge.Backup, error) {
	var d backupDoc
	if err := snap.DataTo(&d); err != nil {
		return nil, fmt.Errorf("firestore: decode backup %s: %w", snap.Ref.ID, err)
	}
	return &merge.Backup{ID: snap.Ref.ID, TaskID: d.TaskID, ClusterID: d.ClusterID, Partition: d.Partition,
		Location: d.Location, Live: d.Live, Snapshot: d.Snapshot, CreatedAt: d.CreatedAt.UTC(), Due: d.Due.UTC(), Note: d.Note}, nil
}

// BackupsDue runs one query: due at or before t, earliest first.
func (s *Store) BackupsDue(ctx context.Context, t time.Time, limit int) ([]*merge.Backup, error) {
	if limit <= 0 {
		return nil, merge.Errorf(merge.ErrInvalid, "limit must be positive")
	}
	snaps, err := s.client.Collection(colBackups).Where("due", "<=", t.UTC()).OrderBy("due", gfs.Asc).
		Limit(limit).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("firestore: list due backups: %w", translate(err))
	}
	out := make([]*merge.Backup, 0, len(snaps))
	for _, snap := range snaps {
		b, err := decodeBackup(snap)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// DeleteBackup deletes a record; Delete of a missing document succeeds.
func (s *Store) DeleteBackup(ctx context.Context, id string) error {
	if checkID("backup record", id) != nil {
		return nil
	}
	if _, err := s.client.Collection(colBackups).Doc(id).Delete(ctx); err != nil {
		return fmt.Errorf("firestore: delete backup %s: %w", id, translate(err))
	}
	return nil
}
