package firestore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	gfs "cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// colMeta holds one document per migration that has run, named after it.
const (
	colMeta         = "meta"
	metaNamesFolded = "names_folded"
)

// FoldNames migrates a database written by versions that stored database and table names as
// the caller spelt them (merge.FoldName): it folds the names in every task document, then moves
// the holders of every lock document keyed by a mixed-case table into the folded table's lock,
// so that old active tasks conflict with new lower-case ones and listing filters find old
// tasks. Two active holders that now share a lock keep it together. A meta document records
// that it ran, so later calls cost one read. Open calls it.
//
// It is safe to run from several instances at once: every write is a compare-and-set that
// re-reads on a lost race. Instances of an older version still running while it runs can
// write new mixed-case documents; finish a rollout before relying on it.
func (s *Store) FoldNames(ctx context.Context) error {
	marker := s.client.Collection(colMeta).Doc(metaNamesFolded)
	if _, err := marker.Get(ctx); err == nil {
		return nil
	} else if status.Code(err) != codes.NotFound {
		return fmt.Errorf("firestore: fold names: %w", translate(err))
	}
	if err := s.foldTaskNames(ctx); err != nil {
		return fmt.Errorf("firestore: fold names of tasks: %w", translate(err))
	}
	if err := s.foldLocks(ctx); err != nil {
		return fmt.Errorf("firestore: fold lock keys: %w", translate(err))
	}
	_, err := marker.Set(ctx, map[string]any{"at": time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("firestore: fold names: %w", translate(err))
	}
	return nil
}

func (s *Store) foldTaskNames(ctx context.Context) error {
	it := s.client.Collection(colTasks).Select("database_name", "table_name").Documents(ctx)
	defer it.Stop()
	for {
		snap, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.foldTask(ctx, snap.Ref); err != nil {
			return err
		}
	}
}

// foldTask folds one task's names unless they already are.
func (s *Store) foldTask(ctx context.Context, ref *gfs.DocumentRef) error {
	for attempt := 1; ; attempt++ {
		snap, err := ref.Get(ctx)
		if err != nil {
			return err
		}
		var d taskDoc
		if err := snap.DataTo(&d); err != nil {
			return fmt.Errorf("decode task %s: %w", ref.ID, err)
		}
		db, table := merge.FoldName(d.Database), merge.FoldName(d.Table)
		if db == d.Database && table == d.Table {
			return nil
		}
		_, err = ref.Update(ctx, []gfs.Update{{Path: "database_name", Value: db}, {Path: "table_name", Value: table}},
			gfs.LastUpdateTime(snap.UpdateTime))
		if err == nil || !lostRace(err) || attempt == casAttempts {
			return err
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

func (s *Store) foldLocks(ctx context.Context) error {
	snaps, err := s.client.Collection(colLocks).Documents(ctx).GetAll()
	if err != nil {
		return err
	}
	for _, snap := range snaps {
		var d lockDoc
		if err := snap.DataTo(&d); err != nil {
			return fmt.Errorf("decode lock %s: %w", snap.Ref.ID, err)
		}
		// Cluster IDs are lower case already, so folding the whole key folds its names.
		if d.TableKey == merge.FoldName(d.TableKey) {
			continue
		}
		if err := s.foldLock(ctx, snap.Ref, merge.FoldName(d.TableKey)); err != nil {
			return err
		}
	}
	return nil
}

// foldLock moves the holders of the legacy lock at ref into the lock of key and deletes it, in
// one commit conditioned on both documents being as read.
func (s *Store) foldLock(ctx context.Context, ref *gfs.DocumentRef, key string) error {
	defer s.keys.lock(colLocks + "/" + key)()
	for attempt := 1; ; attempt++ {
		snap, err := ref.Get(ctx)
		if status.Code(err) == codes.NotFound {
			return nil
		}
		if err != nil {
			return err
		}
		var legacy lockDoc
		if err := snap.DataTo(&legacy); err != nil {
			return fmt.Errorf("decode lock %s: %w", ref.ID, err)
		}
		v, err := s.readLock(ctx, key)
		if err != nil {
			return err
		}
		for _, h := range legacy.Holders {
			if !slices.ContainsFunc(v.doc.Holders, func(o holder) bool { return o.TaskID == h.TaskID }) {
				v.doc.Holders = append(v.doc.Holders, h)
			}
		}
		err = s.client.RunTransaction(ctx, func(_ context.Context, tx *gfs.Transaction) error {
			if err := v.write(tx); err != nil {
				return err
			}
			return tx.Delete(ref, gfs.LastUpdateTime(snap.UpdateTime))
		}, gfs.MaxAttempts(1))
		if err == nil || !lostRace(err) || attempt == casAttempts {
			return err
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}
