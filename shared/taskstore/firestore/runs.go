package firestore

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"

	gfs "cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// colRuns holds one document per scheduler job run; the document ID is the run ID, so
// DocumentRef.Create claims a slot once across every scheduler.
const colRuns = "scheduler_runs"

var _ merge.RunStore = (*Store)(nil)

// runOrder is ListRuns' ordering (newest slot first, ties by document ID); runJobField is its
// one equality filter. runIndexes derives the composite index from them.
var (
	runOrder    = []IndexField{{Path: "slot", Descending: true}}
	runJobField = "job"
)

// runListShape is the shape of the query ListRuns builds for f.
func runListShape(f merge.RunFilter) queryShape {
	shape := queryShape{Collection: colRuns, Orders: runOrder}
	if f.Job != "" {
		shape.Equalities = []string{runJobField}
	}
	return shape
}

// runIndexes are the composite indexes ListRuns needs: the job filter followed by the order.
// The unfiltered listing and DeleteRunsBefore use one field each.
func runIndexes() []Index {
	return []Index{{Collection: colRuns, Fields: append([]IndexField{{Path: runJobField}}, runOrder...)}}
}

type runDoc struct {
	Job        string           `firestore:"job"`
	Slot       time.Time        `firestore:"slot"`
	Status     string           `firestore:"status"`
	StartedAt  time.Time        `firestore:"started_at"`
	FinishedAt *time.Time       `firestore:"finished_at"`
	DurationMS int64            `firestore:"duration_ms"`
	Owner      string           `firestore:"owner"`
	Counts     map[string]int64 `firestore:"counts"`
	Summary    string           `firestore:"summary"`
	Errors     []string         `firestore:"errors"`
}

func toRunDoc(r *merge.Run) *runDoc {
	r.Slot, r.StartedAt, r.FinishedAt = roundTime(r.Slot), roundTime(r.StartedAt), roundTime(r.FinishedAt)
	return &runDoc{
		Job: r.Job, Slot: r.Slot, Status: string(r.Status), StartedAt: r.StartedAt, FinishedAt: optTime(r.FinishedAt),
		DurationMS: r.DurationMS, Owner: r.Owner, Counts: r.Counts, Summary: r.Summary, Errors: r.Errors,
	}
}

func (d *runDoc) run(id string) *merge.Run {
	return &merge.Run{
		ID: id, Job: d.Job, Slot: d.Slot.UTC(), Status: merge.RunStatus(d.Status), StartedAt: d.StartedAt.UTC(),
		FinishedAt: fromOpt(d.FinishedAt), DurationMS: d.DurationMS, Owner: d.Owner, Counts: d.Counts,
		Summary: d.Summary, Errors: d.Errors,
	}
}

// CreateRun stores a new run record with Create: AlreadyExists, whichever client or process
// created it first, is the conflict that tells a scheduler its slot is taken.
func (s *Store) CreateRun(ctx context.Context, r *merge.Run) error {
	if r.ID == "" {
		return merge.Errorf(merge.ErrInvalid, "run id is required")
	}
	if err := checkID("run", r.ID); err != nil {
		return merge.Errorf(merge.ErrInvalid, "run id %q cannot be a Firestore document id", r.ID)
	}
	_, err := s.client.Collection(colRuns).Doc(r.ID).Create(ctx, toRunDoc(r))
	if status.Code(err) == codes.AlreadyExists {
		return merge.Errorf(merge.ErrConflict, "run %s already exists", r.ID)
	}
	if err != nil {
		return fmt.Errorf("firestore: create run %s: %w", r.ID, translate(err))
	}
	return nil
}

// UpdateRun replaces a run record, keeping its job and slot.
func (s *Store) UpdateRun(ctx context.Context, r *merge.Run) error {
	old, err := s.GetRun(ctx, r.ID)
	if err != nil {
		return err
	}
	r.Job, r.Slot = old.Job, old.Slot
	_, err = s.client.Collection(colRuns).Doc(r.ID).Update(ctx, fieldUpdates(toRunDoc(r)))
	if status.Code(err) == codes.NotFound {
		return merge.Errorf(merge.ErrNotFound, "run %q not found", r.ID)
	}
	if err != nil {
		return fmt.Errorf("firestore: update run %s: %w", r.ID, translate(err))
	}
	return nil
}

