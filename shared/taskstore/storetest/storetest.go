// Package storetest is the conformance suite that every merge.Store and merge.ClusterStore
// adapter runs, so that all backends keep the ports' contract in the same way.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Stores are the two ports an adapter implements, usually the same value.
type Stores struct {
	Tasks    merge.Store
	Clusters merge.ClusterStore
}

// Run runs the whole suite. newStores must return empty stores; it is called once per case,
// and the cases run one after the other, so an adapter may reuse one backend and clear it.
//
// Stores may normalise a task in place in CreateTask (times to UTC and to the backend's
// precision, at least microseconds); the suite then expects reads to return exactly that.
//
// Where the ports' comments are silent, the suite pins down one behaviour for all stores:
// an empty task ID is ErrInvalid; AppendLogs and Logs on an unknown task are ErrNotFound; a
// zero Limit means merge.DefaultListLimit; a malformed page token is ErrInvalid; the saved
// totals of TaskStats count finished (success, failed, cancelled) tasks only, each at least 0.
func Run(t *testing.T, newStores func(t *testing.T) Stores) {
	cases := []struct {
		name string
		run  func(t *testing.T, s Stores)
	}{
		{"CreateGet", testCreateGet},
		{"GetNotFound", testGetNotFound},
		{"CreateDuplicateID", testCreateDuplicateID},
		{"CreateInvalid", testCreateInvalid},
		{"Overlap", testOverlap},
		{"FinishReleasesTarget", testFinishReleasesTarget},
		{"ConcurrentCreateSameTarget", testConcurrentCreateSameTarget},
		{"ConcurrentCreateDisjoint", testConcurrentCreateDisjoint},
		{"NameCase", testNameCase},
		{"ConcurrentCreateNameCase", testConcurrentCreateNameCase},
		{"Update", testUpdate},
		{"UpdateFnError", testUpdateFnError},
		{"UpdateNotFound", testUpdateNotFound},
		{"UpdateConcurrentIncrements", testUpdateConcurrentIncrements},
		{"CheckpointRoundTrip", testCheckpointRoundTrip},
		{"ClaimExactlyOnce", testClaimExactlyOnce},
		{"ClaimCap", func(t *testing.T, s Stores) { ClaimCap(t, s) }},
		{"ClaimCapSlots", testClaimCapSlots},
		{"ClaimCapInvalid", testClaimCapInvalid},
		{"ListFilters", testListFilters},
		{"ListOrderTies", testListOrderTies},
		{"ListReflectsUpdates", testListReflectsUpdates},
		{"ListPagination", testListPagination},
		{"ListPaginationWhileInserting", testListPaginationWhileInserting},
		{"ListInvalidPageToken", testListInvalidPageToken},
		{"Logs", testLogs},
		{"LogsMany", testLogsMany},
		{"LogsConcurrentAppenders", testLogsConcurrentAppenders},
		{"LogsNotFound", testLogsNotFound},
		{"UpdateTaskLogs", testUpdateTaskLogs},
		{"Stats", testStats},
		{"Clusters", testClusters},
		{"ClusterErrors", testClusterErrors},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, newStores(t))
		})
	}
	runSchedulerCases(t, newStores)
	runBatchCases(t, newStores)
	runBackupCases(t, newStores)
}

// base is the creation time of the first test task; later ones are a second apart so the
// expected order never depends on clock precision.
var base = time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)

func at(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }

// newTask returns a pending task on cl/db/tbl created at at(i).
func newTask(id string, i int, cl, db, tbl string, parts ...merge.PartitionSpec) *merge.Task {
	return &merge.Task{
		ID:         id,
		Name:       "merge " + db + "." + tbl,
		ClusterID:  cl,
		Database:   db,
		Table:      tbl,
		Partitions: parts,
		Strategy:   merge.StrategyAuto,
		Status:     merge.StatusPending,
		CreatedAt:  at(i),
		UpdatedAt:  at(i),
	}
}

func spec(kv ...string) merge.PartitionSpec {
	p := merge.PartitionSpec{}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	return p
}

func mustCreate(t *testing.T, s Stores, tasks ...*merge.Task) {
	t.Helper()
	for _, task := range tasks {
		if err := s.Tasks.CreateTask(context.Background(), task); err != nil {
			t.Fatalf("CreateTask(%s): %v", task.ID, err)
		}
	}
}

// asJSON renders v for comparisons: it treats nil and empty slices alike, as the API does.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	if g, w := asJSON(t, got), asJSON(t, want); g != w {
		t.Errorf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}

func wantErr(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: got error %v, want errors.Is(err, %v)", what, err, kind)
	}
}

func testCreateGet(t *testing.T, s Stores) {
	ctx := context.Background()
	created := time.Date(2024, 5, 1, 8, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	task := &merge.Task{
		ID:         "t0001",
		Name:       "compact events",
		ClusterID:  "prod",
		Database:   "web",
		Table:      "events",
		Partitions: []merge.PartitionSpec{spec("dt", "2024-01-01", "hr", "00"), spec("dt", "2024-01-02")},
		Strategy:   merge.StrategySafeMerge, ChosenStrategy: merge.StrategySafeMerge,
		StrategyReason: "text table", TargetFileSize: 256 << 20,
		Status: merge.StatusRunning, CancelRequested: true,
		LeaseOwner: "worker-1", LeaseExpires: created.Add(time.Minute),
		Step: "validate", Attempt: 2, Progress: 40,
		CreatedBy: "alice", ExecutedBy: "worker-1", CancelledBy: "bob",
		CreatedAt: created, UpdatedAt: created.Add(time.Second), StartedAt: created.Add(2 * time.Second),
		Stats: merge.Stats{FilesBefore: 1000, FilesAfter: 10, BytesBefore: 5 << 30, BytesAfter: 5<<30 - 1,
			RowsValidated: 123456789, DurationMS: 4567},
		Error: "none yet",
	}
	if err := s.Tasks.CreateTask(ctx, task); err != nil {
		t.Fatalf("CreateTask: %v", err)
	}
	if d := task.CreatedAt.Sub(created); d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("CreateTask changed created_at by %s; stores must keep at least microseconds", d)
	}
	got, err := s.Tasks.GetTask(ctx, task.ID)
	if err != nil {
		t.Fatalf("GetTask: %v", err)
	}
	sameJSON(t, "GetTask after CreateTask", got, task)
	if !got.CreatedAt.Equal(task.CreatedAt) || !got.LeaseExpires.Equal(task.LeaseExpires) {
		t.Errorf("times differ: got %v/%v, want %v/%v", got.CreatedAt, got.LeaseExpires, task.CreatedAt, task.LeaseExpires)
	}

	// A minimal task keeps its zero values.
	minimal := newTask("t0002", 1, "prod", "web", "clicks")
	mustCreate(t, s, minimal)
	got, err = s.Tasks.GetTask(ctx, minimal.ID)
	if err != nil {
		t.Fatalf("GetTask: %v", err)
	}
	sameJSON(t, "minimal task", got, minimal)
	if !got.StartedAt.IsZero() || !got.LeaseExpires.IsZero() || !got.FinishedAt.IsZero() {
		t.Errorf("zero times came back set: %+v", got)
	}
	// The store keeps its own copy: changing the caller's task afterwards changes nothing.
	minimal.Name = "changed"
	minimal.Partitions = append(minimal.Partitions, spec("dt", "x"))
	got, _ = s.Tasks.GetTask(ctx, minimal.ID)
	if got.Name == "changed" || len(got.Partitions) != 0 {
		t.Errorf("store shares memory with the caller's task: %+v", got)
	}
}

