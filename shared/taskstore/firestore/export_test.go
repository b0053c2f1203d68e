package firestore

import (
	"context"

	gfs "cloud.google.com/go/firestore"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// RawCreate writes the documents CreateTasks writes, each task and its table's lock, with a
// BulkWriter and without reading or checking anything: the floor the benchmark compares
// CreateTasks with.
func RawCreate(s *Store, ctx context.Context, ts []*merge.Task) error {
	bw := s.client.BulkWriter(ctx)
	jobs := make([]*gfs.BulkWriterJob, 0, len(ts))
	for _, t := range ts {
		normalize(t)
		j, err := bw.Create(s.taskRef(t.ID), toDoc(t))
		if err != nil {
			return err
		}
		jobs = append(jobs, j)
		lock := &lockDoc{TableKey: t.TableKey(), Holders: []holder{{TaskID: t.ID, Partitions: encodeSpecs(t.Partitions)}}}
		if j, err = bw.Set(s.lockRef(t.TableKey()), lock); err != nil {
			return err
		}
		jobs = append(jobs, j)
	}
	bw.End()
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			return err
		}
	}
	return nil
}
