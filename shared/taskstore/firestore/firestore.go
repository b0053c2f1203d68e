// Package firestore stores hivemerge tasks, logs and clusters in Cloud Firestore.
//
// Layout:
//
//	tasks/{id}                 one document per task (taskDoc)
//	tasks/{id}/logs/{seq}      one document per log entry, so no document outgrows 1 MiB
//	log_counters/{id}          the last Seq handed out for a task's log
//	locks/{sha256(TableKey)}   the active tasks of one table and their partition specs
//	slots/{sha256(ClusterID)}  the running tasks of one cluster, which its cap bounds
//	meta/{migration}           the migrations that have run (FoldNames)
//	clusters/{id}              the cluster registry
//
// Every write that must not lose a race is optimistic: the store reads plainly, decides, and
// commits in one transaction whose writes are conditioned on the update times it read
// (compare-and-set); a loser reads again. A task and its table's lock document are committed
// together that way, which is what makes "one active task per table or partition" hold under
// concurrent creates, across processes.
package firestore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	gfs "cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Collection names.
const (
	colTasks       = "tasks"
	colLogs        = "logs"
	colLogCounters = "log_counters"
	colLocks       = "locks"
	colClusters    = "clusters"
)

// Limits that keep every document and commit within Firestore's: 1 MiB per document, 500
// writes and 10 MiB per commit.
const (
	maxLogField      = 256 << 10
	logBatchEntries  = 400
	logBatchBytes    = 4 << 20
	maxLockDocBytes  = 900 << 10
	truncatedMessage = " [truncated]"
)

// Store is a merge.Store and merge.ClusterStore over a Firestore database. It is safe for
// concurrent use.
type Store struct {
	client *gfs.Client
	owned  bool
	keys   keyMutex
}

var (
	_ merge.Store        = (*Store)(nil)
	_ merge.ClusterStore = (*Store)(nil)
)

// New returns a Store over client. The caller keeps ownership of client.
func New(client *gfs.Client) *Store {
	return &Store{client: client}
}

// Open connects to databaseID ("" or "(default)" for the default database) of projectID and
// returns a Store that closes the client in Close. With FIRESTORE_EMULATOR_HOST set it talks
// to that emulator.
func Open(ctx context.Context, projectID, databaseID string) (*Store, error) {
	var (
		client *gfs.Client
		err    error
	)
	if databaseID == "" || databaseID == gfs.DefaultDatabaseID {
		client, err = gfs.NewClient(ctx, projectID)
	} else {
		client, err = gfs.NewClientWithDatabase(ctx, projectID, databaseID)
	}
	if err != nil {
		return nil, fmt.Errorf("firestore: connect to project %s: %w", projectID, translate(err))
	}
	s := &Store{client: client, owned: true}
	if err := s.FoldNames(ctx); err != nil {
		_ = client.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the client if Open created it.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("firestore: close: %w", err)
	}
	return nil
}

func (s *Store) taskRef(id string) *gfs.DocumentRef { return s.client.Collection(colTasks).Doc(id) }

func (s *Store) lockRef(tableKey string) *gfs.DocumentRef {
	sum := sha256.Sum256([]byte(tableKey))
	return s.client.Collection(colLocks).Doc(hex.EncodeToString(sum[:]))
}

// checkID refuses IDs Firestore cannot use as document IDs, so they read as "not found" or
// "invalid" instead of failing inside the client.
func checkID(kind, id string) error {
	if id == "" || len(id) > 512 || strings.Contains(id, "/") || id == "." || id == ".." ||
		(strings.HasPrefix(id, "__") && strings.HasSuffix(id, "__")) || !utf8.ValidString(id) {
		return merge.Errorf(merge.ErrNotFound, "%s %q not found", kind, id)
	}
	return nil
}

