package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// testUpdateTaskLogs checks merge.LoggingStore, which every store implements: the update and
// the log entries are saved together or not at all, and the entries follow the log's earlier
// ones, however many there are and whoever else appends or updates meanwhile.
func testUpdateTaskLogs(t *testing.T, s Stores) {
	ls, ok := s.Tasks.(merge.LoggingStore)
	if !ok {
		t.Fatalf("%T does not implement merge.LoggingStore", s.Tasks)
	}
	ctx := context.Background()
	mustCreate(t, s, newTask("ul", 0, "prod", "web", "events"))
	entries := func(from, n int) []merge.LogEntry {
		var out []merge.LogEntry
		for i := range n {
			out = append(out, logEntry(from+i))
		}
		return out
	}
	if err := s.Tasks.AppendLogs(ctx, "ul", entries(0, 2)...); err != nil {
		t.Fatal(err)
	}
	want := entries(0, 2)

	got, err := ls.UpdateTaskLogs(ctx, "ul", func(task *merge.Task) error {
		task.Progress = 40
		return nil
	}, entries(2, 3)...)
	if err != nil || got.Progress != 40 {
		t.Fatalf("UpdateTaskLogs: %+v, %v", got, err)
	}
	want = append(want, entries(2, 3)...)

	boom := errors.New("boom")
	_, err = ls.UpdateTaskLogs(ctx, "ul", func(task *merge.Task) error {
		task.Progress = 90
		return boom
	}, entries(100, 2)...)
	if !errors.Is(err, boom) {
		t.Errorf("UpdateTaskLogs with a failing fn: %v, want %v", err, boom)
	}
	_, err = ls.UpdateTaskLogs(ctx, "missing", func(*merge.Task) error { return nil }, logEntry(200))
	wantErr(t, "UpdateTaskLogs(missing)", err, merge.ErrNotFound)

	// No entries is a plain update; more entries than one commit takes are all kept, in order.
	if _, err := ls.UpdateTaskLogs(ctx, "ul", func(task *merge.Task) error { task.Progress = 50; return nil }); err != nil {
		t.Fatal(err)
	}
	got, err = ls.UpdateTaskLogs(ctx, "ul", func(task *merge.Task) error {
		task.Progress = 60
		return nil
	}, entries(300, 450)...)
	if err != nil || got.Progress != 60 {
		t.Fatalf("UpdateTaskLogs of 450 entries: %+v, %v", got, err)
	}
	want = append(want, entries(300, 450)...)

	stored, err := s.Tasks.GetTask(ctx, "ul")
	if err != nil || stored.Progress != 60 {
		t.Fatalf("stored task: %+v, %v", stored, err)
	}
	logs, err := s.Tasks.Logs(ctx, "ul", 0, merge.MaxLogsLimit)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != len(want) {
		t.Fatalf("%d entries in the log, want %d (a failed update must append none)", len(logs), len(want))
	}
	for i := range logs {
		w := want[i]
		w.Seq = logs[i].Seq
		sameJSON(t, fmt.Sprintf("entry %d", i), logs[i], w)
		if i > 0 && logs[i].Seq <= logs[i-1].Seq {
			t.Errorf("Seq not increasing: %d after %d", logs[i].Seq, logs[i-1].Seq)
		}
	}

	// Concurrent with plain appends and updates: no update and no Seq lost or shared.
	const rounds = 3
	mustCreate(t, s, newTask("uc", 1, "prod", "web", "clicks"))
	errs := parallel(updaters, func(i int) error {
		for range rounds {
			var err error
			switch i % 3 {
			case 0:
				_, err = ls.UpdateTaskLogs(ctx, "uc", func(task *merge.Task) error { task.Attempt++; return nil }, logEntry(i), logEntry(i))
			case 1:
				_, err = s.Tasks.UpdateTask(ctx, "uc", func(task *merge.Task) error { task.Attempt++; return nil })
			default:
				err = s.Tasks.AppendLogs(ctx, "uc", logEntry(i))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	var updates, appended int
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
		switch i % 3 {
		case 0:
			updates, appended = updates+rounds, appended+2*rounds
		case 1:
			updates += rounds
		default:
			appended += rounds
		}
	}
	task, err := s.Tasks.GetTask(ctx, "uc")
	if err != nil || task.Attempt != updates {
		t.Errorf("after %d updates: attempt %d, %v", updates, task.Attempt, err)
	}
	logs, err = s.Tasks.Logs(ctx, "uc", 0, merge.MaxLogsLimit)
	seen := map[int64]bool{}
	for _, e := range logs {
		seen[e.Seq] = true
	}
	if err != nil || len(logs) != appended || len(seen) != appended {
		t.Errorf("%d entries (%d distinct Seq) after %d appended: %v", len(logs), len(seen), appended, err)
	}
}
