package merge

import (
	"context"
	"time"
)

// LoggingStore is a Store that appends to a task's log in the same atomic write as an update of
// the task. The executor records each step's log lines with the checkpoint that ends the step,
// so that one write (one fsync, one Firestore commit) serves both, and a step recorded as done
// never lacks its log lines.
type LoggingStore interface {
	Store
	// UpdateTaskLogs is UpdateTask that also appends entries, with increasing Seq values, in
	// the same write: both are saved or neither is. When fn fails nothing is saved.
	UpdateTaskLogs(ctx context.Context, id string, fn func(*Task) error, entries ...LogEntry) (*Task, error)
}

// Logged returns the service with which the next task update (SaveCheckpoint, Heartbeat,
// Finish) also appends entries to the task's log, in the same write when the store is a
// LoggingStore (every store of package taskstore is), and otherwise just after the update.
// When the update fails the entries are not appended: the caller decides what to do with them
// (the executor logs them on their own).
func (s *Service) Logged(entries ...LogEntry) *Service {
	if len(entries) == 0 {
		return s
	}
	stamp(s.clock(), entries)
	c := *s
	c.tasks = &loggedStore{Store: s.tasks, entries: entries}
	return &c
}

// stamp fills in the time and level an entry was given none of.
func stamp(now time.Time, entries []LogEntry) {
	for i := range entries {
		if entries[i].Time.IsZero() {
			entries[i].Time = now
		}
		if entries[i].Level == "" {
			entries[i].Level = LevelInfo
		}
	}
}

// loggedStore appends its entries with the first task update made through it.
type loggedStore struct {
	Store
	entries []LogEntry
}

func (s *loggedStore) UpdateTask(ctx context.Context, id string, fn func(*Task) error) (*Task, error) {
	entries := s.entries
	s.entries = nil
	if len(entries) == 0 {
		return s.Store.UpdateTask(ctx, id, fn)
	}
	if ls, ok := s.Store.(LoggingStore); ok {
		return ls.UpdateTaskLogs(ctx, id, fn, entries...)
	}
	t, err := s.Store.UpdateTask(ctx, id, fn)
	if err != nil {
		return nil, err
	}
	return t, s.Store.AppendLogs(ctx, id, entries...)
}