// translate maps Firestore (gRPC) failures to domain errors, keeping both in the chain.
// Domain errors, such as those returned by UpdateTask's fn, pass through unchanged.
func translate(err error) error {
	if err == nil {
		return nil
	}
	for _, kind := range []error{merge.ErrNotFound, merge.ErrInvalid, merge.ErrConflict, merge.ErrUnavailable,
		merge.ErrForbidden, merge.ErrUnauthenticated, merge.ErrBusy} {
		if errors.Is(err, kind) {
			return err
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", merge.ErrUnavailable, err)
	}
	switch status.Code(err) {
	case codes.NotFound:
		return fmt.Errorf("%w: %w", merge.ErrNotFound, err)
	case codes.AlreadyExists:
		return fmt.Errorf("%w: %w", merge.ErrConflict, err)
	case codes.InvalidArgument, codes.OutOfRange:
		return fmt.Errorf("%w: %w", merge.ErrInvalid, err)
	case codes.Aborted, codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Canceled:
		// Aborted here means contention outlasted every retry: worth retrying later, and not
		// a conflict in the domain's sense (CreateTask tells those apart itself).
		return fmt.Errorf("%w: %w", merge.ErrUnavailable, err)
	}
	// PermissionDenied, Unauthenticated and FailedPrecondition (a missing index) are faults
	// of the deployment, not of the caller, so they stay internal errors.
	return err
}

// lockDoc lists the active tasks of one table. No transaction ever reads it: it is read
// plainly and written with a precondition on the update time that was read (compare-and-set),
// in the same commit as the tasks it names. Pessimistic transaction locks on one hot document
// deadlock when many readers upgrade to writers at once, which the emulator resolves only
// after seconds; a failed compare-and-set costs one read and one commit.
type lockDoc struct {
	TableKey string   `firestore:"table_key"`
	Holders  []holder `firestore:"holders"`
}

type holder struct {
	TaskID     string   `firestore:"task_id"`
	Partitions []string `firestore:"partitions"`
}

// overlapping returns the holders other than t whose targets overlap t's.
func (l *lockDoc) overlapping(t *merge.Task) ([]holder, error) {
	var out []holder
	for _, h := range l.Holders {
		if h.TaskID == t.ID {
			continue
		}
		parts, err := decodeSpecs(h.Partitions)
		if err != nil {
			return nil, err
		}
		other := &merge.Task{ID: h.TaskID, ClusterID: t.ClusterID, Database: t.Database, Table: t.Table, Partitions: parts}
		if t.Overlaps(other) {
			out = append(out, h)
		}
	}
	return out, nil
}

func (l *lockDoc) remove(ids ...string) {
	l.Holders = slices.DeleteFunc(l.Holders, func(h holder) bool { return slices.Contains(ids, h.TaskID) })
}

func (l *lockDoc) size() int {
	n := len(l.TableKey) + 64
	for _, h := range l.Holders {
		n += len(h.TaskID) + 32
		for _, p := range h.Partitions {
			n += len(p) + 1
		}
	}
	return n
}

// lockVersion is a lock document as read, with what a compare-and-set write needs.
type lockVersion struct {
	ref     *gfs.DocumentRef
	doc     lockDoc
	exists  bool
	updated time.Time
}

func (s *Store) readLock(ctx context.Context, tableKey string) (*lockVersion, error) {
	v := &lockVersion{ref: s.lockRef(tableKey), doc: lockDoc{TableKey: tableKey}}
	snap, err := v.ref.Get(ctx)
	if status.Code(err) == codes.NotFound {
		return v, nil
	}
	if err != nil {
		return nil, err
	}
	if err := snap.DataTo(&v.doc); err != nil {
		return nil, fmt.Errorf("decode lock of %s: %w", tableKey, err)
	}
	v.exists, v.updated = true, snap.UpdateTime
	return v, nil
}

// write adds the compare-and-set write of v to tx: it fails the commit (AlreadyExists,
// FailedPrecondition or NotFound) if anyone wrote the lock since it was read.
func (v *lockVersion) write(tx *gfs.Transaction) error {
	switch {
	case !v.exists && len(v.doc.Holders) == 0:
		return nil
	case !v.exists:
		return tx.Create(v.ref, &v.doc)
	case len(v.doc.Holders) == 0:
		return tx.Delete(v.ref, gfs.LastUpdateTime(v.updated))
	}
	return tx.Update(v.ref, []gfs.Update{{Path: "table_key", Value: v.doc.TableKey}, {Path: "holders", Value: v.doc.Holders}},
		gfs.LastUpdateTime(v.updated))
}

// lostRace reports whether a commit failed because a compare-and-set precondition did not hold
// (or a transaction was aborted), so that reading again and retrying may succeed.
func lostRace(err error) bool {
	switch status.Code(err) {
	case codes.FailedPrecondition, codes.AlreadyExists, codes.NotFound, codes.Aborted:
		return true
	}
	return false
}

// casAttempts bounds compare-and-set retries. Each lost race means another writer succeeded,
// so n writers racing for one document all finish within n attempts; the bound is only a
// guard against a livelock.
const casAttempts = 200

// backoff waits a random time that grows with attempt, so racing writers spread out.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(rand.Int64N(int64(min(100*time.Millisecond, time.Millisecond<<min(attempt, 10))) + 1))
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// activeHolders splits holders into those whose tasks are active and stale ones. A holder
// whose task is gone or finished can only come from a document edited by hand; dropping it
// lets the table heal instead of staying locked forever.
func (s *Store) activeHolders(ctx context.Context, hs []holder) (active, stale []string, err error) {
	refs := make([]*gfs.DocumentRef, len(hs))
	for i, h := range hs {
		refs[i] = s.taskRef(h.TaskID)
	}
	snaps, err := s.client.GetAll(ctx, refs)
	if err != nil {
		return nil, nil, err
	}
	for _, snap := range snaps {
		if !snap.Exists() {
			stale = append(stale, snap.Ref.ID)
			continue
		}
		st, err := snap.DataAt("status")
		if err != nil {
			return nil, nil, fmt.Errorf("read status of %s: %w", snap.Ref.ID, err)
		}
		if s, _ := st.(string); merge.Status(s).Active() {
			active = append(active, snap.Ref.ID)
		} else {
			stale = append(stale, snap.Ref.ID)
		}
	}
	return active, stale, nil
}

// acquire adds t to the lock v, or fails with ErrConflict when an active task overlaps it.
// Only the compare-and-set commit of v makes the result stick.
func (s *Store) acquire(ctx context.Context, v *lockVersion, t *merge.Task) error {
	hs, err := v.doc.overlapping(t)
	if err != nil {
		return err
	}
	if len(hs) > 0 {
		active, stale, err := s.activeHolders(ctx, hs)
		if err != nil {
			return err
		}
		if len(active) > 0 {
			return conflictError(t, active)
		}
		v.doc.remove(stale...)
	}
	v.doc.remove(t.ID)
	v.doc.Holders = append(v.doc.Holders, holder{TaskID: t.ID, Partitions: encodeSpecs(t.Partitions)})
	if v.doc.size() > maxLockDocBytes {
		return merge.Errorf(merge.ErrConflict, "table %s.%s has too many active tasks (%d); wait for some to finish",
			t.Database, t.Table, len(v.doc.Holders)-1)
	}
	return nil
}

func conflictError(t *merge.Task, holders []string) error {
	target := t.Database + "." + t.Table
	if len(t.Partitions) > 0 {
		target += " " + t.Partitions[0].String()
		if len(t.Partitions) > 1 {
			target += fmt.Sprintf(" (and %d more partitions)", len(t.Partitions)-1)
		}
	}
	return merge.Errorf(merge.ErrConflict, "active task %s already targets %s", holders[0], target)
}

// CreateTask stores t. For an active task it reads the table's lock, fails with ErrConflict
// when an active task overlaps t, and otherwise commits the task together with the lock
// updated by compare-and-set. Of two overlapping creates at most one commit succeeds; the
// other reads the lock again and sees the winner. A duplicate ID fails the task's Create.
func (s *Store) CreateTask(ctx context.Context, t *merge.Task) error {
	if t.ID == "" {
		return merge.Errorf(merge.ErrInvalid, "task id is required")
	}
	if err := checkID("task", t.ID); err != nil {
		return merge.Errorf(merge.ErrInvalid, "task id %q cannot be a Firestore document id", t.ID)
	}
	normalize(t)
	doc := toDoc(t)
	ref := s.taskRef(t.ID)
	if t.Status.Active() {
		defer s.keys.lock(colLocks + "/" + t.TableKey())()
	}
	for attempt := 1; ; attempt++ {
		var lock *lockVersion
		if t.Status.Active() {
			var err error
			if lock, err = s.readLock(ctx, t.TableKey()); err != nil {
				return fmt.Errorf("firestore: create task %s: %w", t.ID, translate(err))
			}
			if err := s.acquire(ctx, lock, t); err != nil {
				return fmt.Errorf("firestore: create task %s: %w", t.ID, translate(err))
			}
		}
		err := s.client.RunTransaction(ctx, func(_ context.Context, tx *gfs.Transaction) error {
			if lock != nil {
				if err := lock.write(tx); err != nil {
					return err
				}
			}
			return tx.Create(ref, doc)
		}, gfs.MaxAttempts(1))
		if err == nil {
			return nil
		}
		if status.Code(err) == codes.AlreadyExists {
			if _, gerr := ref.Get(ctx); gerr == nil {
				return merge.Errorf(merge.ErrConflict, "task %s already exists", t.ID)
			}
		}
		if lock == nil || !lostRace(err) {
			return fmt.Errorf("firestore: create task %s: %w", t.ID, translate(err))
		}
		if attempt == casAttempts {
			return fmt.Errorf("firestore: create task %s: the lock of %s.%s stayed contended: %w", t.ID, t.Database, t.Table,
				translate(status.Error(codes.Aborted, err.Error())))
		}
		if err := backoff(ctx, attempt); err != nil {
			return fmt.Errorf("firestore: create task %s: %w", t.ID, translate(err))
		}
	}
}

// GetTask returns the task with the given ID.
func (s *Store) GetTask(ctx context.Context, id string) (*merge.Task, error) {
	if err := checkID("task", id); err != nil {
		return nil, err
	}
	snap, err := s.taskRef(id).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, merge.Errorf(merge.ErrNotFound, "task %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("firestore: get task %s: %w", id, translate(err))
	}
	return decodeTask(snap)
}

func decodeTask(snap *gfs.DocumentSnapshot) (*merge.Task, error) {
	var d taskDoc
	if err := snap.DataTo(&d); err != nil {
		return nil, fmt.Errorf("firestore: decode task %s: %w", snap.Ref.ID, err)
	}
	return d.task(snap.Ref.ID)
}

// UpdateTask reads the task, applies fn and commits the result in a transaction whose writes
// are conditioned on the task (and any lock it moves) not having changed since the read:
// optimistic concurrency, as for the locks. A loser reads again and runs fn again, so fn may
// run more than once, each time on the latest state, and no update is lost.
//
// A transaction that reads the task instead would hold a read lock on it; concurrent claims
// then all try to upgrade their locks and deadlock until Firestore aborts some of them, which
// on the emulator took 40 s for 36 increments by 12 goroutines.
func (s *Store) UpdateTask(ctx context.Context, id string, fn func(*merge.Task) error) (*merge.Task, error) {
	return s.updateTask(ctx, id, 0, fn, nil)
}

// ClaimTask is UpdateTask that, when fn starts the task, takes a slot in its cluster's slot
// document (slots.go) in the same compare-and-set commit, failing with ErrBusy when the
// cluster runs maxRunning tasks already. Claims on one cluster queue up in this process, so
// that their retries are left to races between processes.
func (s *Store) ClaimTask(ctx context.Context, id string, maxRunning int, fn func(*merge.Task) error) (*merge.Task, error) {
	if maxRunning < 1 {
		return nil, merge.Errorf(merge.ErrInvalid, "a claim needs a cap of at least 1 running task, not %d", maxRunning)
	}
	t, err := s.GetTask(ctx, id)
	if err != nil {
		return nil, err
	}
	defer s.keys.lock(colSlots + "/" + t.ClusterID)()
	return s.updateTask(ctx, id, maxRunning, fn, nil)
}

// updateTask applies fn; maxRunning > 0 caps the running tasks of the task's cluster when fn
// starts it. When more is set, it adds writes to the same transaction: more runs on each
// attempt, after fn, and returns the writes (conditioned as it sees fit, so that a lost race
// on them retries the whole update).
func (s *Store) updateTask(ctx context.Context, id string, maxRunning int, fn func(*merge.Task) error, more func(ctx context.Context) (func(*gfs.Transaction) error, error)) (*merge.Task, error) {
	if err := checkID("task", id); err != nil {
		return nil, err
	}
	ref := s.taskRef(id)
	for attempt := 1; ; attempt++ {
		snap, err := ref.Get(ctx)
		if status.Code(err) == codes.NotFound {
			return nil, merge.Errorf(merge.ErrNotFound, "task %q not found", id)
		}
		if err != nil {
			return nil, fmt.Errorf("firestore: update task %s: %w", id, translate(err))
		}
		old, err := decodeTask(snap)
		if err != nil {
			return nil, err
		}
		t, err := decodeTask(snap)
		if err != nil {
			return nil, err
		}
		if err := fn(t); err != nil {
			return nil, err
		}
		if t.ID != id {
			return nil, merge.Errorf(merge.ErrInvalid, "a task's id cannot change (%s -> %s)", id, t.ID)
		}
		normalize(t)
		locks, err := s.moveTarget(ctx, old, t)
		if err != nil {
			return nil, fmt.Errorf("firestore: update task %s: %w", id, translate(err))
		}
		slots, err := s.moveSlot(ctx, old, t, maxRunning)
		if err != nil {
			return nil, fmt.Errorf("firestore: update task %s: %w", id, translate(err))
		}
		var extra func(*gfs.Transaction) error
		if more != nil {
			if extra, err = more(ctx); err != nil {
				return nil, fmt.Errorf("firestore: update task %s: %w", id, translate(err))
			}
		}
		err = s.client.RunTransaction(ctx, func(_ context.Context, tx *gfs.Transaction) error {
			for _, v := range locks {
				if err := v.write(tx); err != nil {
					return err
				}
			}
			for _, v := range slots {
				if err := v.write(tx); err != nil {
					return err
				}
			}
			if extra != nil {
				if err := extra(tx); err != nil {
					return err
				}
			}
			return tx.Update(ref, fieldUpdates(toDoc(t)), gfs.LastUpdateTime(snap.UpdateTime))
		}, gfs.MaxAttempts(1))
		switch {
		case err == nil:
			return t, nil
		case !lostRace(err) || attempt == casAttempts:
			return nil, fmt.Errorf("firestore: update task %s: %w", id, translate(err))
		}
		if err := backoff(ctx, attempt); err != nil {
			return nil, fmt.Errorf("firestore: update task %s: %w", id, translate(err))
		}
	}
}

// fieldUpdates lists every field of a document struct as an update, so that an Update (which,
// unlike Set, takes a precondition) replaces the whole document.
func fieldUpdates(doc any) []gfs.Update {
	v := reflect.ValueOf(doc).Elem()
	ups := make([]gfs.Update, 0, v.NumField())
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("firestore"), ",")
		ups = append(ups, gfs.Update{Path: name, Value: v.Field(i).Interface()})
	}
	return ups
}

