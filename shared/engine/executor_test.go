package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/localfs"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/sandboxtest"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
)

// clock follows real time plus an offset a test can advance, so leases renewed by real timers
// can also be made to expire at once.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// env is a sandbox with a bolt task store, a service and an executor over them.
type env struct {
	*sandbox
	svc   *merge.Service
	clock *clock
	ex    *engine.Executor
}

// targetSize is the target file size of test tasks: the smallest allowed, so that a few
// kilobytes of rows make one merged file.
const targetSize = merge.MinTargetFileSize

func newEnv(t *testing.T) *env {
	t.Helper()
	sb := startSandbox(t)
	st, err := bolt.Open(filepath.Join(t.TempDir(), "tasks.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{}
	svc := merge.NewService(st, st).WithClock(c.Now)
	if _, err := svc.CreateCluster(context.Background(), merge.Cluster{ID: "sandbox", Host: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	files := fsys.NewResolver(map[string]fsys.Opener{"file": localfs.Opener()})
	t.Cleanup(func() { files.Close() })
	ex := &engine.Executor{
		Tasks: svc, Planner: sb.planner, Hive: sb.client, Files: files,
		Lease: time.Minute, Renew: 20 * time.Millisecond, CompactionPoll: 10 * time.Millisecond, Now: c.Now,
	}
	sb.exec(t, "CREATE DATABASE m")
	return &env{sandbox: sb, svc: svc, clock: c, ex: ex}
}

func (e *env) newTask(t *testing.T, table string, s merge.Strategy, parts ...merge.PartitionSpec) *merge.Task {
	t.Helper()
	task, err := e.svc.CreateTask(context.Background(), merge.CreateTaskRequest{
		ClusterID: "sandbox", Name: "merge " + table, Database: "m", Table: table, Partitions: parts,
		Strategy: s, TargetFileSize: targetSize, CreatedBy: "tester",
	})
	if err != nil {
		t.Fatal(err)
	}
	return task
}

// state is what a test compares before and after: per partition, rows, checksum and location.
type state struct {
	partitions []string
	rows       map[string]hive.Checksum
	location   map[string]string
}

func (e *env) state(t *testing.T, table string) state {
	t.Helper()
	s := state{rows: map[string]hive.Checksum{}, location: map[string]string{}}
	for _, p := range sandboxtest.Partitions(t, e.client, "m", table) {
		s.partitions = append(s.partitions, p.Name)
		s.rows[p.Name], s.location[p.Name] = p.Rows, p.Location
	}
	return s
}

// stagingTables lists the tables a merge left behind in database m.
func (e *env) stagingTables(t *testing.T) []string {
	t.Helper()
	res, err := e.client.Query(context.Background(), "SHOW TABLES IN m", nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res.Strings() {
		if len(r) > 0 && strings.HasPrefix(r[0], "hivemerge_") {
			out = append(out, r[0])
		}
	}
	return out
}

func (e *env) run(t *testing.T, id, owner string) *merge.Task {
	t.Helper()
	task, err := e.ex.Run(context.Background(), id, owner)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return task
}

func (e *env) logs(t *testing.T, id string) string {
	t.Helper()
	entries, err := e.svc.TaskLogs(context.Background(), id, 0, merge.MaxLogsLimit)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range entries {
		b.WriteString(string(l.Level) + " " + l.Step + " " + l.Message + " " + l.SQL + "\n")
	}
	return b.String()
}

func path(t *testing.T, location string) string {
	t.Helper()
	l, err := fsys.ParseLocation(location)
	if err != nil {
		t.Fatal(err)
	}
	return l.Path
}

func TestSafeMergePartitioned(t *testing.T) {
	e := newEnv(t)
	e.exec(t, "CREATE TABLE m.logs (id bigint, msg string) PARTITIONED BY (dt string) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' STORED AS TEXTFILE")
	e.files(t, "logs", map[string]string{"dt": "2024-01-01"}, 300, 2)
	e.files(t, "logs", map[string]string{"dt": "2024-01-02"}, 40, 3)
	before := e.state(t, "logs")
	task := e.newTask(t, "logs", merge.StrategyAuto)

	got := e.run(t, task.ID, "worker-1")
	if got.Status != merge.StatusSuccess {
		t.Fatalf("status %s: %s\n%s", got.Status, got.Error, e.logs(t, task.ID))
	}
	after := e.state(t, "logs")
	if describe(after.rows) != describe(before.rows) || describe(after.partitions) != describe(before.partitions) {
		t.Errorf("rows or partitions changed:\nbefore %s\nafter  %s", describe(before), describe(after))
	}
	if e.stagingTables(t) != nil {
		t.Errorf("staging tables left: %v", e.stagingTables(t))
	}
	cp := got.Checkpoint
	if cp == nil || cp.Strategy != merge.StrategySafeMerge || len(cp.Partitions) != 2 {
		t.Fatalf("checkpoint %+v", cp)
	}
	// The task's staging directory holds the merged partitions and nothing of the dropped
	// staging tables.
	stage := filepath.Dir(path(t, after.location[cp.Partitions[0].Partition]))
	entries, err := os.ReadDir(stage)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range entries {
		names = append(names, de.Name())
	}
	if strings.Join(names, ",") != "dt=2024-01-01,dt=2024-01-02" {
		t.Errorf("%s holds %v, want only the two merged partitions", stage, names)
	}
	ctx := context.Background()
	tb, err := e.client.DescribeTable(ctx, hql.Table{Database: "m", Name: "logs"})
	if err != nil {
		t.Fatal(err)
	}
	var wantStats merge.Stats
	for _, p := range cp.Partitions {
		if p.Step != merge.StepDone {
			t.Errorf("partition %s at %s", p.Partition, p.Step)
		}
		live := after.location[p.Partition]
		if live == before.location[p.Partition] || !strings.Contains(live, "/.hivemerge-"+task.ID+"/") {
			t.Errorf("partition %s points at %s", p.Partition, live)
		}
		files, bytes := walk(t, live)
		if limit := (bytes+targetSize-1)/targetSize + 1; files > limit || files != p.FilesAfter {
			t.Errorf("partition %s has %d files (%d bytes), checkpoint says %d, limit %d", p.Partition, files, bytes, p.FilesAfter, limit)
		}
		spec, _ := tb.Spec(p.Spec)
		d, err := e.client.DescribePartition(ctx, hql.Table{Database: "m", Name: "logs"}, spec)
		if err != nil {
			t.Fatal(err)
		}
		if d.Stats.NumFiles == nil || *d.Stats.NumFiles != files || d.Stats.TotalSize == nil || *d.Stats.TotalSize != bytes {
			t.Errorf("partition %s: DESCRIBE FORMATTED numFiles %v totalSize %v, listing %d files %d bytes", p.Partition, d.Stats.NumFiles, d.Stats.TotalSize, files, bytes)
		}
		// The backup is the original location, untouched.
		oldFiles, _ := walk(t, before.location[p.Partition])
		if p.BackupLocation != before.location[p.Partition] || oldFiles != p.FilesBefore || p.KeepUntil.Before(time.Now().Add(6*24*time.Hour)) {
			t.Errorf("partition %s: backup %s (%d files, checkpoint %d) until %s", p.Partition, p.BackupLocation, oldFiles, p.FilesBefore, p.KeepUntil)
		}
		if p.RowsBefore != before.rows[p.Partition].Rows || p.RowsAfter != p.RowsBefore || p.ChecksumAfter != p.ChecksumBefore {
			t.Errorf("partition %s: rows %d/%d checksum %d/%d", p.Partition, p.RowsBefore, p.RowsAfter, p.ChecksumBefore, p.ChecksumAfter)
		}
		if p.Snapshot == nil || p.Snapshot.Fingerprint == "" || p.Snapshot.Names != "" {
			t.Errorf("partition %s: snapshot %+v", p.Partition, p.Snapshot)
		}
		// The delimiter survived: merged lines are still id|msg.
		entries, err := os.ReadDir(path(t, live))
		if err != nil || len(entries) == 0 {
			t.Fatalf("read %s: %v", live, err)
		}
		data, err := os.ReadFile(filepath.Join(path(t, live), entries[0].Name()))
		if err != nil {
			t.Fatal(err)
		}
		if line, _, _ := strings.Cut(string(data), "\n"); !strings.Contains(line, "|value-") {
			t.Errorf("partition %s: merged line %q lost its delimiter", p.Partition, line)
		}
		wantStats.FilesBefore += p.FilesBefore
		wantStats.FilesAfter += p.FilesAfter
		wantStats.RowsValidated += p.RowsBefore
	}
	if got.Stats.FilesBefore != 340 || got.Stats.FilesAfter != wantStats.FilesAfter || got.Stats.RowsValidated != 720 || got.Progress != 100 {
		t.Errorf("stats %+v, progress %d", got.Stats, got.Progress)
	}
	logs := e.logs(t, task.ID)
	for _, want := range []string{"claimed by worker-1", "rule", "SET LOCATION", "ANALYZE TABLE", "INSERT OVERWRITE", "merged:"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}

func TestSafeMergeUnpartitioned(t *testing.T) {
	e := newEnv(t)
	e.exec(t, "CREATE TABLE m.flat (id bigint, msg string) STORED AS TEXTFILE")
	e.files(t, "flat", nil, 30, 2)
	before := e.state(t, "flat")
	task := e.newTask(t, "flat", merge.StrategySafeMerge)
	got := e.run(t, task.ID, "w")
	if got.Status != merge.StatusSuccess {
		t.Fatalf("status %s: %s\n%s", got.Status, got.Error, e.logs(t, task.ID))
	}
	after := e.state(t, "flat")
	if after.rows[""] != before.rows[""] || after.location[""] == before.location[""] {
		t.Errorf("before %s\nafter %s", describe(before), describe(after))
	}
	if files, _ := walk(t, after.location[""]); files != 1 {
		t.Errorf("%d files after the merge", files)
	}
}
func sameState(t *testing.T, what string, got, want state) {
	t.Helper()
	if describe(got) != describe(want) {
		t.Errorf("%s:\ngot  %s\nwant %s", what, describe(got), describe(want))
	}
}

func wantErr(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("got error %v, want %v", err, kind)
	}
}

func TestSafeMergeMultiKeyEscapedPartition(t *testing.T) {
	e := newEnv(t)
	e.exec(t, "CREATE TABLE m.multi (id bigint, msg string) PARTITIONED BY (d date, h int, src string) STORED AS TEXTFILE")
	parts := []map[string]string{
		{"d": "2024-01-01", "h": "7", "src": "a b:c/d"},
		{"d": "2024-01-02", "h": "13", "src": "plain"},
	}
	for _, p := range parts {
		e.files(t, "multi", p, 8, 2)
	}
	before := e.state(t, "multi")
	task := e.newTask(t, "multi", merge.StrategySafeMerge, merge.PartitionSpec{"d": "2024-01-01"})
	got := e.run(t, task.ID, "w")
	if got.Status != merge.StatusSuccess {
		t.Fatalf("status %s: %s\n%s", got.Status, got.Error, e.logs(t, task.ID))
	}
	after := e.state(t, "multi")
	if describe(after.rows) != describe(before.rows) || describe(after.partitions) != describe(before.partitions) {
		t.Errorf("before %s\nafter  %s", describe(before), describe(after))
	}
	if len(got.Checkpoint.Partitions) != 1 {
		t.Fatalf("partitions %+v", got.Checkpoint.Partitions)
	}
	name := got.Checkpoint.Partitions[0].Partition
	if after.location[name] == before.location[name] {
		t.Errorf("%s was not swapped", name)
	}
	if files, _ := walk(t, after.location[name]); files != 1 {
		t.Errorf("%s has %d files", name, files)
	}
	for n, loc := range after.location {
		if n != name && loc != before.location[n] {
			t.Errorf("%s moved to %s", n, loc)
		}
	}
}

// TestSafeMergeSiblingPartitions merges two partitions of one directory in one task: the
// second partition's staging table must not be created over the first's new live location,
// and a rollback restores both.
func TestSafeMergeSiblingPartitions(t *testing.T) {
	e := newEnv(t)
	e.exec(t, "CREATE TABLE m.days (id bigint, msg string) PARTITIONED BY (dt string) STORED AS TEXTFILE")
	for _, dt := range []string{"2024-01-01", "2024-01-02"} {
		e.files(t, "days", map[string]string{"dt": dt}, 10, 2)
	}
	before := e.state(t, "days")
	task := e.newTask(t, "days", merge.StrategySafeMerge)
	got := e.run(t, task.ID, "w")
	if got.Status != merge.StatusSuccess {
		t.Fatalf("status %s: %s\n%s", got.Status, got.Error, e.logs(t, task.ID))
	}
	after := e.state(t, "days")
	for _, p := range before.partitions {
		if after.rows[p] != before.rows[p] || after.location[p] == before.location[p] {
			t.Errorf("partition %s: before %s\nafter %s", p, describe(before), describe(after))
		}
		if files, _ := walk(t, after.location[p]); files != 1 {
			t.Errorf("partition %s: %d files after the merge", p, files)
		}
	}
	if left := e.stagingTables(t); len(left) > 0 {
		t.Errorf("staging tables left: %v", left)
	}
	if _, err := e.ex.Rollback(context.Background(), task.ID, "tester"); err != nil {
		t.Fatal(err)
	}
	sameState(t, "after the rollback", e.state(t, "days"), before)
}
