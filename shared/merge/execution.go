package merge

import (
	"context"
	"encoding/json"
	"time"
)

// MaxCheckpointBytes bounds a checkpoint's JSON: a task is one Firestore document, which must
// stay below 1 MiB with its other fields.
const MaxCheckpointBytes = 512 << 10

func checkSize(cp *Checkpoint) error {
	b, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	if len(b) > MaxCheckpointBytes {
		return Errorf(ErrInvalid, "the checkpoint takes %d bytes, more than %d: the task has too many partitions for one task; split it", len(b), MaxCheckpointBytes)
	}
	return nil
}

// SaveCheckpoint records owner's checkpoint and progress and renews its lease, in one update.
// Like Heartbeat it fails with ErrConflict when owner no longer holds the task, so a worker that
// lost its lease never overwrites the new owner's progress; the returned task tells the worker
// whether a cancel was requested.
func (s *Service) SaveCheckpoint(ctx context.Context, id, owner string, lease time.Duration, cp *Checkpoint, p Progress) (*Task, error) {
	if cp == nil {
		return nil, Errorf(ErrInvalid, "a checkpoint is required")
	}
	if p.Percent < 0 || p.Percent > 100 {
		return nil, Errorf(ErrInvalid, "progress must be between 0 and 100")
	}
	if err := checkSize(cp); err != nil {
		return nil, err
	}
	return s.tasks.UpdateTask(ctx, id, func(t *Task) error {
		now := s.clock()
		if err := holds(t, owner, now); err != nil {
			return err
		}
		c := *cp
		c.Partitions = append([]PartitionCheckpoint(nil), cp.Partitions...)
		t.Checkpoint = &c
		t.LeaseExpires = now.Add(lease)
		if p.Step != "" {
			t.Step = p.Step
		}
		t.Progress = p.Percent
		if p.Strategy != "" {
			t.ChosenStrategy, t.StrategyReason = p.Strategy, p.Reason
		}
		t.UpdatedAt = now
		return nil
	})
}

// UpdateCheckpoint changes the checkpoint of a finished task, as a rollback does. An active
// task belongs to its worker, so changing it is a conflict; so is a task never executed.
func (s *Service) UpdateCheckpoint(ctx context.Context, id string, fn func(*Checkpoint) error) (*Task, error) {
	if err := checkTaskID(id); err != nil {
		return nil, err
	}
	return s.tasks.UpdateTask(ctx, id, func(t *Task) error {
		if t.Status.Active() {
			return Errorf(ErrConflict, "task %s is %s; wait for it to finish or cancel it first", t.ID, t.Status)
		}
		if t.Checkpoint == nil {
			return Errorf(ErrConflict, "task %s never ran, so there is nothing to roll back", t.ID)
		}
		c := *t.Checkpoint
		c.Partitions = append([]PartitionCheckpoint(nil), t.Checkpoint.Partitions...)
		if err := fn(&c); err != nil {
			return err
		}
		if err := checkSize(&c); err != nil {
			return err
		}
		t.Checkpoint = &c
		t.UpdatedAt = s.clock()
		return nil
	})
}
