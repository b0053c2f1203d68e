package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Backup record buckets, created on first write. The due index sorts oldest first: a due key
// is the due time (big-endian, offset so negative times sort before positive ones) and the ID.
var (
	bucketBackups   = []byte("backups")    // id -> JSON backup
	bucketBackupDue = []byte("backup_due") // dueKey -> id
)

var _ merge.BackupStore = (*Store)(nil)

func dueKey(due time.Time, id string) []byte {
	k := binary.BigEndian.AppendUint64(nil, uint64(due.UnixNano())^1<<63)
	return append(k, id...)
}

// PutBackup stores b, replacing a record of the same ID and its index entry.
func (s *Store) PutBackup(ctx context.Context, b *merge.Backup) error {
	if err := merge.CheckBackup(b); err != nil {
		return err
	}
	b.CreatedAt, b.Due = b.CreatedAt.UTC(), b.Due.UTC()
	data, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("bolt: encode backup %s: %w", b.ID, err)
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		backups, due, err := backupBuckets(tx)
		if err != nil {
			return err
		}
		if old, err := getBackup(tx, b.ID); err == nil {
			if err := due.Delete(dueKey(old.Due, old.ID)); err != nil {
				return err
			}
		}
		if err := due.Put(dueKey(b.Due, b.ID), []byte(b.ID)); err != nil {
			return err
		}
		return backups.Put([]byte(b.ID), data)
	})
}

func backupBuckets(tx *bbolt.Tx) (backups, due *bbolt.Bucket, err error) {
	if backups, err = tx.CreateBucketIfNotExists(bucketBackups); err != nil {
		return
	}
	due, err = tx.CreateBucketIfNotExists(bucketBackupDue)
	return
}

// GetBackup returns one record.
func (s *Store) GetBackup(ctx context.Context, id string) (*merge.Backup, error) {
	var b *merge.Backup
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		b, err = getBackup(tx, id)
		return err
	})
	return b, err
}

func getBackup(tx *bbolt.Tx, id string) (*merge.Backup, error) {
	var data []byte
	if b := tx.Bucket(bucketBackups); b != nil && id != "" {
		data = b.Get([]byte(id))
	}
	if data == nil {
		return nil, merge.Errorf(merge.ErrNotFound, "backup record %q not found", id)
	}
	var b merge.Backup
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("bolt: decode backup %s: %w", id, err)
	}
	return &b, nil
}

// BackupsDue walks the due index from its oldest end.
func (s *Store) BackupsDue(ctx context.Context, t time.Time, limit int) ([]*merge.Backup, error) {
	if limit <= 0 {
		return nil, merge.Errorf(merge.ErrInvalid, "limit must be positive")
	}
	out := []*merge.Backup{}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		due := tx.Bucket(bucketBackupDue)
		if due == nil {
			return nil
		}
		c := due.Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			b, err := getBackup(tx, string(v))
			if err != nil {
				return err
			}
			if b.Due.After(t) {
				break
			}
			out = append(out, b)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteBackup removes a record and its index entry.
func (s *Store) DeleteBackup(ctx context.Context, id string) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := getBackup(tx, id)
		if errors.Is(err, merge.ErrNotFound) {
			return nil // already gone
		}
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketBackupDue).Delete(dueKey(old.Due, old.ID)); err != nil {
			return err
		}
		return tx.Bucket(bucketBackups).Delete([]byte(id))
	})
}