func testGetNotFound(t *testing.T, s Stores) {
	_, err := s.Tasks.GetTask(context.Background(), "missing")
	wantErr(t, "GetTask(missing)", err, merge.ErrNotFound)
}

func testCreateDuplicateID(t *testing.T, s Stores) {
	ctx := context.Background()
	first := newTask("dup", 0, "prod", "web", "events")
	first.Status = merge.StatusSuccess
	mustCreate(t, s, first)
	// A different, non-overlapping target: only the ID collides.
	second := newTask("dup", 1, "other", "db2", "t2")
	wantErr(t, "CreateTask with an existing ID", s.Tasks.CreateTask(ctx, second), merge.ErrConflict)
	got, err := s.Tasks.GetTask(ctx, "dup")
	if err != nil {
		t.Fatal(err)
	}
	if got.ClusterID != "prod" {
		t.Errorf("the duplicate replaced the original: %+v", got)
	}
	// The failed create must not have taken the second target.
	mustCreate(t, s, newTask("dup2", 2, "other", "db2", "t2"))
}

func testCreateInvalid(t *testing.T, s Stores) {
	wantErr(t, "CreateTask without an ID", s.Tasks.CreateTask(context.Background(), newTask("", 0, "prod", "web", "events")), merge.ErrInvalid)
}

func testOverlap(t *testing.T, s Stores) {
	type target struct {
		cl, db, tbl string
		status      merge.Status
		parts       []merge.PartitionSpec
	}
	events := func(parts ...merge.PartitionSpec) target {
		return target{"prod", "web", "events", merge.StatusPending, parts}
	}
	withStatus := func(tg target, st merge.Status) target { tg.status = st; return tg }
	cases := []struct {
		name     string
		existing []target
		create   target
		conflict bool
	}{
		{"whole table twice", []target{events()}, events(), true},
		{"partition while whole table active", []target{events()}, events(spec("dt", "2024-01-01")), true},
		{"whole table while partition active", []target{events(spec("dt", "2024-01-01"))}, events(), true},
		{"same partition", []target{events(spec("dt", "2024-01-01"))}, events(spec("dt", "2024-01-01")), true},
		{"disjoint partitions", []target{events(spec("dt", "2024-01-01"))}, events(spec("dt", "2024-01-02")), false},
		{"disjoint full specs", []target{events(spec("dt", "2024-01-01", "hr", "00"))}, events(spec("dt", "2024-01-01", "hr", "01")), false},
		{"prefix spec over full spec", []target{events(spec("dt", "2024-01-01", "hr", "00"))}, events(spec("dt", "2024-01-01")), true},
		{"full spec under prefix spec", []target{events(spec("dt", "2024-01-01"))}, events(spec("dt", "2024-01-01", "hr", "07")), true},
		{"specs on different keys", []target{events(spec("dt", "2024-01-01"))}, events(spec("hr", "00")), true},
		{"one of several specs overlaps", []target{events(spec("dt", "a"), spec("dt", "b"))}, events(spec("dt", "c"), spec("dt", "b")), true},
		{"several disjoint specs", []target{events(spec("dt", "a"), spec("dt", "b"))}, events(spec("dt", "c"), spec("dt", "d")), false},
		{"second of two active tasks overlaps", []target{events(spec("dt", "a")), events(spec("dt", "b"))}, events(spec("dt", "b")), true},
		{"running task holds its target", []target{withStatus(events(), merge.StatusRunning)}, events(), true},
		{"different table", []target{events()}, target{"prod", "web", "clicks", merge.StatusPending, nil}, false},
		{"different database", []target{events()}, target{"prod", "app", "events", merge.StatusPending, nil}, false},
		{"different cluster", []target{events()}, target{"dev", "web", "events", merge.StatusPending, nil}, false},
		{"names that concatenate alike", []target{{"prod", "web_a", "b", merge.StatusPending, nil}}, target{"prod", "web", "a_b", merge.StatusPending, nil}, false},
		{"succeeded task released", []target{withStatus(events(), merge.StatusSuccess)}, events(), false},
		{"failed task released", []target{withStatus(events(), merge.StatusFailed)}, events(), false},
		{"cancelled task released", []target{withStatus(events(), merge.StatusCancelled)}, events(), false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			for j, e := range c.existing {
				task := newTask(fmt.Sprintf("o%02de%d", i, j), j, e.cl, e.db, e.tbl, e.parts...)
				task.Status = e.status
				mustCreate(t, s, task)
			}
			task := newTask(fmt.Sprintf("o%02dnew", i), 10, c.create.cl, c.create.db, c.create.tbl, c.create.parts...)
			err := s.Tasks.CreateTask(ctx, task)
			switch {
			case c.conflict && !errors.Is(err, merge.ErrConflict):
				t.Fatalf("CreateTask: got %v, want ErrConflict", err)
			case !c.conflict && err != nil:
				t.Fatalf("CreateTask: %v", err)
			}
			_, err = s.Tasks.GetTask(ctx, task.ID)
			if c.conflict {
				wantErr(t, "GetTask of a refused task", err, merge.ErrNotFound)
			} else if err != nil {
				t.Errorf("GetTask of a created task: %v", err)
			}
			// Leave the shared store without active tasks for the next case.
			for j := range c.existing {
				finish(t, s, fmt.Sprintf("o%02de%d", i, j))
			}
			if !c.conflict {
				finish(t, s, task.ID)
			}
		})
	}
}

// finish moves an active task to a terminal status.
func finish(t *testing.T, s Stores, id string) {
	t.Helper()
	_, err := s.Tasks.UpdateTask(context.Background(), id, func(task *merge.Task) error {
		if task.Status.Active() {
			task.Status = merge.StatusCancelled
		}
		return nil
	})
	if err != nil {
		t.Fatalf("finish %s: %v", id, err)
	}
}

