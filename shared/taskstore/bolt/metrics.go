package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
	bbolt "go.etcd.io/bbolt"
)

// Discovery's buckets, created on first write. Keys are length-prefixed parts (lp), so one
// table's or cluster's keys are a prefix of nobody else's.
var (
	bucketScans      = []byte("scans")             // lp(cluster) + id -> JSON scan
	bucketLatest     = []byte("table_latest")      // lp(cluster) + lp(db) + lp(table) -> JSON metrics
	bucketHistory    = []byte("table_history")     // table key + time key + scan id -> JSON metrics
	bucketPartitions = []byte("partition_metrics") // table key + lp(scan id) -> JSON partitions
)

var _ merge.MetricsStore = (*Store)(nil)

func scanKey(cluster, id string) []byte { return append(lp(cluster), id...) }

func tableKey(cluster, db, table string) []byte {
	return slices.Concat(lp(cluster), lp(db), lp(table))
}

// timeKey sorts ascending with time.
func timeKey(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())^1<<63)
}

// bucket returns a bucket, creating it in a write transaction; nil in a read one when absent.
func bucket(tx *bbolt.Tx, name []byte) (*bbolt.Bucket, error) {
	if b := tx.Bucket(name); b != nil || !tx.Writable() {
		return b, nil
	}
	return tx.CreateBucket(name)
}

// CreateScan stores a new scan.
func (s *Store) CreateScan(ctx context.Context, sc *merge.Scan) error {
	if sc.ID == "" || sc.ClusterID == "" {
		return merge.Errorf(merge.ErrInvalid, "scan id and cluster id are required")
	}
	data, err := json.Marshal(sc)
	if err != nil {
		return fmt.Errorf("bolt: encode scan %s: %w", sc.ID, err)
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketScans)
		if err != nil {
			return err
		}
		k := scanKey(sc.ClusterID, sc.ID)
		if b.Get(k) != nil {
			return merge.Errorf(merge.ErrConflict, "scan %s already exists", sc.ID)
		}
		return b.Put(k, data)
	})
}

func getScan(tx *bbolt.Tx, cluster, id string) (*merge.Scan, error) {
	var data []byte
	if b := tx.Bucket(bucketScans); b != nil {
		data = b.Get(scanKey(cluster, id))
	}
	if data == nil {
		return nil, merge.Errorf(merge.ErrNotFound, "scan %q of cluster %q not found", id, cluster)
	}
	var sc merge.Scan
	if err := json.Unmarshal(data, &sc); err != nil {
		return nil, fmt.Errorf("bolt: decode scan %s: %w", id, err)
	}
	return &sc, nil
}

// GetScan returns a scan of a cluster.
func (s *Store) GetScan(ctx context.Context, cluster, id string) (*merge.Scan, error) {
	var sc *merge.Scan
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		sc, err = getScan(tx, cluster, id)
		return err
	})
	return sc, err
}

// UpdateScan applies fn inside one write transaction.
func (s *Store) UpdateScan(ctx context.Context, cluster, id string, fn func(*merge.Scan) error) (*merge.Scan, error) {
	var sc *merge.Scan
	err := s.update(ctx, func(tx *bbolt.Tx) (err error) {
		if sc, err = getScan(tx, cluster, id); err != nil {
			return err
		}
		if err := fn(sc); err != nil {
			return err
		}
		sc.ID, sc.ClusterID = id, cluster
		data, err := json.Marshal(sc)
		if err != nil {
			return fmt.Errorf("bolt: encode scan %s: %w", id, err)
		}
		return tx.Bucket(bucketScans).Put(scanKey(cluster, id), data)
	})
	if err != nil {
		return nil, err
	}
	return sc, nil
}

// ListScans walks the scans (of one cluster, or all), newest first.
func (s *Store) ListScans(ctx context.Context, cluster string, statuses ...merge.ScanStatus) ([]*merge.Scan, error) {
	out := []*merge.Scan{}
	var prefix []byte
	if cluster != "" {
		prefix = lp(cluster)
	}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketScans)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var sc merge.Scan
			if err := json.Unmarshal(v, &sc); err != nil {
				return fmt.Errorf("bolt: decode scan: %w", err)
			}
			if len(statuses) == 0 || slices.Contains(statuses, sc.Status) {
				out = append(out, &sc)
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b *merge.Scan) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, err
}

