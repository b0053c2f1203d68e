// Package bolt stores hivemerge tasks, logs and clusters in one embedded bbolt file.
package bolt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Bucket layout. Index keys end with the task's order key (see orderKey), so a forward cursor
// walks them newest first, and they carry no values beyond the task ID.
var (
	bucketTasks    = []byte("tasks")    // id -> JSON taskDoc
	bucketOrder    = []byte("order")    // orderKey -> id
	bucketIndex    = []byte("index")    // field name -> (lp(value) + orderKey -> id)
	bucketActive   = []byte("active")   // lp(TableKey) + id -> JSON []PartitionSpec
	bucketLogs     = []byte("logs")     // id -> (big-endian seq -> JSON LogEntry)
	bucketClusters = []byte("clusters") // id -> JSON cluster
	bucketStats    = []byte("stats")    // counter name -> big-endian int64
	bucketMeta     = []byte("meta")     // migration name -> when it ran
)

// metaNamesFolded marks a file whose tasks all have folded database and table names (see
// foldNames).
var metaNamesFolded = []byte("names_folded")

// filterFields are the task fields ListTasks can filter on, most selective first: ListTasks
// walks the index of the first one present and checks the others on each task.
var filterFields = []struct {
	name  string
	value func(f merge.TaskFilter) string
	field func(t *merge.Task) string
}{
	{"table_name", func(f merge.TaskFilter) string { return f.Table }, func(t *merge.Task) string { return t.Table }},
	{"database_name", func(f merge.TaskFilter) string { return f.Database }, func(t *merge.Task) string { return t.Database }},
	{"cluster_id", func(f merge.TaskFilter) string { return f.ClusterID }, func(t *merge.Task) string { return t.ClusterID }},
	{"status", func(f merge.TaskFilter) string { return string(f.Status) }, func(t *merge.Task) string { return string(t.Status) }},
}

// OpenTimeout is how long Open waits for another process to release the file.
const OpenTimeout = 2 * time.Second

// Store is a merge.Store and merge.ClusterStore over a bbolt file. It is safe for concurrent
// use; bbolt serialises writers, which is what makes the overlap check and Seq assignment
// atomic.
type Store struct {
	db *bbolt.DB
}

var (
	_ merge.Store        = (*Store)(nil)
	_ merge.ClusterStore = (*Store)(nil)
)

// Open opens or creates the store file at path. bbolt locks the file, so a second process
// opening the same path gets an ErrUnavailable error after OpenTimeout instead of hanging.
func Open(path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("bolt: create directory for %s: %w", path, err)
		}
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: OpenTimeout})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("bolt: %s is in use by another process (waited %s): %w", path, OpenTimeout, merge.ErrUnavailable)
		}
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketTasks, bucketOrder, bucketIndex, bucketActive, bucketLogs, bucketClusters, bucketStats, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		idx := tx.Bucket(bucketIndex)
		for _, f := range filterFields {
			if _, err := idx.CreateBucketIfNotExists([]byte(f.name)); err != nil {
				return err
			}
		}
		return foldNames(tx)
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: initialise %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close releases the file.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt: close: %w", err)
	}
	return nil
}

// view and update run fn in a transaction after checking ctx, and translate bbolt's own
// failures (closed database, full disk) into domain errors.
func (s *Store) view(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bolt: %w: %w", merge.ErrUnavailable, err)
	}
	return translate(s.db.View(fn))
}

func (s *Store) update(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bolt: %w: %w", merge.ErrUnavailable, err)
	}
	return translate(s.db.Update(fn))
}