func testFinishReleasesTarget(t *testing.T, s Stores) {
	ctx := context.Background()
	svc := merge.NewService(s.Tasks, s.Clusters).WithClock(func() time.Time { return at(100) })
	steps := []struct {
		name   string
		finish func(id string) error
	}{
		{"cancel pending", func(id string) error {
			_, err := svc.CancelTask(ctx, id, "alice")
			return err
		}},
		{"succeed running", func(id string) error {
			if _, err := svc.Claim(ctx, id, "w1", time.Hour); err != nil {
				return err
			}
			_, err := svc.Finish(ctx, id, "w1", merge.StatusSuccess, merge.Stats{FilesBefore: 9, FilesAfter: 1}, "")
			return err
		}},
		{"fail running", func(id string) error {
			if _, err := svc.Claim(ctx, id, "w1", time.Hour); err != nil {
				return err
			}
			_, err := svc.Finish(ctx, id, "w1", merge.StatusFailed, merge.Stats{}, "boom")
			return err
		}},
	}
	for i, step := range steps {
		id := fmt.Sprintf("r%d", i)
		mustCreate(t, s, newTask(id, i, "prod", "web", "events", spec("dt", "2024-01-01")))
		// An update that keeps the task active keeps its target held.
		if _, err := s.Tasks.UpdateTask(ctx, id, func(task *merge.Task) error { task.Progress = 5; return nil }); err != nil {
			t.Fatal(err)
		}
		wantErr(t, step.name+": overlapping create while active",
			s.Tasks.CreateTask(ctx, newTask(id+"x", i, "prod", "web", "events")), merge.ErrConflict)
		if err := step.finish(id); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
	}
	// Every earlier task has finished, so the whole table is free.
	mustCreate(t, s, newTask("after", 10, "prod", "web", "events"))
	// Recovery (running -> pending) keeps the target: the task is still active.
	if _, err := svc.Claim(ctx, "after", "w2", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tasks.UpdateTask(ctx, "after", func(task *merge.Task) error { task.Status = merge.StatusPending; return nil }); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "create while a recovered task is pending",
		s.Tasks.CreateTask(ctx, newTask("after2", 11, "prod", "web", "events", spec("dt", "z"))), merge.ErrConflict)
}

// parallel runs fn(i) for i in [0, n) in n goroutines released at the same moment, and
// returns their errors by i.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func testConcurrentCreateSameTarget(t *testing.T, s Stores) {
	const n = 64
	ctx := context.Background()
	errs := parallel(n, func(i int) error {
		// Half ask for the whole table and half for one partition: all overlap.
		var parts []merge.PartitionSpec
		if i%2 == 1 {
			parts = []merge.PartitionSpec{spec("dt", "2024-01-01")}
		}
		return s.Tasks.CreateTask(ctx, newTask(fmt.Sprintf("same%02d", i), i, "prod", "web", "events", parts...))
	})
	var winners []int
	for i, err := range errs {
		switch {
		case err == nil:
			winners = append(winners, i)
		case !errors.Is(err, merge.ErrConflict):
			t.Errorf("create %d: got %v, want nil or ErrConflict", i, err)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d creates succeeded (%v), want exactly 1", len(winners), winners)
	}
	page, err := s.Tasks.ListTasks(ctx, merge.TaskFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Tasks) != 1 || page.Tasks[0].ID != fmt.Sprintf("same%02d", winners[0]) {
		t.Errorf("stored tasks: %v, want only the winner same%02d", ids(page.Tasks), winners[0])
	}
}

func testConcurrentCreateDisjoint(t *testing.T, s Stores) {
	const n = 64
	ctx := context.Background()
	errs := parallel(n, func(i int) error {
		return s.Tasks.CreateTask(ctx, newTask(fmt.Sprintf("part%02d", i), i, "prod", "web", "events",
			spec("dt", "2024-01-01", "hr", fmt.Sprintf("%02d", i))))
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("create %d: %v", i, err)
		}
	}
	st, err := s.Tasks.TaskStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.ByStatus[merge.StatusPending] != n {
		t.Errorf("pending tasks: got %d, want %d", st.ByStatus[merge.StatusPending], n)
	}
	// Every partition is taken now.
	wantErr(t, "create over a held partition",
		s.Tasks.CreateTask(ctx, newTask("late", n, "prod", "web", "events", spec("dt", "2024-01-01", "hr", "63"))), merge.ErrConflict)
}

// testNameCase: Hive names are case-insensitive. The service folds them before a task reaches
// a store, but a store must not depend on that: a task stored with mixed-case names (as older
// versions did) holds the same target as its lower-case twin, and listing finds it under the
// folded name. Partition column names compare folded too; partition values are data and
// compare exactly.
func testNameCase(t *testing.T, s Stores) {
	ctx := context.Background()
	cases := []struct {
		name     string
		existing *merge.Task
		create   *merge.Task
		conflict bool
	}{
		{"table in other case", newTask("c0e", 0, "prod", "WEB", "PageViews"), newTask("c0n", 1, "prod", "web", "pageviews"), true},
		{"lower case first", newTask("c1e", 0, "prod", "web", "pageviews"), newTask("c1n", 1, "prod", "Web", "PAGEVIEWS"), true},
		{"partition column in other case", newTask("c2e", 0, "prod", "web", "events", spec("DT", "2024-01-01")),
			newTask("c2n", 1, "prod", "Web", "Events", spec("dt", "2024-01-01", "hr", "00")), true},
		{"partition value in other case", newTask("c3e", 0, "prod", "web", "events", spec("Region", "eu")),
			newTask("c3n", 1, "prod", "web", "events", spec("region", "EU")), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mustCreate(t, s, c.existing)
			err := s.Tasks.CreateTask(ctx, c.create)
			switch {
			case c.conflict && !errors.Is(err, merge.ErrConflict):
				t.Fatalf("CreateTask(%s.%s %v) beside %s.%s %v: got %v, want ErrConflict",
					c.create.Database, c.create.Table, c.create.Partitions, c.existing.Database, c.existing.Table, c.existing.Partitions, err)
			case !c.conflict && err != nil:
				t.Fatalf("CreateTask: %v", err)
			}
			finish(t, s, c.existing.ID)
			if !c.conflict {
				finish(t, s, c.create.ID)
			}
		})
	}
	t.Run("update keeps a mixed-case target", func(t *testing.T) {
		mustCreate(t, s, newTask("c4e", 0, "prod", "Sales", "Orders"))
		if _, err := s.Tasks.UpdateTask(ctx, "c4e", func(task *merge.Task) error { task.Progress = 10; return nil }); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "create beside an updated mixed-case task",
			s.Tasks.CreateTask(ctx, newTask("c4n", 1, "prod", "sales", "orders")), merge.ErrConflict)
		// Finishing releases the folded target.
		finish(t, s, "c4e")
		mustCreate(t, s, newTask("c4m", 2, "prod", "SALES", "orders"))
		finish(t, s, "c4m")
	})
	t.Run("list filters match folded names", func(t *testing.T) {
		mustCreate(t, s, newTask("c5", 3, "prod", "Mixed_DB", "Mixed_Table"))
		for _, f := range []merge.TaskFilter{{Database: "mixed_db"}, {Table: "mixed_table"}, {Database: "mixed_db", Table: "mixed_table"}} {
			page, err := s.Tasks.ListTasks(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(page.Tasks); !slices.Equal(got, []string{"c5"}) {
				t.Errorf("ListTasks(%+v) = %v, want [c5]", f, got)
			}
		}
	})
}

