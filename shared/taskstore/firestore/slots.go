package firestore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	gfs "cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// colSlots holds one document per cluster listing its running tasks: slots/{sha256(cluster)}.
// Like a lock document it is never read inside a transaction: it is read plainly and written
// by compare-and-set in the commit that moves a task into or out of running, so that the
// cluster's cap holds across processes.
const colSlots = "slots"

type slotDoc struct {
	ClusterID string   `firestore:"cluster_id"`
	Running   []string `firestore:"running"`
}

// slotVersion is a slot document as read, with what a compare-and-set write needs.
type slotVersion struct {
	ref     *gfs.DocumentRef
	doc     slotDoc
	exists  bool
	updated time.Time
}

func (s *Store) slotRef(cluster string) *gfs.DocumentRef {
	sum := sha256.Sum256([]byte(cluster))
	return s.client.Collection(colSlots).Doc(hex.EncodeToString(sum[:]))
}

// readSlots reads the cluster's slot document. A cluster without one (none of its tasks has
// started since the store began keeping slots) starts from a query of its running tasks, so
// that tasks started earlier keep their slots; creating the document is conditioned on its
// absence, so two processes that both seed it cannot both succeed.
func (s *Store) readSlots(ctx context.Context, cluster string) (*slotVersion, error) {
	v := &slotVersion{ref: s.slotRef(cluster), doc: slotDoc{ClusterID: cluster, Running: []string{}}}
	snap, err := v.ref.Get(ctx)
	switch {
	case status.Code(err) == codes.NotFound:
		// An equality filter on one field needs only the automatic index; running tasks are
		// few, so the cluster is checked here.
		snaps, err := s.client.Collection(colTasks).Where("status", "==", string(merge.StatusRunning)).Documents(ctx).GetAll()
		if err != nil {
			return nil, err
		}
		for _, snap := range snaps {
			if c, err := snap.DataAt("cluster_id"); err == nil && c == cluster {
				v.doc.Running = append(v.doc.Running, snap.Ref.ID)
			}
		}
		return v, nil
	case err != nil:
		return nil, err
	}
	if err := snap.DataTo(&v.doc); err != nil {
		return nil, fmt.Errorf("decode running tasks of cluster %s: %w", cluster, err)
	}
	v.exists, v.updated = true, snap.UpdateTime
	return v, nil
}

// write adds the compare-and-set write of v to tx. An emptied document stays, so the next
// claim need not query for running tasks again.
func (v *slotVersion) write(tx *gfs.Transaction) error {
	if !v.exists {
		return tx.Create(v.ref, &v.doc)
	}
	return tx.Update(v.ref, []gfs.Update{{Path: "cluster_id", Value: v.doc.ClusterID}, {Path: "running", Value: v.doc.Running}},
		gfs.LastUpdateTime(v.updated))
}

// moveSlot keeps the slot documents in step with an update: a task that leaves running frees
// its slot, and one that starts running takes one, which with maxRunning > 0 fails with
// ErrBusy when the cluster runs maxRunning tasks already. It returns the documents to write
// with the task; updates that neither start nor end a run touch none.
func (s *Store) moveSlot(ctx context.Context, old, t *merge.Task, maxRunning int) ([]*slotVersion, error) {
	was, is := old.Status == merge.StatusRunning, t.Status == merge.StatusRunning
	if was == is && (!is || old.ClusterID == t.ClusterID) {
		return nil, nil
	}
	var out []*slotVersion
	if was {
		v, err := s.readSlots(ctx, old.ClusterID)
		if err != nil {
			return nil, err
		}
		v.doc.Running = slices.DeleteFunc(v.doc.Running, func(id string) bool { return id == old.ID })
		out = append(out, v)
	}
	if is {
		var v *slotVersion
		if was && old.ClusterID == t.ClusterID {
			v = out[0]
		} else {
			var err error
			if v, err = s.readSlots(ctx, t.ClusterID); err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		v.doc.Running = slices.DeleteFunc(v.doc.Running, func(id string) bool { return id == t.ID })
		if maxRunning > 0 && len(v.doc.Running) >= maxRunning {
			if err := s.dropFinished(ctx, v); err != nil {
				return nil, err
			}
			if n := len(v.doc.Running); n >= maxRunning {
				return nil, merge.Errorf(merge.ErrBusy, "cluster %s already runs %d of its %d tasks; the task stays pending until one ends",
					t.ClusterID, n, maxRunning)
			}
		}
		v.doc.Running = append(v.doc.Running, t.ID)
	}
	return out, nil
}

// dropFinished removes from v the tasks that no longer run. Every commit that ends a run frees
// its slot, so only a document edited by hand (or a task deleted by hand) leaves one behind;
// dropping it lets the cluster heal instead of staying full forever.
func (s *Store) dropFinished(ctx context.Context, v *slotVersion) error {
	refs := make([]*gfs.DocumentRef, len(v.doc.Running))
	for i, id := range v.doc.Running {
		refs[i] = s.taskRef(id)
	}
	snaps, err := s.client.GetAll(ctx, refs)
	if err != nil {
		return err
	}
	var running []string
	for _, snap := range snaps {
		if !snap.Exists() {
			continue
		}
		if st, err := snap.DataAt("status"); err == nil && st == string(merge.StatusRunning) {
			running = append(running, snap.Ref.ID)
		}
	}
	v.doc.Running = running
	return nil
}