// GetRun returns one run record.
func (s *Store) GetRun(ctx context.Context, id string) (*merge.Run, error) {
	if err := checkID("run", id); err != nil {
		return nil, err
	}
	snap, err := s.client.Collection(colRuns).Doc(id).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, merge.Errorf(merge.ErrNotFound, "run %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("firestore: get run %s: %w", id, translate(err))
	}
	return decodeRun(snap)
}

func decodeRun(snap *gfs.DocumentSnapshot) (*merge.Run, error) {
	var d runDoc
	if err := snap.DataTo(&d); err != nil {
		return nil, fmt.Errorf("firestore: decode run %s: %w", snap.Ref.ID, err)
	}
	return d.run(snap.Ref.ID), nil
}

// ListRuns runs one query: the job as an equality, ordered by slot and document ID, both
// descending, after the page token's run, asking for one more than the limit.
func (s *Store) ListRuns(ctx context.Context, f merge.RunFilter) (merge.RunPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = merge.DefaultListLimit
	}
	q := s.client.Collection(colRuns).Query
	if f.Job != "" {
		q = q.Where(runJobField, "==", f.Job)
	}
	for _, o := range runOrder {
		q = q.OrderBy(o.Path, direction(o.Descending))
	}
	q = q.OrderBy(gfs.DocumentID, direction(runOrder[len(runOrder)-1].Descending))
	if f.PageToken != "" {
		slot, id, err := decodeRunPageToken(f.PageToken)
		if err != nil {
			return merge.RunPage{}, err
		}
		q = q.StartAfter(slot, id)
	}
	snaps, err := q.Limit(limit + 1).Documents(ctx).GetAll()
	if err != nil {
		return merge.RunPage{}, fmt.Errorf("firestore: list runs: %w", translate(err))
	}
	page := merge.RunPage{Runs: []*merge.Run{}}
	for i, snap := range snaps {
		if i == limit {
			last := page.Runs[limit-1]
			page.NextPageToken = encodeRunPageToken(last.Slot, last.ID)
			break
		}
		r, err := decodeRun(snap)
		if err != nil {
			return merge.RunPage{}, err
		}
		page.Runs = append(page.Runs, r)
	}
	return page, nil
}

// Run page tokens have the form of task page tokens: a version byte, the slot in
// microseconds and the run ID.
func encodeRunPageToken(slot time.Time, id string) string {
	b := []byte{pageTokenVersion}
	b = binary.BigEndian.AppendUint64(b, uint64(slot.UnixMicro()))
	b = append(b, id...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeRunPageToken(token string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) < 10 || b[0] != pageTokenVersion || checkID("run", string(b[9:])) != nil {
		return time.Time{}, "", merge.Errorf(merge.ErrInvalid, "page_token is not valid")
	}
	return time.UnixMicro(int64(binary.BigEndian.Uint64(b[1:9]))).UTC(), string(b[9:]), nil
}

// deleteBatch bounds one round of DeleteRunsBefore.
const deleteBatch = 400

// DeleteRunsBefore deletes the records whose slot is before t, a batch at a time, using the
// automatic single-field index on slot.
func (s *Store) DeleteRunsBefore(ctx context.Context, t time.Time) (int, error) {
	n := 0
	for {
		snaps, err := s.client.Collection(colRuns).Where("slot", "<", t.UTC()).OrderBy("slot", gfs.Asc).
			Limit(deleteBatch).Documents(ctx).GetAll()
		if err != nil {
			return n, fmt.Errorf("firestore: list old runs: %w", translate(err))
		}
		if len(snaps) == 0 {
			return n, nil
		}
		bw := s.client.BulkWriter(ctx)
		jobs := make([]*gfs.BulkWriterJob, 0, len(snaps))
		for _, snap := range snaps {
			j, err := bw.Delete(snap.Ref)
			if err != nil {
				bw.End()
				return n, fmt.Errorf("firestore: delete run %s: %w", snap.Ref.ID, translate(err))
			}
			jobs = append(jobs, j)
		}
		bw.End()
		for i, j := range jobs {
			if _, err := j.Results(); err != nil && status.Code(err) != codes.NotFound {
				return n, fmt.Errorf("firestore: delete run %s: %w", snaps[i].Ref.ID, translate(err))
			}
			n++
		}
	}
}
