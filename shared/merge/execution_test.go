package merge_test

import (
	"context"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

func TestSaveCheckpoint(t *testing.T) {
	ctx := context.Background()
	svc, clock := newService(t)
	task := create(t, svc, "events")
	cp := &merge.Checkpoint{Strategy: merge.StrategySafeMerge, Partitions: []merge.PartitionCheckpoint{{Partition: "dt=1", Step: merge.StepStaged}}}

	if _, err := svc.SaveCheckpoint(ctx, task.ID, "w1", time.Minute, cp, merge.Progress{}); err == nil {
		t.Fatal("a checkpoint of an unclaimed task was saved")
	}
	if _, err := svc.Claim(ctx, task.ID, "w1", time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Second)
	got, err := svc.SaveCheckpoint(ctx, task.ID, "w1", time.Minute, cp, merge.Progress{Step: "staged", Percent: 40})
	if err != nil {
		t.Fatalf("SaveCheckpoint: %v", err)
	}
	if got.Checkpoint == nil || got.Checkpoint.Partitions[0].Step != merge.StepStaged || got.Progress != 40 || !got.LeaseExpires.Equal(clock.Now().UTC().Add(time.Minute)) {
		t.Errorf("saved %+v (checkpoint %+v)", got, got.Checkpoint)
	}
	cp.Partitions[0].Step = merge.StepDone // the caller's later changes must not leak into the store's copy
	if got.Checkpoint.Partitions[0].Step != merge.StepStaged {
		t.Error("SaveCheckpoint kept a reference to the caller's partitions")
	}

	_, err = svc.SaveCheckpoint(ctx, task.ID, "w2", time.Minute, cp, merge.Progress{})
	wantKind(t, err, merge.ErrConflict)
	huge := &merge.Checkpoint{Partitions: make([]merge.PartitionCheckpoint, merge.MaxCheckpointBytes/100)}
	_, err = svc.SaveCheckpoint(ctx, task.ID, "w1", time.Minute, huge, merge.Progress{})
	wantKind(t, err, merge.ErrInvalid)
	clock.Advance(2 * time.Minute)
	_, err = svc.SaveCheckpoint(ctx, task.ID, "w1", time.Minute, cp, merge.Progress{})
	wantKind(t, err, merge.ErrConflict)

	// A running task's checkpoint belongs to its worker; a finished one can be changed.
	_, err = svc.UpdateCheckpoint(ctx, task.ID, func(*merge.Checkpoint) error { return nil })
	wantKind(t, err, merge.ErrConflict)
	if _, err := svc.Claim(ctx, task.ID, "w2", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Finish(ctx, task.ID, "w2", merge.StatusSuccess, merge.Stats{}, ""); err != nil {
		t.Fatal(err)
	}
	got, err = svc.UpdateCheckpoint(ctx, task.ID, func(c *merge.Checkpoint) error {
		c.Partitions[0].Step = merge.StepRolledBack
		c.RolledBackBy = "ops"
		return nil
	})
	if err != nil || got.Checkpoint.Partitions[0].Step != merge.StepRolledBack || got.Checkpoint.RolledBackBy != "ops" {
		t.Errorf("UpdateCheckpoint: %+v, %v", got, err)
	}
}