func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, merge.ErrNotFound), errors.Is(err, merge.ErrConflict), errors.Is(err, merge.ErrInvalid),
		errors.Is(err, merge.ErrUnavailable), errors.Is(err, merge.ErrForbidden), errors.Is(err, merge.ErrUnauthenticated),
		errors.Is(err, merge.ErrBusy):
		return err
	case errors.Is(err, bolterrors.ErrDatabaseNotOpen), errors.Is(err, bolterrors.ErrTimeout):
		return fmt.Errorf("bolt: %w: %w", merge.ErrUnavailable, err)
	case errors.Is(err, bolterrors.ErrKeyTooLarge), errors.Is(err, bolterrors.ErrValueTooLarge), errors.Is(err, bolterrors.ErrKeyRequired):
		return fmt.Errorf("bolt: %w: %w", merge.ErrInvalid, err)
	}
	// Anything else (I/O, a full disk) is returned as is: it is neither the caller's fault nor
	// something a retry is likely to fix.
	return fmt.Errorf("bolt: %w", err)
}

// CreateTask stores t. The overlap check and the write happen in one bbolt write transaction,
// and bbolt runs one writer at a time, so two overlapping creates cannot both succeed.
func (s *Store) CreateTask(ctx context.Context, t *merge.Task) error {
	if t.ID == "" {
		return merge.Errorf(merge.ErrInvalid, "task id is required")
	}
	normalize(t)
	data, err := encodeTask(t)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
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
	})
}

// GetTask returns the task with the given ID.
func (s *Store) GetTask(ctx context.Context, id string) (*merge.Task, error) {
	var t *merge.Task
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		t, err = getTask(tx, id)
		return err
	})
	return t, err
}

func getTask(tx *bbolt.Tx, id string) (*merge.Task, error) {
	data := tx.Bucket(bucketTasks).Get([]byte(id))
	if data == nil {
		return nil, merge.Errorf(merge.ErrNotFound, "task %q not found", id)
	}
	return decodeTask(id, data)
}

// UpdateTask applies fn to the task inside one write transaction, so fn runs exactly once and
// sees the latest state.
func (s *Store) UpdateTask(ctx context.Context, id string, fn func(*merge.Task) error) (*merge.Task, error) {
	return s.updateTask(ctx, id, 0, fn)
}

// ClaimTask is UpdateTask that, when fn starts the task, counts its cluster's running tasks in
// the same write transaction: bbolt runs one writer at a time, so concurrent claims see each
// other's results and the cap holds.
func (s *Store) ClaimTask(ctx context.Context, id string, maxRunning int, fn func(*merge.Task) error) (*merge.Task, error) {
	if maxRunning < 1 {
		return nil, merge.Errorf(merge.ErrInvalid, "a claim needs a cap of at least 1 running task, not %d", maxRunning)
	}
	return s.updateTask(ctx, id, maxRunning, fn)
}

