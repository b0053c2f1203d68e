package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
	bbolt "go.etcd.io/bbolt"
)

// TestOpenFormat0 opens a file written before tasks had a document type of their own and
// reads the same tasks, indexes, counters and logs as the version that wrote it; a task
// updated now is stored in the current format and still reads the same.
func TestOpenFormat0(t *testing.T) {
	ctx := context.Background()
	old, err := os.ReadFile("testdata/tasks_v0.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tasks.db")
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/tasks_v0.json")
	if err != nil {
		t.Fatal(err)
	}
	var wantTasks []*merge.Task
	if err := json.Unmarshal(want, &wantTasks); err != nil {
		t.Fatal(err)
	}

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []*merge.Task
	for _, w := range wantTasks {
		task, err := s.GetTask(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, task)
	}
	if b, _ := json.MarshalIndent(got, "", "  "); !bytes.Equal(append(b, '\n'), want) {
		t.Errorf("the tasks read back differ from what format 0 read:\n%s", b)
	}
	page, err := s.ListTasks(ctx, merge.TaskFilter{ClusterID: "prod"})
	if err != nil || len(page.Tasks) != 3 || page.Tasks[0].ID != wantTasks[3].ID {
		t.Errorf("ListTasks(prod): %d tasks, %v", len(page.Tasks), err)
	}
	stats, err := s.TaskStats(ctx)
	if err != nil || stats.Total != 4 || stats.FilesSaved != 48 || stats.ByStatus[merge.StatusRunning] != 1 {
		t.Errorf("TaskStats: %+v, %v", stats, err)
	}
	logs, err := s.Logs(ctx, wantTasks[1].ID, 0, 10)
	if err != nil || len(logs) != 1 || logs[0].SQL != "SELECT 1" {
		t.Errorf("Logs: %+v, %v", logs, err)
	}

	// An update rewrites the task in the current format; it reads the same but for the
	// update.
	id := wantTasks[1].ID
	updated, err := s.UpdateTask(ctx, id, func(task *merge.Task) error {
		task.Progress = 41
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if err := s.db.View(func(tx *bbolt.Tx) error {
		raw = bytes.Clone(tx.Bucket(bucketTasks).Get([]byte(id)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(`"v":1,`)) {
		t.Errorf("the updated task is stored as %s, not in format 1", raw)
	}
	reread, err := s.GetTask(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	wantTasks[1].Progress = 41
	for _, task := range []*merge.Task{updated, reread} {
		if a, b := describe(task), describe(wantTasks[1]); a != b {
			t.Errorf("updated task\n%s\nwant\n%s", a, b)
		}
	}
}

// TestDecodeNewerFormat: a task written by a newer version is an error, not a task misread.
func TestDecodeNewerFormat(t *testing.T) {
	_, err := decodeTask("t1", []byte(`{"v":2,"id":"t1","status":"pending"}`))
	if !errors.Is(err, merge.ErrUnavailable) {
		t.Errorf("decode of format 2: %v", err)
	}
}

// TestTaskDocRoundTrip: every field of a task survives the document type.
func TestTaskDocRoundTrip(t *testing.T) {
	at := time.Date(2026, 2, 3, 4, 5, 6, 7, time.UTC)
	task := &merge.Task{
		ID: "t1", Name: "n", ClusterID: "c", Database: "d", Table: "t", Partitions: []merge.PartitionSpec{{"dt": "x", "hr": "1"}},
		Strategy: merge.StrategyAuto, ChosenStrategy: merge.StrategySafeMerge, StrategyReason: "r", TargetFileSize: 1 << 20,
		Status: merge.StatusRunning, CancelRequested: true, LeaseOwner: "w#1", LeaseExpires: at.Add(time.Minute),
		Step: "s", Attempt: 3, Progress: 50, CreatedBy: "a", ExecutedBy: "b", CancelledBy: "c",
		CreatedAt: at, UpdatedAt: at.Add(time.Second), StartedAt: at.Add(2 * time.Second), FinishedAt: at.Add(3 * time.Second),
		Stats: merge.Stats{FilesBefore: 1, FilesAfter: 2, BytesBefore: 3, BytesAfter: 4, RowsValidated: 5, DurationMS: 6}, Error: "e",
		Checkpoint: &merge.Checkpoint{Strategy: merge.StrategySafeMerge, Rule: "r", RolledBackBy: "x", RolledBackAt: at,
			Partitions: []merge.PartitionCheckpoint{{Partition: "dt=x/hr=1", Spec: merge.PartitionSpec{"dt": "x", "hr": "1"}, Step: merge.StepSwapped,
				OldLocation: "hdfs://nn/a", Snapshot: &merge.SnapshotMark{Fingerprint: "f", Files: 1, Bytes: 2, TakenAt: at, Names: "n"},
				RowsBefore: 1, ChecksumBefore: -2, Merged: []string{"m"}, KeepUntil: at}}},
	}
	// A field added to merge.Task must be added to taskDoc too: this task sets them all.
	v := reflect.ValueOf(task).Elem()
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("the test task leaves merge.Task.%s unset", v.Type().Field(i).Name)
		}
	}
	data, err := encodeTask(task)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeTask("t1", data)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := describe(got), describe(task); a != b {
		t.Errorf("round trip\n%s\nwant\n%s", a, b)
	}
}

func describe(t *merge.Task) string {
	b, _ := json.Marshal(t)
	return string(b)
}
