package bolt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Run record buckets, created on first write. Order keys (orderKey over the slot and ID) sort
// newest first, as in the task indexes.
var (
	bucketRuns     = []byte("runs")      // id -> JSON run
	bucketRunOrder = []byte("run_order") // orderKey -> id
	bucketRunJobs  = []byte("run_jobs")  // lp(job) + orderKey -> id
)

var _ merge.RunStore = (*Store)(nil)

// CreateRun stores a new run record. bbolt serialises writers, so of two creates of one ID
// exactly one succeeds.
func (s *Store) CreateRun(ctx context.Context, r *merge.Run) error {
	if r.ID == "" {
		return merge.Errorf(merge.ErrInvalid, "run id is required")
	}
	data, err := encodeRun(r)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		runs, order, jobs, err := runBuckets(tx)
		if err != nil {
			return err
		}
		if runs.Get([]byte(r.ID)) != nil {
			return merge.Errorf(merge.ErrConflict, "run %s already exists", r.ID)
		}
		key := orderKey(r.Slot, r.ID)
		if err := order.Put(key, []byte(r.ID)); err != nil {
			return err
		}
		if err := jobs.Put(append(lp(r.Job), key...), []byte(r.ID)); err != nil {
			return err
		}
		return runs.Put([]byte(r.ID), data)
	})
}

func runBuckets(tx *bbolt.Tx) (runs, order, jobs *bbolt.Bucket, err error) {
	if runs, err = tx.CreateBucketIfNotExists(bucketRuns); err != nil {
		return
	}
	if order, err = tx.CreateBucketIfNotExists(bucketRunOrder); err != nil {
		return
	}
	jobs, err = tx.CreateBucketIfNotExists(bucketRunJobs)
	return
}

// UpdateRun replaces a run record. Its job and slot, which its index keys hold, are kept.
func (s *Store) UpdateRun(ctx context.Context, r *merge.Run) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := getRun(tx, r.ID)
		if err != nil {
			return err
		}
		r.Job, r.Slot = old.Job, old.Slot
		data, err := encodeRun(r)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketRuns).Put([]byte(r.ID), data)
	})
}

// GetRun returns one run record.
func (s *Store) GetRun(ctx context.Context, id string) (*merge.Run, error) {
	var r *merge.Run
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		r, err = getRun(tx, id)
		return err
	})
	return r, err
}

func getRun(tx *bbolt.Tx, id string) (*merge.Run, error) {
	var data []byte
	if b := tx.Bucket(bucketRuns); b != nil && id != "" {
		data = b.Get([]byte(id))
	}
	if data == nil {
		return nil, merge.Errorf(merge.ErrNotFound, "run %q not found", id)
	}
	var r merge.Run
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("bolt: decode run %s: %w", id, err)
	}
	return &r, nil
}

// ListRuns walks the job's index (or the order of all runs) from the page token on.
func (s *Store) ListRuns(ctx context.Context, f merge.RunFilter) (merge.RunPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = merge.DefaultListLimit
	}
	var after []byte
	if f.PageToken != "" {
		var err error
		if after, err = decodePageToken(f.PageToken); err != nil {
			return merge.RunPage{}, err
		}
	}
	page := merge.RunPage{Runs: []*merge.Run{}}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b, prefix := tx.Bucket(bucketRunOrder), []byte(nil)
		if f.Job != "" {
			b, prefix = tx.Bucket(bucketRunJobs), lp(f.Job)
		}
		if b == nil {
			return nil
		}
		c := b.Cursor()
		start := append(bytes.Clone(prefix), after...)
		k, v := c.Seek(start)
		if after != nil && bytes.Equal(k, start) {
			k, v = c.Next()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(page.Runs) == limit {
				last := page.Runs[limit-1]
				page.NextPageToken = base64.RawURLEncoding.EncodeToString(orderKey(last.Slot, last.ID))
				break
			}
			r, err := getRun(tx, string(v))
			if err != nil {
				return err
			}
			page.Runs = append(page.Runs, r)
		}
		return nil
	})
	if err != nil {
		return merge.RunPage{}, err
	}
	return page, nil
}

// DeleteRunsBefore walks the order index from its oldest end and removes every record whose
// slot is before t.
func (s *Store) DeleteRunsBefore(ctx context.Context, t time.Time) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		runs, order, jobs, err := runBuckets(tx)
		if err != nil {
			return err
		}
		c := order.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Last() {
			r, err := getRun(tx, string(v))
			if err != nil {
				return err
			}
			if !r.Slot.Before(t) {
				break
			}
			if err := c.Delete(); err != nil {
				return err
			}
			if err := jobs.Delete(append(lp(r.Job), k...)); err != nil {
				return err
			}
			if err := runs.Delete([]byte(r.ID)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

func encodeRun(r *merge.Run) ([]byte, error) {
	r.Slot, r.StartedAt, r.FinishedAt = r.Slot.UTC(), r.StartedAt.UTC(), r.FinishedAt.UTC()
	data, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("bolt: encode run %s: %w", r.ID, err)
	}
	return data, nil
}