// moveTarget keeps the locks in step with an update: a task that leaves an active status
// releases its target, and one that (re)enters an active status or changes its target acquires
// the new one. It returns the locks to write with the task. Heartbeats and progress change none
// of that and touch no lock, so they do not contend with creates on the same table.
func (s *Store) moveTarget(ctx context.Context, old, t *merge.Task) ([]*lockVersion, error) {
	if old.Status.Active() == t.Status.Active() && old.TableKey() == t.TableKey() &&
		slices.Equal(encodeSpecs(old.Partitions), encodeSpecs(t.Partitions)) {
		return nil, nil
	}
	locks := map[string]*lockVersion{}
	var out []*lockVersion
	for _, task := range []*merge.Task{old, t} {
		key := task.TableKey()
		if _, ok := locks[key]; ok || !task.Status.Active() {
			continue
		}
		v, err := s.readLock(ctx, key)
		if err != nil {
			return nil, err
		}
		locks[key] = v
		out = append(out, v)
	}
	if old.Status.Active() {
		locks[old.TableKey()].doc.remove(old.ID)
	}
	if t.Status.Active() {
		if err := s.acquire(ctx, locks[t.TableKey()], t); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// listFilters are the equality filters ListTasks applies, in this order; listOrder is its
// ordering. Indexes derives the composite indexes from the same tables, so they cannot drift.
var listFilters = []struct {
	path  string
	value func(f merge.TaskFilter) string
}{
	{"status", func(f merge.TaskFilter) string { return string(f.Status) }},
	{"cluster_id", func(f merge.TaskFilter) string { return f.ClusterID }},
	{"database_name", func(f merge.TaskFilter) string { return f.Database }},
	{"table_name", func(f merge.TaskFilter) string { return f.Table }},
}

// listOrder is newest first; ties are broken by document ID (the task ID) in the same
// direction, which Firestore appends to every index implicitly.
var listOrder = []IndexField{{Path: "created_at", Descending: true}}

// queryShape is what a query needs from indexes: the fields it filters by equality and the
// fields it orders by.
type queryShape struct {
	Collection string
	Equalities []string
	Orders     []IndexField
}

func listShape(f merge.TaskFilter) queryShape {
	shape := queryShape{Collection: colTasks, Orders: listOrder}
	for _, lf := range listFilters {
		if lf.value(f) != "" {
			shape.Equalities = append(shape.Equalities, lf.path)
		}
	}
	return shape
}

// Page tokens are opaque to callers: a version byte, the last task's created_at in
// microseconds and its ID, in unpadded URL-safe base64.
const pageTokenVersion = 1

func encodePageToken(t *merge.Task) string {
	b := []byte{pageTokenVersion}
	b = binary.BigEndian.AppendUint64(b, uint64(t.CreatedAt.UnixMicro()))
	b = append(b, t.ID...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageToken(token string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) < 10 || b[0] != pageTokenVersion {
		return time.Time{}, "", merge.Errorf(merge.ErrInvalid, "page_token is not valid")
	}
	id := string(b[9:])
	if checkID("task", id) != nil {
		return time.Time{}, "", merge.Errorf(merge.ErrInvalid, "page_token is not valid")
	}
	return time.UnixMicro(int64(binary.BigEndian.Uint64(b[1:9]))).UTC(), id, nil
}

// ListTasks runs one query: the filters as equalities, ordered by created_at and document ID,
// both descending, continuing after the page token's task. It asks for one task more than the
// limit to know whether another page exists.
func (s *Store) ListTasks(ctx context.Context, f merge.TaskFilter) (merge.TaskPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = merge.DefaultListLimit
	}
	f.Database, f.Table = merge.FoldName(f.Database), merge.FoldName(f.Table)
	q := s.client.Collection(colTasks).Query
	for _, lf := range listFilters {
		if v := lf.value(f); v != "" {
			q = q.Where(lf.path, "==", v)
		}
	}
	for _, o := range listOrder {
		q = q.OrderBy(o.Path, direction(o.Descending))
	}
	q = q.OrderBy(gfs.DocumentID, direction(listOrder[len(listOrder)-1].Descending))
	if f.PageToken != "" {
		created, id, err := decodePageToken(f.PageToken)
		if err != nil {
			return merge.TaskPage{}, err
		}
		q = q.StartAfter(created, id)
	}
	snaps, err := q.Limit(limit + 1).Documents(ctx).GetAll()
	if err != nil {
		return merge.TaskPage{}, fmt.Errorf("firestore: list tasks: %w", translate(err))
	}
	var page merge.TaskPage
	for i, snap := range snaps {
		if i == limit {
			page.NextPageToken = encodePageToken(page.Tasks[limit-1])
			break
		}
		t, err := decodeTask(snap)
		if err != nil {
			return merge.TaskPage{}, err
		}
		page.Tasks = append(page.Tasks, t)
	}
	return page, nil
}

func direction(desc bool) gfs.Direction {
	if desc {
		return gfs.Desc
	}
	return gfs.Asc
}

// AppendLogs writes entries as documents of the task's logs subcollection. Seq values come from
// a counter document incremented in the same transaction as the entries are created, so
// concurrent appenders never share a Seq; large appends are split into several commits.
func (s *Store) AppendLogs(ctx context.Context, id string, entries ...merge.LogEntry) error {
	if err := checkID("task", id); err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	// Tasks are never deleted, so checking existence outside the transaction is enough, and
	// keeps the task document out of the transaction (heartbeats need not wait for logs).
	if _, err := s.taskRef(id).Get(ctx); status.Code(err) == codes.NotFound {
		return merge.Errorf(merge.ErrNotFound, "task %q not found", id)
	} else if err != nil {
		return fmt.Errorf("firestore: append logs to %s: %w", id, translate(err))
	}
	for _, batch := range logBatches(entries) {
		if err := s.appendBatch(ctx, id, batch); err != nil {
			return fmt.Errorf("firestore: append logs to %s: %w", id, translate(err))
		}
	}
	return nil
}

// logBatches turns entries into documents, split into batches that each fit one commit.
func logBatches(entries []merge.LogEntry) [][]*logDoc {
	docs := make([]*logDoc, len(entries))
	for i, e := range entries {
		docs[i] = &logDoc{
			Time: roundTime(e.Time), Level: string(e.Level), Step: truncate(e.Step, 1024),
			Message: truncate(e.Message, maxLogField), SQL: truncate(e.SQL, maxLogField), DurationMS: e.DurationMS,
		}
	}
	var out [][]*logDoc
	for len(docs) > 0 {
		n, size := 0, 0
		for n < len(docs) && n < logBatchEntries {
			size += len(docs[n].Message) + len(docs[n].SQL) + len(docs[n].Step) + 128
			if n > 0 && size > logBatchBytes {
				break
			}
			n++
		}
		out = append(out, docs[:n])
		docs = docs[n:]
	}
	return out
}

// appendBatch numbers docs after the task's log counter and commits them with the counter,
// updated by compare-and-set: concurrent appenders never share a Seq, and a loser reads the
// counter again.
func (s *Store) appendBatch(ctx context.Context, id string, docs []*logDoc) error {
	defer s.keys.lock(colLogCounters + "/" + id)()
	for attempt := 1; ; attempt++ {
		write, err := s.logWrites(ctx, id, docs)
		if err != nil {
			return err
		}
		err = s.client.RunTransaction(ctx, func(_ context.Context, tx *gfs.Transaction) error {
			return write(tx)
		}, gfs.MaxAttempts(1))
		if err == nil || !lostRace(err) || attempt == casAttempts {
			return err
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// logWrites reads the task's log counter and returns the writes that create docs after it and
// move the counter on, conditioned on the counter not having changed since the read. The caller
// holds the counter's key lock.
func (s *Store) logWrites(ctx context.Context, id string, docs []*logDoc) (func(*gfs.Transaction) error, error) {
	counter := s.client.Collection(colLogCounters).Doc(id)
	logs := s.taskRef(id).Collection(colLogs)
	var (
		last    int64
		updated time.Time
	)
	snap, err := counter.Get(ctx)
	switch {
	case status.Code(err) == codes.NotFound:
	case err != nil:
		return nil, err
	default:
		v, err := snap.DataAt("last_seq")
		if err != nil {
			return nil, err
		}
		last, _ = v.(int64)
		updated = snap.UpdateTime
	}
	return func(tx *gfs.Transaction) error {
		for i, d := range docs {
			d.Seq = last + int64(i) + 1
			if err := tx.Create(logs.Doc(seqID(d.Seq)), d); err != nil {
				return err
			}
		}
		next := last + int64(len(docs))
		if updated.IsZero() {
			return tx.Create(counter, map[string]any{"last_seq": next})
		}
		return tx.Update(counter, []gfs.Update{{Path: "last_seq", Value: next}}, gfs.LastUpdateTime(updated))
	}, nil
}

// seqID is a log entry's document ID: zero-padded so that IDs sort like Seq values.
func seqID(seq int64) string { return fmt.Sprintf("%020d", seq) }

// truncate cuts s to at most n bytes on a rune boundary and says so.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len(truncatedMessage)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + truncatedMessage
}

// Logs returns up to limit entries with Seq above afterSeq, from a query on the seq field
// (a single-field index).
func (s *Store) Logs(ctx context.Context, id string, afterSeq int64, limit int) ([]merge.LogEntry, error) {
	if err := checkID("task", id); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = merge.DefaultLogsLimit
	}
	snaps, err := s.taskRef(id).Collection(colLogs).Where("seq", ">", afterSeq).OrderBy("seq", gfs.Asc).
		Limit(limit).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("firestore: read logs of %s: %w", id, translate(err))
	}
	if len(snaps) == 0 {
		// An empty answer may mean there is no such task.
		if _, err := s.GetTask(ctx, id); err != nil {
			return nil, err
		}
	}
	out := make([]merge.LogEntry, 0, len(snaps))
	for _, snap := range snaps {
		var d logDoc
		if err := snap.DataTo(&d); err != nil {
			return nil, fmt.Errorf("firestore: decode log entry %s of %s: %w", snap.Ref.ID, id, err)
		}
		out = append(out, d.entry())
	}
	return out, nil
}

// statsCountField and statsSumFields name what TaskStats aggregates: a count per status (an
// equality filter on status) and sums of the derived saved fields over all tasks. Each runs
// as its own aggregation query, so each needs only Firestore's automatic single-field indexes.
const statsCountField = "status"

var statsSumFields = []string{"files_saved", "bytes_saved"}

// TaskStats runs the aggregation queries concurrently. They are not one snapshot: a task that
// changes status meanwhile may be counted in neither or both of its statuses, which a
// dashboard tolerates.
func (s *Store) TaskStats(ctx context.Context) (merge.TaskStats, error) {
	tasks := s.client.Collection(colTasks)
	type result struct {
		n   int64
		err error
	}
	counts := make([]result, len(merge.Statuses))
	sums := make([]result, len(statsSumFields))
	var wg sync.WaitGroup
	for i, st := range merge.Statuses {
		wg.Go(func() {
			q := tasks.Where(statsCountField, "==", string(st))
			counts[i].n, counts[i].err = aggregate(ctx, q.NewAggregationQuery().WithCount("n"))
		})
	}
	for i, field := range statsSumFields {
		wg.Go(func() {
			sums[i].n, sums[i].err = aggregate(ctx, tasks.Query.NewAggregationQuery().WithSum(field, "n"))
		})
	}
	wg.Wait()
	st := merge.TaskStats{ByStatus: make(map[merge.Status]int64, len(merge.Statuses))}
	for i, status := range merge.Statuses {
		if counts[i].err != nil {
			return merge.TaskStats{}, fmt.Errorf("firestore: count %s tasks: %w", status, translate(counts[i].err))
		}
		st.ByStatus[status] = counts[i].n
		st.Total += counts[i].n
	}
	for i, field := range statsSumFields {
		if sums[i].err != nil {
			return merge.TaskStats{}, fmt.Errorf("firestore: sum %s: %w", field, translate(sums[i].err))
		}
	}
	st.FilesSaved, st.BytesSaved = sums[0].n, sums[1].n
	return st, nil
}

func aggregate(ctx context.Context, q *gfs.AggregationQuery) (int64, error) {
	res, err := q.Get(ctx)
	if err != nil {
		return 0, err
	}
	var out struct {
		N any `firestore:"n"`
	}
	if err := res.DataTo(&out); err != nil {
		return 0, err
	}
	// A sum of integers is an integer unless it overflowed into a double.
	switch n := out.N.(type) {
	case int64:
		return n, nil
	case float64:
		return int64(n), nil
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("unexpected aggregation result %T", out.N)
}

// CreateCluster stores a new cluster.
func (s *Store) CreateCluster(ctx context.Context, c *merge.Cluster) error {
	if c.ID == "" {
		return merge.Errorf(merge.ErrInvalid, "cluster id is required")
	}
	if err := checkID("cluster", c.ID); err != nil {
		return merge.Errorf(merge.ErrInvalid, "cluster id %q cannot be a Firestore document id", c.ID)
	}
	_, err := s.client.Collection(colClusters).Doc(c.ID).Create(ctx, toClusterDoc(c))
	if status.Code(err) == codes.AlreadyExists {
		return merge.Errorf(merge.ErrConflict, "cluster %s already exists", c.ID)
	}
	if err != nil {
		return fmt.Errorf("firestore: create cluster %s: %w", c.ID, translate(err))
	}
	return nil
}

// GetCluster returns one cluster.
func (s *Store) GetCluster(ctx context.Context, id string) (*merge.Cluster, error) {
	if err := checkID("cluster", id); err != nil {
		return nil, err
	}
	snap, err := s.client.Collection(colClusters).Doc(id).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, merge.Errorf(merge.ErrNotFound, "cluster %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("firestore: get cluster %s: %w", id, translate(err))
	}
	var d clusterDoc
	if err := snap.DataTo(&d); err != nil {
		return nil, fmt.Errorf("firestore: decode cluster %s: %w", id, err)
	}
	return d.cluster(id), nil
}

// ListClusters returns every cluster ordered by ID.
func (s *Store) ListClusters(ctx context.Context) ([]*merge.Cluster, error) {
	snaps, err := s.client.Collection(colClusters).OrderBy(gfs.DocumentID, gfs.Asc).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("firestore: list clusters: %w", translate(err))
	}
	out := make([]*merge.Cluster, 0, len(snaps))
	for _, snap := range snaps {
		var d clusterDoc
		if err := snap.DataTo(&d); err != nil {
			return nil, fmt.Errorf("firestore: decode cluster %s: %w", snap.Ref.ID, err)
		}
		out = append(out, d.cluster(snap.Ref.ID))
	}
	return out, nil
}

// UpdateCluster replaces an existing cluster. Update, unlike Set, requires the document to
// exist, so a missing cluster is ErrNotFound and a concurrent delete is not undone.
func (s *Store) UpdateCluster(ctx context.Context, c *merge.Cluster) error {
	if err := checkID("cluster", c.ID); err != nil {
		return err
	}
	_, err := s.client.Collection(colClusters).Doc(c.ID).Update(ctx, fieldUpdates(toClusterDoc(c)))
	if status.Code(err) == codes.NotFound {
		return merge.Errorf(merge.ErrNotFound, "cluster %q not found", c.ID)
	}
	if err != nil {
		return fmt.Errorf("firestore: update cluster %s: %w", c.ID, translate(err))
	}
	return nil
}

// DeleteCluster removes a cluster; the Exists precondition makes a missing one ErrNotFound.
func (s *Store) DeleteCluster(ctx context.Context, id string) error {
	if err := checkID("cluster", id); err != nil {
		return err
	}
	_, err := s.client.Collection(colClusters).Doc(id).Delete(ctx, gfs.Exists)
	if status.Code(err) == codes.NotFound {
		return merge.Errorf(merge.ErrNotFound, "cluster %q not found", id)
	}
	if err != nil {
		return fmt.Errorf("firestore: delete cluster %s: %w", id, translate(err))
	}
	return nil
}