// updateTask applies fn; maxRunning > 0 caps the running tasks of the task's cluster when fn
// starts it.
func (s *Store) updateTask(ctx context.Context, id string, maxRunning int, fn func(*merge.Task) error) (*merge.Task, error) {
	var updated *merge.Task
	err := s.update(ctx, func(tx *bbolt.Tx) (err error) {
		updated, err = updateTask(tx, id, maxRunning, fn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return updated, nil
}

// updateTask applies fn to the task within tx; maxRunning > 0 caps the running tasks of the
// task's cluster when fn starts it.
func updateTask(tx *bbolt.Tx, id string, maxRunning int, fn func(*merge.Task) error) (*merge.Task, error) {
	old, err := getTask(tx, id)
	if err != nil {
		return nil, err
	}
	// fn gets its own copy, so the old state stays available to move indexes.
	t, err := getTask(tx, id)
	if err != nil {
		return nil, err
	}
	if err := fn(t); err != nil {
		return nil, err
	}
	if t.ID != old.ID {
		return nil, merge.Errorf(merge.ErrInvalid, "a task's id cannot change (%s -> %s)", old.ID, t.ID)
	}
	normalize(t)
	if maxRunning > 0 && old.Status != merge.StatusRunning && t.Status == merge.StatusRunning {
		if err := checkSlots(tx, t, maxRunning); err != nil {
			return nil, err
		}
	}
	data, err := encodeTask(t)
	if err != nil {
		return nil, err
	}
	if err := moveTarget(tx, old, t); err != nil {
		return nil, err
	}
	if err := removeIndexes(tx, old); err != nil {
		return nil, err
	}
	if err := addIndexes(tx, t); err != nil {
		return nil, err
	}
	if err := addStats(tx, old, -1); err != nil {
		return nil, err
	}
	if err := addStats(tx, t, 1); err != nil {
		return nil, err
	}
	return t, tx.Bucket(bucketTasks).Put([]byte(id), data)
}

// moveTarget keeps the active-targets index in step with an update: a task that leaves an
// active status releases its target, and one that (re)enters one or changes target must not
// overlap another active task.
func moveTarget(tx *bbolt.Tx, old, t *merge.Task) error {
	same := old.Status.Active() == t.Status.Active() && old.TableKey() == t.TableKey() &&
		partitionsEqual(old.Partitions, t.Partitions)
	if same {
		return nil
	}
	if old.Status.Active() {
		if err := tx.Bucket(bucketActive).Delete(activeKey(old)); err != nil {
			return err
		}
	}
	if t.Status.Active() {
		return acquire(tx, t)
	}
	return nil
}

// partitionsEqual compares specs as maps: PartitionSpec.String does not escape '/' or '=' in
// values, so two different specs can render alike.
func partitionsEqual(a, b []merge.PartitionSpec) bool {
	return slices.EqualFunc(a, b, func(p, q merge.PartitionSpec) bool { return maps.Equal(p, q) })
}

// acquire records t as the active holder of its target, failing with ErrConflict when an
// active task on the same table overlaps it.
func acquire(tx *bbolt.Tx, t *merge.Task) error {
	b := tx.Bucket(bucketActive)
	prefix := lp(t.TableKey())
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		other := &merge.Task{ID: string(k[len(prefix):]), ClusterID: t.ClusterID, Database: t.Database, Table: t.Table}
		if other.ID == t.ID {
			continue
		}
		if err := json.Unmarshal(v, &other.Partitions); err != nil {
			return fmt.Errorf("bolt: decode active target of %s: %w", other.ID, err)
		}
		if t.Overlaps(other) {
			return merge.Errorf(merge.ErrConflict, "active task %s already targets %s", other.ID, describeTarget(other))
		}
	}
	data, err := json.Marshal(t.Partitions)
	if err != nil {
		return fmt.Errorf("bolt: encode target of %s: %w", t.ID, err)
	}
	return b.Put(activeKey(t), data)
}

// checkSlots fails with ErrBusy when t's cluster already runs maxRunning tasks. It walks the
// status index of running tasks, which the cluster caps keep short.
func checkSlots(tx *bbolt.Tx, t *merge.Task, maxRunning int) error {
	prefix := lp(string(merge.StatusRunning))
	c := tx.Bucket(bucketIndex).Bucket([]byte("status")).Cursor()
	running := 0
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		other, err := getTask(tx, string(v))
		if err != nil {
			return err
		}
		if other.ID != t.ID && other.ClusterID == t.ClusterID {
			running++
		}
	}
	if running >= maxRunning {
		return busyError(t.ClusterID, running, maxRunning)
	}
	return nil
}

func busyError(cluster string, running, maxRunning int) error {
	return merge.Errorf(merge.ErrBusy, "cluster %s already runs %d of its %d tasks; the task stays pending until one ends", cluster, running, maxRunning)
}

func describeTarget(t *merge.Task) string {
	target := t.Database + "." + t.Table
	if len(t.Partitions) == 0 {
		return target
	}
	for i, p := range t.Partitions {
		if i == 3 {
			return fmt.Sprintf("%s and %d more", target, len(t.Partitions)-3)
		}
		sep := ", "
		if i == 0 {
			sep = " "
		}
		target += sep + p.String()
	}
	return target
}

func activeKey(t *merge.Task) []byte { return append(lp(t.TableKey()), t.ID...) }

func addIndexes(tx *bbolt.Tx, t *merge.Task) error {
	ok := orderKey(t.CreatedAt, t.ID)
	if err := tx.Bucket(bucketOrder).Put(ok, []byte(t.ID)); err != nil {
		return err
	}
	idx := tx.Bucket(bucketIndex)
	for _, f := range filterFields {
		if err := idx.Bucket([]byte(f.name)).Put(append(lp(f.field(t)), ok...), []byte(t.ID)); err != nil {
			return err
		}
	}
	return nil
}

func removeIndexes(tx *bbolt.Tx, t *merge.Task) error {
	ok := orderKey(t.CreatedAt, t.ID)
	if err := tx.Bucket(bucketOrder).Delete(ok); err != nil {
		return err
	}
	idx := tx.Bucket(bucketIndex)
	for _, f := range filterFields {
		if err := idx.Bucket([]byte(f.name)).Delete(append(lp(f.field(t)), ok...)); err != nil {
			return err
		}
	}
	return nil
}

// ListTasks walks the index of the most selective filter present (or the order index) from
// the page token on, newest first, checking the remaining filters on each task.
func (s *Store) ListTasks(ctx context.Context, f merge.TaskFilter) (merge.TaskPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = merge.DefaultListLimit
	}
	f.Database, f.Table = merge.FoldName(f.Database), merge.FoldName(f.Table)
	var after []byte
	if f.PageToken != "" {
		var err error
		if after, err = decodePageToken(f.PageToken); err != nil {
			return merge.TaskPage{}, err
		}
	}
	var page merge.TaskPage
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b, prefix := tx.Bucket(bucketOrder), []byte(nil)
		for _, ff := range filterFields {
			if v := ff.value(f); v != "" {
				b, prefix = tx.Bucket(bucketIndex).Bucket([]byte(ff.name)), lp(v)
				break
			}
		}
		c := b.Cursor()
		var k, v []byte
		if after == nil {
			k, v = c.Seek(prefix)
		} else {
			start := append(bytes.Clone(prefix), after...)
			k, v = c.Seek(start)
			if bytes.Equal(k, start) {
				k, v = c.Next()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			t, err := getTask(tx, string(v))
			if err != nil {
				return err
			}
			if !matches(f, t) {
				continue
			}
			if len(page.Tasks) == limit {
				last := page.Tasks[limit-1]
				page.NextPageToken = base64.RawURLEncoding.EncodeToString(orderKey(last.CreatedAt, last.ID))
				break
			}
			page.Tasks = append(page.Tasks, t)
		}
		return nil
	})
	if err != nil {
		return merge.TaskPage{}, err
	}
	return page, nil
}

