package firestore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	gfs "cloud.google.com/go/firestore"

	"github.com/hivemerge/hivemerge/shared/merge"
)

var _ merge.BatchStore = (*Store)(nil)

const (
	// batchTasks bounds the tasks of one commit: each may add its table's lock, and a commit
	// takes at most 500 writes.
	batchTasks = 240
	// batchCommits is how many commits of one batch are in flight at once. Their tables are
	// disjoint, so they never race each other for a lock.
	batchCommits = 8
	// batchAttempts is how many times a commit that lost a compare-and-set race is tried
	// again as a whole before its tasks are created one by one.
	batchAttempts = 3
)

// CreateTasks stores tasks in commits of up to batchTasks, each committing the tasks together
// with their tables' locks updated by compare-and-set, as CreateTask does for one: the tasks
// of a table are kept in one commit, so a batch's own duplicates are found before writing,
// and a commit that lost a race with another writer reads the locks again. A commit that
// keeps losing falls back to CreateTask for each of its tasks.
func (s *Store) CreateTasks(ctx context.Context, ts []*merge.Task) []error {
	errs := make([]error, len(ts))
	// Group by table, in order of first appearance, so that a table's first task wins.
	var keys []string
	groups := map[string][]int{}
	for i, t := range ts {
		if t.ID == "" {
			errs[i] = merge.Errorf(merge.ErrInvalid, "task id is required")
			continue
		}
		if err := checkID("task", t.ID); err != nil {
			errs[i] = merge.Errorf(merge.ErrInvalid, "task id %q cannot be a Firestore document id", t.ID)
			continue
		}
		normalize(t)
		k := t.TableKey()
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], i)
	}
	var chunks [][]int
	var cur []int
	for _, k := range keys {
		if len(cur) > 0 && len(cur)+len(groups[k]) > batchTasks {
			chunks = append(chunks, cur)
			cur = nil
		}
		cur = append(cur, groups[k]...)
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	sem := make(chan struct{}, batchCommits)
	var wg sync.WaitGroup
	for _, idx := range chunks {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			chunk := make([]*merge.Task, len(idx))
			for j, i := range idx {
				chunk[j] = ts[i]
			}
			for j, err := range s.createChunk(ctx, chunk) {
				errs[idx[j]] = err
			}
		}()
	}
	wg.Wait()
	return errs
}

// createChunk stores ts in one commit, retried as a whole a few times. When another writer
// kept changing these tables' locks, CreateTask takes over task by task, after the local key
// locks are released, since it takes them again.
func (s *Store) createChunk(ctx context.Context, ts []*merge.Task) []error {
	errs, contended := s.commitChunk(ctx, ts)
	if !contended {
		return errs
	}
	for i, t := range ts {
		errs[i] = s.CreateTask(ctx, t)
	}
	return errs
}

// commitChunk holds the local locks of ts's tables while it tries to commit them.
func (s *Store) commitChunk(ctx context.Context, ts []*merge.Task) (errs []error, contended bool) {
	var keys []string
	for _, t := range ts {
		if t.Status.Active() && !slices.Contains(keys, t.TableKey()) {
			keys = append(keys, t.TableKey())
		}
	}
	// Sorted, so that batches locking several keys never wait for each other in a cycle.
	slices.Sort(keys)
	for _, k := range keys {
		defer s.keys.lock(colLocks + "/" + k)()
	}
	for attempt := 1; ; attempt++ {
		errs, err := s.tryChunk(ctx, ts, keys)
		switch {
		case err == nil:
			return errs, false
		case lostRace(err) && attempt == batchAttempts:
			return errs, true
		case !lostRace(err):
			return repeat(len(ts), fmt.Errorf("firestore: create %d tasks: %w", len(ts), translate(err))), false
		}
		if err := backoff(ctx, attempt); err != nil {
			return repeat(len(ts), fmt.Errorf("firestore: create %d tasks: %w", len(ts), translate(err))), false
		}
	}
}

func repeat(n int, err error) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// tryChunk reads the locks of keys and the task documents, decides each task against them and
// commits what it accepted. It returns the per-task outcome and the commit's error.
func (s *Store) tryChunk(ctx context.Context, ts []*merge.Task, keys []string) ([]error, error) {
	errs := make([]error, len(ts))
	refs := make([]*gfs.DocumentRef, 0, len(keys)+len(ts))
	for _, k := range keys {
		refs = append(refs, s.lockRef(k))
	}
	for _, t := range ts {
		refs = append(refs, s.taskRef(t.ID))
	}
	snaps, err := s.client.GetAll(ctx, refs)
	if err != nil {
		return errs, err
	}
	locks := map[string]*lockVersion{}
	for i, k := range keys {
		v := &lockVersion{ref: refs[i], doc: lockDoc{TableKey: k}}
		if snap := snaps[i]; snap.Exists() {
			if err := snap.DataTo(&v.doc); err != nil {
				return errs, fmt.Errorf("decode lock of %s: %w", k, err)
			}
			v.exists, v.updated = true, snap.UpdateTime
		}
		locks[k] = v
	}
	mine := map[string]bool{} // tasks of this commit, which no read can see yet
	var accepted []*merge.Task
	for i, t := range ts {
		if snaps[len(keys)+i].Exists() || mine[t.ID] {
			errs[i] = merge.Errorf(merge.ErrConflict, "task %s already exists", t.ID)
			continue
		}
		if t.Status.Active() {
			v := locks[t.TableKey()]
			hs, err := v.doc.overlapping(t)
			if err != nil {
				return errs, err
			}
			var ours []string
			for _, h := range hs {
				if mine[h.TaskID] {
					ours = append(ours, h.TaskID)
				}
			}
			if len(ours) > 0 {
				errs[i] = conflictError(t, ours)
				continue
			}
			if err := s.acquire(ctx, v, t); err != nil {
				if errs[i] = translate(err); errors.Is(errs[i], merge.ErrConflict) {
					continue
				}
				return errs, err
			}
		}
		mine[t.ID] = true
		accepted = append(accepted, t)
	}
	if len(accepted) == 0 {
		return errs, nil
	}
	err = s.client.RunTransaction(ctx, func(_ context.Context, tx *gfs.Transaction) error {
		for _, k := range keys {
			if err := locks[k].write(tx); err != nil {
				return err
			}
		}
		for _, t := range accepted {
			if err := tx.Create(s.taskRef(t.ID), toDoc(t)); err != nil {
				return err
			}
		}
		return nil
	}, gfs.MaxAttempts(1))
	return errs, err
}