// SaveTableMetrics writes the latest metrics, the history entry and the partitions in one
// transaction, then prunes the table's history older than keepAfter with its partitions.
func (s *Store) SaveTableMetrics(ctx context.Context, m *merge.TableMetrics, parts []merge.PartitionMetrics, keepAfter time.Time) error {
	if m.ScanID == "" {
		return merge.Errorf(merge.ErrInvalid, "metrics need a scan id")
	}
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("bolt: encode metrics: %w", err)
	}
	if parts == nil {
		parts = []merge.PartitionMetrics{}
	}
	pdata, err := json.Marshal(parts)
	if err != nil {
		return fmt.Errorf("bolt: encode partition metrics: %w", err)
	}
	tk := tableKey(m.ClusterID, m.Database, m.Table)
	return s.update(ctx, func(tx *bbolt.Tx) error {
		var bs [3]*bbolt.Bucket
		for i, name := range [][]byte{bucketLatest, bucketHistory, bucketPartitions} {
			var err error
			if bs[i], err = bucket(tx, name); err != nil {
				return err
			}
		}
		latest, history, partitions := bs[0], bs[1], bs[2]
		if err := latest.Put(tk, data); err != nil {
			return err
		}
		if err := history.Put(slices.Concat(tk, timeKey(m.ScannedAt), []byte(m.ScanID)), data); err != nil {
			return err
		}
		if err := partitions.Put(append(slices.Clone(tk), lp(m.ScanID)...), pdata); err != nil {
			return err
		}
		if keepAfter.IsZero() {
			return nil
		}
		// Prune: history keys of this table sort by time, so the old ones come first.
		c := history.Cursor()
		limit := append(slices.Clone(tk), timeKey(keepAfter)...)
		var old [][]byte
		var oldScans []string
		for k, _ := c.Seek(tk); k != nil && bytes.Compare(k, limit) < 0; k, _ = c.Next() {
			old = append(old, slices.Clone(k))
			oldScans = append(oldScans, string(k[len(tk)+8:]))
		}
		for i, k := range old {
			if oldScans[i] == m.ScanID {
				continue
			}
			if err := history.Delete(k); err != nil {
				return err
			}
			if err := partitions.Delete(append(slices.Clone(tk), lp(oldScans[i])...)); err != nil {
				return err
			}
		}
		return nil
	})
}

// LatestTableMetrics returns a table's newest metrics.
func (s *Store) LatestTableMetrics(ctx context.Context, cluster, db, table string) (*merge.TableMetrics, error) {
	var m *merge.TableMetrics
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var data []byte
		if b := tx.Bucket(bucketLatest); b != nil {
			data = b.Get(tableKey(cluster, db, table))
		}
		if data == nil {
			return merge.Errorf(merge.ErrNotFound, "%s.%s of cluster %q was never scanned", db, table, cluster)
		}
		m = new(merge.TableMetrics)
		return json.Unmarshal(data, m)
	})
	return m, err
}

// PartitionMetrics returns the partitions a scan saved for a table.
func (s *Store) PartitionMetrics(ctx context.Context, cluster, db, table, scanID string) ([]merge.PartitionMetrics, error) {
	var out []merge.PartitionMetrics
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var data []byte
		if b := tx.Bucket(bucketPartitions); b != nil {
			data = b.Get(append(tableKey(cluster, db, table), lp(scanID)...))
		}
		if data == nil {
			return merge.Errorf(merge.ErrNotFound, "no partition metrics of %s.%s from scan %q", db, table, scanID)
		}
		return json.Unmarshal(data, &out)
	})
	return out, err
}

// ListTableMetrics reads the latest metrics of the cluster (or one database) and pages them.
func (s *Store) ListTableMetrics(ctx context.Context, f merge.TableMetricsFilter) (merge.TableMetricsPage, error) {
	if err := f.Validate(); err != nil {
		return merge.TableMetricsPage{}, err
	}
	prefix := lp(f.ClusterID)
	if f.Database != "" {
		prefix = append(prefix, lp(f.Database)...)
	}
	var all []*merge.TableMetrics
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketLatest)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			m := new(merge.TableMetrics)
			if err := json.Unmarshal(v, m); err != nil {
				return fmt.Errorf("bolt: decode metrics: %w", err)
			}
			all = append(all, m)
		}
		return nil
	})
	if err != nil {
		return merge.TableMetricsPage{}, err
	}
	return merge.PageTableMetrics(all, f)
}

// TableHistory walks the table's history backwards from the newest.
func (s *Store) TableHistory(ctx context.Context, cluster, db, table string, limit int) ([]*merge.TableMetrics, error) {
	out := []*merge.TableMetrics{}
	tk := tableKey(cluster, db, table)
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketHistory)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		// The first key after the table's range, then step back.
		end := append(slices.Clone(tk), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
		k, _ := c.Seek(end)
		var v []byte
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, tk) && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			m := new(merge.TableMetrics)
			if err := json.Unmarshal(v, m); err != nil {
				return fmt.Errorf("bolt: decode metrics: %w", err)
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}