func matches(f merge.TaskFilter, t *merge.Task) bool {
	for _, ff := range filterFields {
		if v := ff.value(f); v != "" && ff.field(t) != v {
			return false
		}
	}
	return true
}

func decodePageToken(token string) ([]byte, error) {
	key, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(key) <= orderTimeLen+1 || key[len(key)-1] != 0xff {
		return nil, merge.Errorf(merge.ErrInvalid, "page_token is not valid")
	}
	return key, nil
}

// AppendLogs adds entries to the task's log with Seq values from the task's log bucket
// sequence, which only grows.
func (s *Store) AppendLogs(ctx context.Context, id string, entries ...merge.LogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.update(ctx, func(tx *bbolt.Tx) error { return appendLogs(tx, id, entries) })
}

// appendLogs appends entries to the log of task id within tx.
func appendLogs(tx *bbolt.Tx, id string, entries []merge.LogEntry) error {
	if tx.Bucket(bucketTasks).Get([]byte(id)) == nil {
		return merge.Errorf(merge.ErrNotFound, "task %q not found", id)
	}
	b, err := tx.Bucket(bucketLogs).CreateBucketIfNotExists([]byte(id))
	if err != nil {
		return err
	}
	for _, e := range entries {
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		e.Seq = int64(seq)
		e.Time = e.Time.UTC()
		data, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("bolt: encode log entry: %w", err)
		}
		if err := b.Put(seqKey(seq), data); err != nil {
			return err
		}
	}
	return nil
}