func testConcurrentCreateNameCase(t *testing.T, s Stores) {
	const n = 64
	ctx := context.Background()
	dbs := []string{"web", "WEB", "Web", "wEB"}
	tables := []string{"pageviews", "PageViews", "PAGEVIEWS", "pageViews"}
	errs := parallel(n, func(i int) error {
		return s.Tasks.CreateTask(ctx, newTask(fmt.Sprintf("case%02d", i), i, "prod", dbs[i%4], tables[(i/4)%4]))
	})
	var winners []int
	for i, err := range errs {
		switch {
		case err == nil:
			winners = append(winners, i)
		case !errors.Is(err, merge.ErrConflict):
			t.Errorf("create %d: got %v, want nil or ErrConflict", i, err)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d creates on case variants of one table succeeded (%v), want exactly 1", len(winners), winners)
	}
}

func testUpdate(t *testing.T, s Stores) {
	ctx := context.Background()
	mustCreate(t, s, newTask("u1", 0, "prod", "web", "events"))
	calls := 0
	got, err := s.Tasks.UpdateTask(ctx, "u1", func(task *merge.Task) error {
		calls++
		if task.ID != "u1" || task.Table != "events" {
			t.Errorf("fn got %+v", task)
		}
		task.Step = "write"
		task.Progress = 30
		task.Stats.FilesBefore = 77
		task.UpdatedAt = at(5)
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateTask: %v", err)
	}
	if calls < 1 {
		t.Errorf("fn ran %d times", calls)
	}
	if got.Step != "write" || got.Progress != 30 || got.Stats.FilesBefore != 77 || !got.UpdatedAt.Equal(at(5)) {
		t.Errorf("UpdateTask returned %+v", got)
	}
	stored, err := s.Tasks.GetTask(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "stored after update", stored, got)
}

// testCheckpointRoundTrip stores every field of an executor checkpoint (times with a
// nanosecond part, a partition spec, a snapshot) and reads it back unchanged; clearing it
// removes it.
func testCheckpointRoundTrip(t *testing.T, s Stores) {
	ctx := context.Background()
	mustCreate(t, s, newTask("cp1", 0, "prod", "web", "events"))
	cp := &merge.Checkpoint{
		Strategy: merge.StrategySafeMerge, Rule: "text_small_files",
		Partitions: []merge.PartitionCheckpoint{{
			Partition: "dt=2024-01-01/hr=a%2Fb", Spec: spec("dt", "2024-01-01", "hr", "a/b"), Rule: "small_files",
			Step: merge.StepSwapped, Attempt: 2,
			OldLocation: "hdfs://nn:8020/w/events/dt=2024-01-01", Staging: "hdfs://nn:8020/w/events/.hivemerge-cp1/dt=2024-01-01",
			TempTable: "hivemerge_cp1_0123456789abcdef",
			StartedAt: at(1).Add(123456789), FinishedAt: at(2).Add(987654321),
			Snapshot:   &merge.SnapshotMark{Fingerprint: "sha256:00ff", Files: 300, Bytes: 4096, TakenAt: at(1).Add(5), Names: "AAECAwQFBgc="},
			RowsBefore: 900, ChecksumBefore: -42, RowsAfter: 900, ChecksumAfter: -42,
			FilesBefore: 300, BytesBefore: 4096, FilesAfter: 1, BytesAfter: 4000, LateFiles: 1,
			Merged: []string{"000000_0"}, CompactionID: 7,
			BackupLocation: "hdfs://nn:8020/w/events/dt=2024-01-01", KeepUntil: at(9).Add(1),
			Error: "none",
		}, {Partition: "dt=2024-01-02", Step: merge.StepSkipped, OldLocation: "/w/events/dt=2024-01-02"}},
		RolledBackBy: "ops", RolledBackAt: at(3).Add(7),
	}
	got, err := s.Tasks.UpdateTask(ctx, "cp1", func(task *merge.Task) error {
		task.Checkpoint = cp
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateTask: %v", err)
	}
	sameJSON(t, "checkpoint returned", got.Checkpoint, cp)
	stored, err := s.Tasks.GetTask(ctx, "cp1")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "checkpoint stored", stored.Checkpoint, cp)
	if _, err := s.Tasks.UpdateTask(ctx, "cp1", func(task *merge.Task) error {
		task.Checkpoint = nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if stored, err = s.Tasks.GetTask(ctx, "cp1"); err != nil || stored.Checkpoint != nil {
		t.Errorf("after clearing: checkpoint %+v, err %v", stored.Checkpoint, err)
	}
}

var errStop = errors.New("stop")

func testUpdateFnError(t *testing.T, s Stores) {
	ctx := context.Background()
	before := newTask("u2", 0, "prod", "web", "events")
	mustCreate(t, s, before)
	_, err := s.Tasks.UpdateTask(ctx, "u2", func(task *merge.Task) error {
		task.Status = merge.StatusCancelled
		task.Step = "should not be saved"
		return fmt.Errorf("refused: %w", errStop)
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("UpdateTask: got %v, want fn's error", err)
	}
	// A domain error from fn comes back as it is, too.
	_, err = s.Tasks.UpdateTask(ctx, "u2", func(task *merge.Task) error {
		return merge.Errorf(merge.ErrConflict, "no")
	})
	wantErr(t, "UpdateTask with a conflicting fn", err, merge.ErrConflict)
	got, err := s.Tasks.GetTask(ctx, "u2")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "task after a failed update", got, before)
	// Nothing was released either.
	wantErr(t, "overlapping create", s.Tasks.CreateTask(ctx, newTask("u3", 1, "prod", "web", "events")), merge.ErrConflict)
}

func testUpdateNotFound(t *testing.T, s Stores) {
	called := false
	_, err := s.Tasks.UpdateTask(context.Background(), "missing", func(*merge.Task) error { called = true; return nil })
	wantErr(t, "UpdateTask(missing)", err, merge.ErrNotFound)
	if called {
		t.Error("fn ran for a missing task")
	}
}

// updaters is how many goroutines increment one task at the same time.
const updaters = 24

func testUpdateConcurrentIncrements(t *testing.T, s Stores) {
	const perGoroutine = 3
	ctx := context.Background()
	mustCreate(t, s, newTask("inc", 0, "prod", "web", "events"))
	errs := parallel(updaters, func(int) error {
		for range perGoroutine {
			_, err := s.Tasks.UpdateTask(ctx, "inc", func(task *merge.Task) error {
				task.Attempt++
				task.Stats.FilesAfter += 2
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("updater %d: %v", i, err)
		}
	}
	got, err := s.Tasks.GetTask(ctx, "inc")
	if err != nil {
		t.Fatal(err)
	}
	if got.Attempt != updaters*perGoroutine || got.Stats.FilesAfter != 2*updaters*perGoroutine {
		t.Errorf("after %d increments: attempt %d, files_after %d; updates were lost",
			updaters*perGoroutine, got.Attempt, got.Stats.FilesAfter)
	}
}

func testClaimExactlyOnce(t *testing.T, s Stores) {
	const n = 32
	ctx := context.Background()
	svc := merge.NewService(s.Tasks, s.Clusters).WithClock(func() time.Time { return at(100) })
	mustCreate(t, s, newTask("claim", 0, "prod", "web", "events"))
	errs := parallel(n, func(i int) error {
		_, err := svc.Claim(ctx, "claim", fmt.Sprintf("worker-%d", i), time.Minute)
		return err
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("workers %d and %d both claimed the task", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, merge.ErrConflict):
			t.Errorf("claim by worker %d: got %v, want nil or ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no worker claimed the task")
	}
	got, err := s.Tasks.GetTask(ctx, "claim")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("worker-%d", winner); got.Status != merge.StatusRunning || got.LeaseOwner != want || got.Attempt != 1 {
		t.Errorf("claimed task: status %s owner %q attempt %d, want running %q 1", got.Status, got.LeaseOwner, got.Attempt, want)
	}
}

// capCluster stores cluster id with a cap of maxRunning running tasks.
func capCluster(t *testing.T, s Stores, id string, maxRunning int) {
	t.Helper()
	c := cluster(id)
	c.MaxRunningTasks = maxRunning
	if err := s.Clusters.CreateCluster(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

// ClaimCap checks the per-cluster cap under concurrent claims: with a cap of 2 and 10 pending
// tasks, 10 concurrent claims start exactly 2 and refuse the others with ErrBusy, which is not
// an ErrConflict. The claims are spread over stores, which must share one backend (empty);
// passing stores with clients of their own checks the cap across processes.
func ClaimCap(t *testing.T, stores ...Stores) {
	const n, maxRunning = 10, 2
	ctx := context.Background()
	capCluster(t, stores[0], "prod", maxRunning)
	for i := range n {
		mustCreate(t, stores[0], newTask(fmt.Sprintf("cap%02d", i), i, "prod", "web", fmt.Sprintf("t%02d", i)))
	}
	svcs := make([]*merge.Service, len(stores))
	for i, s := range stores {
		svcs[i] = merge.NewService(s.Tasks, s.Clusters).WithClock(func() time.Time { return at(100) })
	}
	errs := parallel(n, func(i int) error {
		_, err := svcs[i%len(svcs)].Claim(ctx, fmt.Sprintf("cap%02d", i), fmt.Sprintf("worker-%d", i), time.Minute)
		return err
	})
	started := 0
	for i, err := range errs {
		switch {
		case err == nil:
			started++
		case !errors.Is(err, merge.ErrBusy) || errors.Is(err, merge.ErrConflict):
			t.Errorf("claim %d: got %v, want nil or ErrBusy (and not ErrConflict)", i, err)
		}
	}
	page, err := stores[0].Tasks.ListTasks(ctx, merge.TaskFilter{Status: merge.StatusRunning, ClusterID: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if started != maxRunning || len(page.Tasks) != maxRunning {
		t.Errorf("%d concurrent claims under a cap of %d: %d succeeded and %d tasks run", n, maxRunning, started, len(page.Tasks))
	}
}

// testClaimCapSlots follows the slots of a cluster with a cap of 2 through finishing,
// expiry, takeover and requeue, beside a cluster of its own cap.
func testClaimCapSlots(t *testing.T, s Stores) {
	ctx := context.Background()
	capCluster(t, s, "prod", 2)
	capCluster(t, s, "dev", 1)
	for i := range 6 {
		mustCreate(t, s, newTask(fmt.Sprintf("p%d", i), i, "prod", "web", fmt.Sprintf("t%d", i)))
	}
	mustCreate(t, s, newTask("d0", 10, "dev", "web", "t0"), newTask("d1", 11, "dev", "web", "t1"))
	now := at(100)
	svc := merge.NewService(s.Tasks, s.Clusters).WithClock(func() time.Time { return now })
	claim := func(id, owner string, want error) {
		t.Helper()
		_, err := svc.Claim(ctx, id, owner, time.Minute)
		if (want == nil) != (err == nil) || (want != nil && !errors.Is(err, want)) {
			t.Fatalf("claim %s by %s: got %v, want %v", id, owner, err, want)
		}
	}
	claim("p0", "w0", nil)
	claim("p1", "w1", nil)
	claim("p2", "w2", merge.ErrBusy)
	// Another cluster has slots of its own.
	claim("d0", "w0", nil)
	claim("d1", "w1", merge.ErrBusy)
	// The owner claiming again keeps its slot and needs no other.
	claim("p1", "w1", nil)

	if _, err := svc.Finish(ctx, "p0", "w0", merge.StatusSuccess, merge.Stats{}, ""); err != nil {
		t.Fatal(err)
	}
	claim("p2", "w2", nil)
	claim("p3", "w3", merge.ErrBusy)

	// An expired lease still holds its slot, and a takeover needs none.
	now = now.Add(2 * time.Minute)
	claim("p3", "w3", merge.ErrBusy)
	claim("p1", "w9", nil)
	claim("p3", "w3", merge.ErrBusy)

	// Requeueing the expired tasks (p2 and d0) frees their slots; failing one frees another.
	n, err := svc.RequeueExpired(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RequeueExpired: %d, %v; want 2", n, err)
	}
	claim("p3", "w3", nil)
	claim("p4", "w4", merge.ErrBusy)
	if _, err := svc.Finish(ctx, "p3", "w3", merge.StatusFailed, merge.Stats{}, "boom"); err != nil {
		t.Fatal(err)
	}
	claim("p2", "w2", nil)
	claim("p4", "w4", merge.ErrBusy)

	// A cluster that is gone gets the default cap.
	claim("d0", "w0", nil)
	claim("d1", "w1", merge.ErrBusy)
	if err := s.Clusters.DeleteCluster(ctx, "dev"); err != nil {
		t.Fatal(err)
	}
	claim("d1", "w1", nil)
}

// testClaimCapInvalid checks that a store refuses a claim without a cap.
func testClaimCapInvalid(t *testing.T, s Stores) {
	mustCreate(t, s, newTask("nocap", 0, "prod", "web", "events"))
	_, err := s.Tasks.ClaimTask(context.Background(), "nocap", 0, func(task *merge.Task) error {
		task.Status = merge.StatusRunning
		return nil
	})
	wantErr(t, "ClaimTask with cap 0", err, merge.ErrInvalid)
}

// fixture stores a varied set of tasks for listing tests and returns them.
func fixture(t *testing.T, s Stores) []*merge.Task {
	var tasks []*merge.Task
	clusters, dbs, tables := []string{"prod", "dev"}, []string{"web", "app"}, []string{"events", "clicks"}
	i := 0
	for _, cl := range clusters {
		for _, db := range dbs {
			for _, tbl := range tables {
				for k, st := range merge.Statuses {
					// Partitions keep the active tasks of one table apart.
					task := newTask(fmt.Sprintf("f%03d", i), (i*7)%41, cl, db, tbl, spec("dt", fmt.Sprint(k)))
					task.Status = st
					tasks = append(tasks, task)
					i++
				}
			}
		}
	}
	mustCreate(t, s, tasks...)
	return tasks
}

// newestFirst sorts like ListTasks must: CreatedAt then ID, both descending.
func newestFirst(tasks []*merge.Task) {
	sort.Slice(tasks, func(i, j int) bool {
		a, b := tasks[i], tasks[j]
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.After(b.CreatedAt)
		}
		return a.ID > b.ID
	})
}

func ids(tasks []*merge.Task) []string {
	out := make([]string, len(tasks))
	for i, t := range tasks {
		out[i] = t.ID
	}
	return out
}

// listAll follows page tokens to the end.
func listAll(t *testing.T, s Stores, f merge.TaskFilter) []*merge.Task {
	t.Helper()
	var all []*merge.Task
	for range 1000 {
		page, err := s.Tasks.ListTasks(context.Background(), f)
		if err != nil {
			t.Fatalf("ListTasks(%+v): %v", f, err)
		}
		if f.Limit > 0 && len(page.Tasks) > f.Limit {
			t.Fatalf("ListTasks returned %d tasks, limit %d", len(page.Tasks), f.Limit)
		}
		all = append(all, page.Tasks...)
		if page.NextPageToken == "" {
			return all
		}
		if len(page.Tasks) == 0 {
			t.Fatalf("ListTasks returned an empty page with a next page token")
		}
		f.PageToken = page.NextPageToken
	}
	t.Fatal("ListTasks never stopped returning page tokens")
	return nil
}

func testListFilters(t *testing.T, s Stores) {
	tasks := fixture(t, s)
	filters := []struct {
		name string
		f    merge.TaskFilter
	}{
		{"none", merge.TaskFilter{}},
		{"status", merge.TaskFilter{Status: merge.StatusRunning}},
		{"cluster", merge.TaskFilter{ClusterID: "dev"}},
		{"database", merge.TaskFilter{Database: "app"}},
		{"table", merge.TaskFilter{Table: "clicks"}},
		{"status and cluster", merge.TaskFilter{Status: merge.StatusPending, ClusterID: "prod"}},
		{"database and table", merge.TaskFilter{Database: "web", Table: "events"}},
		{"cluster, database and table", merge.TaskFilter{ClusterID: "prod", Database: "app", Table: "clicks"}},
		{"all four", merge.TaskFilter{Status: merge.StatusFailed, ClusterID: "dev", Database: "web", Table: "events"}},
		{"status and table", merge.TaskFilter{Status: merge.StatusSuccess, Table: "events"}},
		{"no match", merge.TaskFilter{ClusterID: "nope"}},
		{"status without tasks", merge.TaskFilter{Status: merge.StatusRunning, ClusterID: "nope"}},
	}
	for _, c := range filters {
		t.Run(c.name, func(t *testing.T) {
			var want []*merge.Task
			for _, task := range tasks {
				if (c.f.Status == "" || task.Status == c.f.Status) && (c.f.ClusterID == "" || task.ClusterID == c.f.ClusterID) &&
					(c.f.Database == "" || task.Database == c.f.Database) && (c.f.Table == "" || task.Table == c.f.Table) {
					want = append(want, task)
				}
			}
			newestFirst(want)
			f := c.f
			f.Limit = merge.MaxListLimit
			page, err := s.Tasks.ListTasks(context.Background(), f)
			if err != nil {
				t.Fatalf("ListTasks: %v", err)
			}
			if !slices.Equal(ids(page.Tasks), ids(want)) {
				t.Errorf("ListTasks(%+v):\ngot  %v\nwant %v", c.f, ids(page.Tasks), ids(want))
			}
			if page.NextPageToken != "" {
				t.Errorf("a complete listing returned next page token %q", page.NextPageToken)
			}
			if len(want) > 0 {
				sameJSON(t, "first listed task", page.Tasks[0], want[0])
			}
			// Small pages give the same sequence.
			f.Limit = 3
			if got := listAll(t, s, f); !slices.Equal(ids(got), ids(want)) {
				t.Errorf("paged ListTasks(%+v):\ngot  %v\nwant %v", c.f, ids(got), ids(want))
			}
		})
	}
	// A zero limit means the default page size, not an empty page.
	page, err := s.Tasks.ListTasks(context.Background(), merge.TaskFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if want := min(len(tasks), merge.DefaultListLimit); len(page.Tasks) != want {
		t.Errorf("ListTasks without a limit returned %d tasks, want %d", len(page.Tasks), want)
	}
}

func testListOrderTies(t *testing.T, s Stores) {
	var tasks []*merge.Task
	for i, id := range []string{"b", "a", "abc", "ab", "c", "B", "a1"} {
		// Three share a creation time with others, so the ID decides.
		tasks = append(tasks, newTask(id, i%3, "prod", "web", "t_"+strings.ToLower(id)+fmt.Sprint(i)))
	}
	mustCreate(t, s, tasks...)
	want := slices.Clone(tasks)
	newestFirst(want)
	for _, limit := range []int{100, 1, 2} {
		got := listAll(t, s, merge.TaskFilter{Limit: limit})
		if !slices.Equal(ids(got), ids(want)) {
			t.Errorf("limit %d: got %v, want %v", limit, ids(got), ids(want))
		}
	}
}

func testListReflectsUpdates(t *testing.T, s Stores) {
	ctx := context.Background()
	mustCreate(t, s, newTask("l1", 0, "prod", "web", "events"), newTask("l2", 1, "prod", "web", "clicks"))
	if _, err := s.Tasks.UpdateTask(ctx, "l1", func(task *merge.Task) error {
		task.Status = merge.StatusRunning
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		status merge.Status
		want   []string
	}{{merge.StatusPending, []string{"l2"}}, {merge.StatusRunning, []string{"l1"}}} {
		page, err := s.Tasks.ListTasks(ctx, merge.TaskFilter{Status: c.status, ClusterID: "prod", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(page.Tasks), c.want) {
			t.Errorf("status %s: got %v, want %v", c.status, ids(page.Tasks), c.want)
		}
	}
}

func testListPagination(t *testing.T, s Stores) {
	ctx := context.Background()
	var tasks []*merge.Task
	for i := range 23 {
		tasks = append(tasks, newTask(fmt.Sprintf("p%02d", i), i/2, "prod", "web", fmt.Sprintf("t%02d", i)))
	}
	mustCreate(t, s, tasks...)
	newestFirst(tasks)
	for _, limit := range []int{1, 5, 10, 22, 23, 24} {
		got := listAll(t, s, merge.TaskFilter{Limit: limit})
		if !slices.Equal(ids(got), ids(tasks)) {
			t.Errorf("limit %d: got %v, want %v", limit, ids(got), ids(tasks))
		}
	}
	// A store may hand out a token when the last page is exactly full; following it must then
	// give an empty page without another token.
	page, err := s.Tasks.ListTasks(ctx, merge.TaskFilter{Limit: 23})
	if err != nil {
		t.Fatal(err)
	}
	if page.NextPageToken != "" {
		next, err := s.Tasks.ListTasks(ctx, merge.TaskFilter{Limit: 23, PageToken: page.NextPageToken})
		if err != nil || len(next.Tasks) != 0 || next.NextPageToken != "" {
			t.Errorf("page after the last: %v %v", next, err)
		}
	}
}

func testListPaginationWhileInserting(t *testing.T, s Stores) {
	ctx := context.Background()
	var original []*merge.Task
	for i := range 20 {
		original = append(original, newTask(fmt.Sprintf("w%02d", i), 100+i, "prod", "web", fmt.Sprintf("t%02d", i)))
	}
	mustCreate(t, s, original...)
	seen := map[string]int{}
	var got []*merge.Task
	f := merge.TaskFilter{Limit: 4, ClusterID: "prod"}
	for page := 0; ; page++ {
		res, err := s.Tasks.ListTasks(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range res.Tasks {
			seen[task.ID]++
		}
		got = append(got, res.Tasks...)
		if res.NextPageToken == "" {
			break
		}
		f.PageToken = res.NextPageToken
		// Between pages, a newer task, an older one and one between the pages arrive.
		mustCreate(t, s,
			newTask(fmt.Sprintf("n%02d", page), 1000+page, "prod", "web", fmt.Sprintf("n%02d", page)),
			newTask(fmt.Sprintf("o%02d", page), page, "prod", "web", fmt.Sprintf("o%02d", page)),
			newTask(fmt.Sprintf("m%02d", page), int(res.Tasks[len(res.Tasks)-1].CreatedAt.Sub(base)/time.Second)-1, "prod", "web", fmt.Sprintf("m%02d", page)))
	}
	for _, task := range original {
		if seen[task.ID] != 1 {
			t.Errorf("original task %s listed %d times", task.ID, seen[task.ID])
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("task %s listed %d times", id, n)
		}
	}
	sorted := slices.Clone(got)
	newestFirst(sorted)
	if !slices.Equal(ids(got), ids(sorted)) {
		t.Errorf("listing while inserting is not newest first: %v", ids(got))
	}
}

func testListInvalidPageToken(t *testing.T, s Stores) {
	mustCreate(t, s, newTask("i1", 0, "prod", "web", "events"))
	for _, token := range []string{"!!!", "not-a-token", "AAAA", "eyJ0IjoxfQ", "%%%", strings.Repeat("A", 300), "\x00"} {
		_, err := s.Tasks.ListTasks(context.Background(), merge.TaskFilter{Limit: 10, PageToken: token})
		wantErr(t, fmt.Sprintf("ListTasks with page token %q", token), err, merge.ErrInvalid)
	}
}

func logEntry(i int) merge.LogEntry {
	e := merge.LogEntry{
		Time:    base.Add(time.Duration(i) * time.Millisecond),
		Level:   merge.LevelInfo,
		Step:    "step" + fmt.Sprint(i%3),
		Message: fmt.Sprintf("entry %d", i),
	}
	if i%4 == 0 {
		e.Level, e.SQL, e.DurationMS = merge.LevelWarn, "SELECT COUNT(*) FROM `web`.`events`", int64(i)
	}
	return e
}

func testLogs(t *testing.T, s Stores) {
	ctx := context.Background()
	mustCreate(t, s, newTask("g1", 0, "prod", "web", "events"), newTask("g2", 1, "prod", "web", "clicks"))
	empty, err := s.Tasks.Logs(ctx, "g1", 0, 10)
	if err != nil || len(empty) != 0 {
		t.Fatalf("Logs of a task without logs: %v, %v", empty, err)
	}
	var want []merge.LogEntry
	n := 0
	for _, batch := range []int{1, 5, 0, 14} {
		var entries []merge.LogEntry
		for range batch {
			entries = append(entries, logEntry(n))
			n++
		}
		if err := s.Tasks.AppendLogs(ctx, "g1", entries...); err != nil {
			t.Fatalf("AppendLogs(%d entries): %v", batch, err)
		}
		want = append(want, entries...)
	}
	if err := s.Tasks.AppendLogs(ctx, "g2", logEntry(99)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Tasks.Logs(ctx, "g1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("Logs returned %d entries, want %d", len(got), len(want))
	}
	for i := range got {
		if i > 0 && got[i].Seq <= got[i-1].Seq {
			t.Errorf("Seq not increasing: %d after %d", got[i].Seq, got[i-1].Seq)
		}
		if got[i].Seq <= 0 {
			t.Errorf("Seq %d is not positive", got[i].Seq)
		}
		w := want[i]
		w.Seq = got[i].Seq
		sameJSON(t, fmt.Sprintf("entry %d", i), got[i], w)
	}
	// Paging by Seq.
	var paged []merge.LogEntry
	after := int64(0)
	for {
		page, err := s.Tasks.Logs(ctx, "g1", after, 6)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 6 {
			t.Fatalf("Logs returned %d entries, limit 6", len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].Seq
	}
	sameJSON(t, "paged logs", paged, got)
	mid, err := s.Tasks.Logs(ctx, "g1", got[9].Seq, 3)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "logs after the tenth entry", mid, got[10:13])
	// New entries follow the old ones.
	if err := s.Tasks.AppendLogs(ctx, "g1", logEntry(500)); err != nil {
		t.Fatal(err)
	}
	tail, err := s.Tasks.Logs(ctx, "g1", got[len(got)-1].Seq, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(tail) != 1 || tail[0].Message != "entry 500" {
		t.Errorf("entries after the last: %+v", tail)
	}
	other, err := s.Tasks.Logs(ctx, "g2", 0, 10)
	if err != nil || len(other) != 1 || other[0].Message != "entry 99" {
		t.Errorf("another task's logs: %+v, %v", other, err)
	}
}

func testLogsMany(t *testing.T, s Stores) {
	const total = 5200
	ctx := context.Background()
	mustCreate(t, s, newTask("big", 0, "prod", "web", "events"))
	n := 0
	for _, batch := range []int{1200, 500, 3500} {
		entries := make([]merge.LogEntry, batch)
		for i := range entries {
			entries[i] = logEntry(n)
			// Long SQL text, as a real rewrite statement has.
			entries[i].SQL = strings.Repeat("x", 400)
			n++
		}
		if err := s.Tasks.AppendLogs(ctx, "big", entries...); err != nil {
			t.Fatalf("AppendLogs(%d entries): %v", batch, err)
		}
	}
	var all []merge.LogEntry
	after := int64(0)
	for {
		page, err := s.Tasks.Logs(ctx, "big", after, merge.MaxLogsLimit)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
	if len(all) != total {
		t.Fatalf("read %d entries, want %d", len(all), total)
	}
	for i, e := range all {
		if e.Message != fmt.Sprintf("entry %d", i) || (i > 0 && e.Seq <= all[i-1].Seq) {
			t.Fatalf("entry %d out of order: %+v", i, e)
		}
	}
}

func testLogsConcurrentAppenders(t *testing.T, s Stores) {
	const writers, each = 8, 5
	ctx := context.Background()
	mustCreate(t, s, newTask("cl", 0, "prod", "web", "events"))
	errs := parallel(writers, func(w int) error {
		for i := range each {
			e := logEntry(i)
			e.Message = fmt.Sprintf("w%d-%d", w, i)
			if err := s.Tasks.AppendLogs(ctx, "cl", e, e); err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	got, err := s.Tasks.Logs(ctx, "cl", 0, merge.MaxLogsLimit)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2*writers*each {
		t.Fatalf("got %d entries, want %d", len(got), 2*writers*each)
	}
	next := map[int]int{}
	for i, e := range got {
		if i > 0 && e.Seq <= got[i-1].Seq {
			t.Fatalf("Seq not increasing at %d: %d after %d", i, e.Seq, got[i-1].Seq)
		}
		// Each writer's entries keep their order, and both copies of one call are adjacent.
		var w, k int
		if _, err := fmt.Sscanf(e.Message, "w%d-%d", &w, &k); err != nil {
			t.Fatal(err)
		}
		if want := next[w] / 2; k != want {
			t.Errorf("writer %d: entry %d where %d was expected", w, k, want)
		}
		next[w]++
	}
}

func testLogsNotFound(t *testing.T, s Stores) {
	ctx := context.Background()
	wantErr(t, "AppendLogs(missing)", s.Tasks.AppendLogs(ctx, "missing", logEntry(0)), merge.ErrNotFound)
	_, err := s.Tasks.Logs(ctx, "missing", 0, 10)
	wantErr(t, "Logs(missing)", err, merge.ErrNotFound)
}

func testStats(t *testing.T, s Stores) {
	ctx := context.Background()
	st, err := s.Tasks.TaskStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != 0 || st.FilesSaved != 0 || st.BytesSaved != 0 {
		t.Errorf("empty store stats: %+v", st)
	}
	for _, status := range merge.Statuses {
		if st.ByStatus[status] != 0 {
			t.Errorf("empty store: %s = %d", status, st.ByStatus[status])
		}
	}
	mk := func(id string, status merge.Status, s merge.Stats) *merge.Task {
		task := newTask(id, 0, "prod", "web", "t_"+id)
		task.Status, task.Stats = status, s
		return task
	}
	mustCreate(t, s,
		mk("s1", merge.StatusSuccess, merge.Stats{FilesBefore: 100, FilesAfter: 10, BytesBefore: 1000, BytesAfter: 900}),
		mk("s2", merge.StatusSuccess, merge.Stats{FilesBefore: 5, FilesAfter: 1, BytesBefore: 10 << 30, BytesAfter: 1 << 30}),
		// More files or bytes afterwards saves nothing rather than a negative amount.
		mk("s3", merge.StatusSuccess, merge.Stats{FilesBefore: 1, FilesAfter: 3, BytesBefore: 10, BytesAfter: 20}),
		// A failed task counts what it measured.
		mk("s4", merge.StatusFailed, merge.Stats{FilesBefore: 10, FilesAfter: 4, BytesBefore: 100, BytesAfter: 50}),
		mk("s5", merge.StatusCancelled, merge.Stats{}),
		// Work in progress does not count yet.
		mk("s6", merge.StatusRunning, merge.Stats{FilesBefore: 1000, FilesAfter: 1, BytesBefore: 1000, BytesAfter: 1}),
		mk("s7", merge.StatusPending, merge.Stats{}),
		mk("s8", merge.StatusPending, merge.Stats{}),
	)
	want := merge.TaskStats{
		Total: 8,
		ByStatus: map[merge.Status]int64{merge.StatusPending: 2, merge.StatusRunning: 1, merge.StatusSuccess: 3,
			merge.StatusFailed: 1, merge.StatusCancelled: 1},
		FilesSaved: 90 + 4 + 6,
		BytesSaved: 100 + 9<<30 + 50,
	}
	st, err = s.Tasks.TaskStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "stats", st, want)

	// Finishing the running task moves it and adds its savings; a failed update changes nothing.
	if _, err := s.Tasks.UpdateTask(ctx, "s6", func(task *merge.Task) error {
		task.Status = merge.StatusSuccess
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tasks.UpdateTask(ctx, "s7", func(task *merge.Task) error {
		task.Status = merge.StatusSuccess
		task.Stats.FilesBefore = 1 << 40
		return errStop
	}); !errors.Is(err, errStop) {
		t.Fatalf("UpdateTask: %v", err)
	}
	want.ByStatus[merge.StatusRunning]--
	want.ByStatus[merge.StatusSuccess]++
	want.FilesSaved += 999
	want.BytesSaved += 999
	st, err = s.Tasks.TaskStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "stats after finishing a task", st, want)
}

func cluster(id string) *merge.Cluster {
	return &merge.Cluster{
		ID: id, Name: "Cluster " + id, Host: id + ".example.internal", Port: 10000,
		Transport: merge.TransportBinary, Auth: merge.AuthLDAP, TLS: true,
		Username: "hive", PasswordRef: "env:HIVE_PASSWORD", FSDefault: "hdfs://nn:8020",
		MaxRunningTasks: 3, CreatedAt: base, UpdatedAt: base.Add(time.Hour),
	}
}

func testClusters(t *testing.T, s Stores) {
	ctx := context.Background()
	list, err := s.Clusters.ListClusters(ctx)
	if err != nil || len(list) != 0 {
		t.Fatalf("ListClusters on an empty store: %v, %v", list, err)
	}
	for _, id := range []string{"prod", "dev", "zeta", "alpha"} {
		if err := s.Clusters.CreateCluster(ctx, cluster(id)); err != nil {
			t.Fatalf("CreateCluster(%s): %v", id, err)
		}
	}
	got, err := s.Clusters.GetCluster(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "GetCluster", got, cluster("prod"))
	list, err = s.Clusters.ListClusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range list {
		names = append(names, c.ID)
	}
	if want := []string{"alpha", "dev", "prod", "zeta"}; !slices.Equal(names, want) {
		t.Errorf("ListClusters: got %v, want %v", names, want)
	}
	upd := cluster("dev")
	upd.Host, upd.Auth, upd.Username, upd.PasswordRef, upd.TLS = "10.0.0.5", merge.AuthNone, "", "", false
	upd.UpdatedAt = base.Add(2 * time.Hour)
	if err := s.Clusters.UpdateCluster(ctx, upd); err != nil {
		t.Fatal(err)
	}
	got, err = s.Clusters.GetCluster(ctx, "dev")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "cluster after update", got, upd)
	if err := s.Clusters.DeleteCluster(ctx, "dev"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Clusters.GetCluster(ctx, "dev")
	wantErr(t, "GetCluster after delete", err, merge.ErrNotFound)
	// A deleted ID can be registered again.
	if err := s.Clusters.CreateCluster(ctx, cluster("dev")); err != nil {
		t.Errorf("re-create after delete: %v", err)
	}
}

func testClusterErrors(t *testing.T, s Stores) {
	ctx := context.Background()
	if err := s.Clusters.CreateCluster(ctx, cluster("prod")); err != nil {
		t.Fatal(err)
	}
	dup := cluster("prod")
	dup.Host = "other"
	wantErr(t, "CreateCluster duplicate", s.Clusters.CreateCluster(ctx, dup), merge.ErrConflict)
	got, err := s.Clusters.GetCluster(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if got.Host != cluster("prod").Host {
		t.Errorf("duplicate create replaced the cluster: %+v", got)
	}
	_, err = s.Clusters.GetCluster(ctx, "missing")
	wantErr(t, "GetCluster(missing)", err, merge.ErrNotFound)
	wantErr(t, "UpdateCluster(missing)", s.Clusters.UpdateCluster(ctx, cluster("missing")), merge.ErrNotFound)
	wantErr(t, "DeleteCluster(missing)", s.Clusters.DeleteCluster(ctx, "missing"), merge.ErrNotFound)
	if _, err := s.Clusters.GetCluster(ctx, "missing"); !errors.Is(err, merge.ErrNotFound) {
		t.Errorf("UpdateCluster(missing) created it: %v", err)
	}
}