// Logs returns up to limit entries after afterSeq.
func (s *Store) Logs(ctx context.Context, id string, afterSeq int64, limit int) ([]merge.LogEntry, error) {
	if limit <= 0 {
		limit = merge.DefaultLogsLimit
	}
	afterSeq = max(afterSeq, 0)
	var out []merge.LogEntry
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketTasks).Get([]byte(id)) == nil {
			return merge.Errorf(merge.ErrNotFound, "task %q not found", id)
		}
		b := tx.Bucket(bucketLogs).Bucket([]byte(id))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(seqKey(uint64(afterSeq) + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			var e merge.LogEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("bolt: decode log entry of %s: %w", id, err)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// Stats counters are kept up to date by every write, so TaskStats reads a handful of keys
// instead of every task.
const (
	statFilesSaved = "files_saved"
	statBytesSaved = "bytes_saved"
	statStatusPfx  = "status/"
)

func addStats(tx *bbolt.Tx, t *merge.Task, sign int64) error {
	files, bytes := saved(t)
	b := tx.Bucket(bucketStats)
	for name, delta := range map[string]int64{statStatusPfx + string(t.Status): 1, statFilesSaved: files, statBytesSaved: bytes} {
		if delta == 0 {
			continue
		}
		n := counter(b, name) + sign*delta
		if err := b.Put([]byte(name), binary.BigEndian.AppendUint64(nil, uint64(n))); err != nil {
			return err
		}
	}
	return nil
}

func counter(b *bbolt.Bucket, name string) int64 {
	v := b.Get([]byte(name))
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// saved is what a task contributes to the saved totals: only finished tasks count, because
// the statistics of an active task describe work in progress.
func saved(t *merge.Task) (files, bytes int64) {
	if t.Status.Active() || !t.Status.Valid() {
		return 0, 0
	}
	return t.Stats.FilesSaved(), t.Stats.BytesSaved()
}

// TaskStats reads the counters maintained by every write.
func (s *Store) TaskStats(ctx context.Context) (merge.TaskStats, error) {
	st := merge.TaskStats{ByStatus: make(map[merge.Status]int64, len(merge.Statuses))}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketStats)
		for _, status := range merge.Statuses {
			n := counter(b, statStatusPfx+string(status))
			st.ByStatus[status] = n
			st.Total += n
		}
		st.FilesSaved = counter(b, statFilesSaved)
		st.BytesSaved = counter(b, statBytesSaved)
		return nil
	})
	if err != nil {
		return merge.TaskStats{}, err
	}
	return st, nil
}

// CreateCluster stores a new cluster.
func (s *Store) CreateCluster(ctx context.Context, c *merge.Cluster) error {
	if c.ID == "" {
		return merge.Errorf(merge.ErrInvalid, "cluster id is required")
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("bolt: encode cluster %s: %w", c.ID, err)
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketClusters)
		if b.Get([]byte(c.ID)) != nil {
			return merge.Errorf(merge.ErrConflict, "cluster %s already exists", c.ID)
		}
		return b.Put([]byte(c.ID), data)
	})
}

// GetCluster returns one cluster.
func (s *Store) GetCluster(ctx context.Context, id string) (*merge.Cluster, error) {
	var c merge.Cluster
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		data := tx.Bucket(bucketClusters).Get([]byte(id))
		if data == nil {
			return merge.Errorf(merge.ErrNotFound, "cluster %q not found", id)
		}
		return json.Unmarshal(data, &c)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// ListClusters returns every cluster in ID order, which is bbolt's key order.
func (s *Store) ListClusters(ctx context.Context) ([]*merge.Cluster, error) {
	out := []*merge.Cluster{}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketClusters).ForEach(func(k, v []byte) error {
			var c merge.Cluster
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("bolt: decode cluster %s: %w", k, err)
			}
			out = append(out, &c)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateCluster replaces an existing cluster.
func (s *Store) UpdateCluster(ctx context.Context, c *merge.Cluster) error {
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("bolt: encode cluster %s: %w", c.ID, err)
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketClusters)
		if b.Get([]byte(c.ID)) == nil {
			return merge.Errorf(merge.ErrNotFound, "cluster %q not found", c.ID)
		}
		return b.Put([]byte(c.ID), data)
	})
}

// DeleteCluster removes a cluster.
func (s *Store) DeleteCluster(ctx context.Context, id string) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketClusters)
		if b.Get([]byte(id)) == nil {
			return merge.Errorf(merge.ErrNotFound, "cluster %q not found", id)
		}
		return b.Delete([]byte(id))
	})
}

// normalize stores times in UTC so that what a caller reads back does not depend on the
// writer's time zone, and database and table names folded (merge.FoldName), so that indexes
// and active targets never depend on the case a caller used.
func normalize(t *merge.Task) {
	for _, p := range []*time.Time{&t.CreatedAt, &t.UpdatedAt, &t.StartedAt, &t.FinishedAt, &t.LeaseExpires} {
		*p = p.UTC()
	}
	t.Database, t.Table = merge.FoldName(t.Database), merge.FoldName(t.Table)
}

// foldNames migrates a file written by versions that stored database and table names as the
// caller spelt them: each such task gets folded names, and its index entries and active target
// move to the folded keys, so that it conflicts with and is listed beside lower-case tasks on
// the same table. Two active tasks that already share a folded target keep it together. It
// runs once per file, inside Open's transaction.
func foldNames(tx *bbolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta.Get(metaNamesFolded) != nil {
		return nil
	}
	var mixed []*merge.Task
	err := tx.Bucket(bucketTasks).ForEach(func(k, v []byte) error {
		t, err := decodeTask(string(k), v)
		if err != nil {
			return err
		}
		if t.Database != merge.FoldName(t.Database) || t.Table != merge.FoldName(t.Table) {
			mixed = append(mixed, t)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, t := range mixed {
		if err := removeIndexes(tx, t); err != nil {
			return err
		}
		// TableKey folds, so the key this task was stored under is spelt out here.
		oldKey := append(lp(t.ClusterID+"/"+t.Database+"/"+t.Table), t.ID...)
		if err := tx.Bucket(bucketActive).Delete(oldKey); err != nil {
			return err
		}
		normalize(t)
		data, err := encodeTask(t)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketTasks).Put([]byte(t.ID), data); err != nil {
			return err
		}
		if err := addIndexes(tx, t); err != nil {
			return err
		}
		if t.Status.Active() {
			parts, err := json.Marshal(t.Partitions)
			if err != nil {
				return fmt.Errorf("encode target of %s: %w", t.ID, err)
			}
			if err := tx.Bucket(bucketActive).Put(activeKey(t), parts); err != nil {
				return err
			}
		}
	}
	return meta.Put(metaNamesFolded, []byte(time.Now().UTC().Format(time.RFC3339)))
}

// orderTimeLen is the length of the time part of an order key.
const orderTimeLen = 12

// orderKey sorts tasks newest first under bytes.Compare: inverted seconds (sign bit flipped
// so that times before 1970 sort too) and nanoseconds, then the inverted ID and a 0xff
// terminator so that among equal times the greater ID comes first, "ab" after "abc".
func orderKey(created time.Time, id string) []byte {
	k := make([]byte, 0, orderTimeLen+len(id)+1)
	k = binary.BigEndian.AppendUint64(k, ^(uint64(created.Unix()) ^ 1<<63))
	k = binary.BigEndian.AppendUint32(k, ^uint32(created.Nanosecond()))
	for i := 0; i < len(id); i++ {
		k = append(k, ^id[i])
	}
	return append(k, 0xff)
}

// lp prefixes s with its length, so that index prefixes of different values never nest.
func lp(s string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...)
}
