package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/localfs"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/hiveql"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
)

// benchEnv is a sandbox with a bolt task store and an executor at its production defaults
// (lease, renewal), as a worker runs it; the store's writes and the executor's file snapshots
// are timed.
type benchEnv struct {
	*sandbox
	svc   *merge.Service
	ex    *engine.Executor
	store *timedStore
	snaps *timedSnapshots
}

// timedStore is the bolt store, with the time spent in its write transactions (each one
// fsync) added up; it is a merge.LoggingStore, as the bolt store is.
type timedStore struct {
	*bolt.Store
	mu     sync.Mutex // lease renewals write from their own goroutine
	writes int
	spent  time.Duration
}

func (s *timedStore) UpdateTask(ctx context.Context, id string, fn func(*merge.Task) error) (*merge.Task, error) {
	defer s.time(time.Now())
	return s.Store.UpdateTask(ctx, id, fn)
}

func (s *timedStore) UpdateTaskLogs(ctx context.Context, id string, fn func(*merge.Task) error, entries ...merge.LogEntry) (*merge.Task, error) {
	defer s.time(time.Now())
	return s.Store.UpdateTaskLogs(ctx, id, fn, entries...)
}

func (s *timedStore) AppendLogs(ctx context.Context, id string, entries ...merge.LogEntry) error {
	defer s.time(time.Now())
	return s.Store.AppendLogs(ctx, id, entries...)
}

func (s *timedStore) time(start time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	s.spent += time.Since(start)
}

// take returns the writes and time added up since the last take.
func (s *timedStore) take() (int, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, d := s.writes, s.spent
	s.writes, s.spent = 0, 0
	return n, d
}

// timedSnapshots is engine.FileSnapshots with the time of its listings added up.
type timedSnapshots struct {
	engine.FileSnapshots
	spent time.Duration
}

func (s *timedSnapshots) Take(ctx context.Context, fs fsys.FS, dir string) (*engine.Snapshot, error) {
	defer func(start time.Time) { s.spent += time.Since(start) }(time.Now())
	return s.FileSnapshots.Take(ctx, fs, dir)
}

func (s *timedSnapshots) Changed(ctx context.Context, fs fsys.FS, dir string, snap *engine.Snapshot) (engine.Diff, error) {
	defer func(start time.Time) { s.spent += time.Since(start) }(time.Now())
	return s.FileSnapshots.Changed(ctx, fs, dir, snap)
}

func (s *timedSnapshots) CarryOver(ctx context.Context, fs fsys.FS, snap *engine.Snapshot, oldDir, newDir string) ([]string, error) {
	defer func(start time.Time) { s.spent += time.Since(start) }(time.Now())
	return s.FileSnapshots.CarryOver(ctx, fs, snap, oldDir, newDir)
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	sb := startSandbox(b)
	bs, err := bolt.Open(filepath.Join(b.TempDir(), "tasks.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bs.Close() })
	st := &timedStore{Store: bs}
	svc := merge.NewService(st, bs)
	if _, err := svc.CreateCluster(context.Background(), merge.Cluster{ID: "sandbox", Host: "127.0.0.1"}); err != nil {
		b.Fatal(err)
	}
	files := fsys.NewResolver(map[string]fsys.Opener{"file": localfs.Opener()})
	b.Cleanup(func() { files.Close() })
	// The sandbox compacts at once; a cluster's compactor takes minutes, hence the default
	// poll of 10s, which here would only measure sleeping.
	snaps := &timedSnapshots{}
	ex := &engine.Executor{Tasks: svc, Planner: sb.planner, Hive: sb.client, Files: files, Snapshots: snaps, CompactionPoll: 20 * time.Millisecond}
	return &benchEnv{sandbox: sb, svc: svc, ex: ex, store: st, snaps: snaps}
}

func (e *benchEnv) task(b *testing.B, db, table string, s merge.Strategy, size int64) *merge.Task {
	b.Helper()
	t, err := e.svc.CreateTask(context.Background(), merge.CreateTaskRequest{
		ClusterID: "sandbox", Name: "merge " + db + "." + table, Database: db, Table: table,
		Strategy: s, TargetFileSize: size, CreatedBy: "bench",
	})
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// smallFiles creates m.<table>, partitioned by dt, with one partition of n files of two rows
// each, written straight into its directory as a writer outside Hive would.
func (e *benchEnv) smallFiles(b *testing.B, table string, n int) {
	b.Helper()
	e.exec(b,
		"CREATE TABLE m."+table+" (id bigint, msg string) PARTITIONED BY (dt string) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' STORED AS TEXTFILE",
		"ALTER TABLE m."+table+" ADD PARTITION (dt='2024-01-01')")
	l, err := fsys.ParseLocation(e.location(b, table))
	if err != nil {
		b.Fatal(err)
	}
	dir := l.Path
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		name := "000000_0"
		if i > 0 {
			name += "_copy_" + strconv.Itoa(i)
		}
		data := fmt.Sprintf("%d|value-%d\n%d|value-%d\n", 2*i, 2*i, 2*i+1, 2*i+1)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSafeMerge2000Files measures a whole safe merge of one partition of 2,000 small
// files: Executor.Run over a bolt store and the sandbox through gohive, from the claim and
// the plan to the dropped staging table. Beside it, in the same run and on a twin partition,
// the baseline sends the preview's statements for that partition (the merge settings, the
// staging table and partition, the INSERT OVERWRITE, both checksums, the swap, ANALYZE and
// the drop) straight through the client on one session, with nothing else. Each iteration
// builds both partitions afresh outside the timer; ns/op is the engine's. Two parts of the
// engine's extra time are reported on their own: the task store's write transactions (the
// claim, checkpoints, log lines and the finish, each one fsync) and the file snapshots that
// guard the swap against concurrent writers.
//
//	go test -run '^$' -bench SafeMerge2000 -benchtime=5x ./shared/engine/
//
// HIVEMERGE_BENCH_MERGE_FILES changes the number of files.
func BenchmarkSafeMerge2000Files(b *testing.B) {
	n := envInt(b, "HIVEMERGE_BENCH_MERGE_FILES", 2000)
	e := newBenchEnv(b)
	ctx := context.Background()
	e.exec(b, "CREATE DATABASE m")
	var engineTime, baseTime, storeTime, snapTime time.Duration
	var storeWrites int
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		eng, base := fmt.Sprintf("eng_%d", i), fmt.Sprintf("base_%d", i)
		e.smallFiles(b, eng, n)
		e.smallFiles(b, base, n)
		task := e.task(b, "m", eng, merge.StrategySafeMerge, merge.MinTargetFileSize)
		pv, err := e.planner.Preview(ctx, engine.Request{TaskID: "base" + strconv.Itoa(i), Database: "m", Table: base, Strategy: merge.StrategySafeMerge, TargetFileSize: merge.MinTargetFileSize})
		if err != nil {
			b.Fatal(err)
		}
		if len(pv.Partitions) != 1 || pv.Partitions[0].Skipped {
			b.Fatalf("preview %+v", pv.Partitions)
		}
		stmts := pv.Partitions[0].Statements

		e.store.take()
		e.snaps.spent = 0
		start := time.Now()
		b.StartTimer()
		got, err := e.ex.Run(ctx, task.ID, "bench")
		b.StopTimer()
		engineTime += time.Since(start)
		writes, spent := e.store.take()
		storeWrites, storeTime, snapTime = storeWrites+writes, storeTime+spent, snapTime+e.snaps.spent
		if err != nil || got.Status != merge.StatusSuccess || got.Stats.FilesBefore != int64(n) || got.Stats.FilesAfter != 1 {
			b.Fatalf("run: %v, task %+v", err, got)
		}

		start = time.Now()
		runStatements(b, e, stmts)
		baseTime += time.Since(start)
		if files, _ := walk(b, e.location(b, base)); files != 1 {
			b.Fatalf("baseline left %d files", files)
		}
		// Keep the warehouse the same size from one iteration to the next.
		e.exec(b, "DROP TABLE m."+eng, "DROP TABLE m."+base)
		b.StartTimer()
	}
	b.ReportMetric(float64(engineTime.Milliseconds())/float64(i), "engine-ms/op")
	b.ReportMetric(float64(baseTime.Milliseconds())/float64(i), "baseline-ms/op")
	b.ReportMetric(float64(engineTime)/float64(baseTime), "engine/baseline")
	b.ReportMetric(float64(storeWrites)/float64(i), "store-writes/op")
	b.ReportMetric(float64(storeTime.Milliseconds())/float64(i), "store-ms/op")
	b.ReportMetric(float64(snapTime.Milliseconds())/float64(i), "snapshot-ms/op")
}

// runStatements sends a preview's statements as they are, on one session so that the merge
// settings apply to the INSERT; the checksum queries' rows are read.
func runStatements(b *testing.B, e *benchEnv, stmts []string) {
	b.Helper()
	ctx := context.Background()
	sess, err := e.client.Session(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	for _, s := range stmts {
		if strings.HasPrefix(s, "SELECT") {
			res, err := sess.Query(ctx, s, nil)
			if err != nil {
				b.Fatalf("%s: %v", s, err)
			}
			if len(res.Strings()) != 1 {
				b.Fatalf("%s: %d rows", s, len(res.Strings()))
			}
			continue
		}
		if err := sess.Exec(ctx, s, nil); err != nil {
			b.Fatalf("%s: %v", s, err)
		}
	}
}

// location is where partition dt=2024-01-01 of m.<table> points.
func (e *benchEnv) location(b *testing.B, table string) string {
	b.Helper()
	ctx := context.Background()
	src := hql.Table{Database: "m", Name: table}
	tb, err := e.client.DescribeTable(ctx, src)
	if err != nil {
		b.Fatal(err)
	}
	spec, err := tb.Spec(merge.PartitionSpec{"dt": "2024-01-01"})
	if err != nil {
		b.Fatal(err)
	}
	d, err := e.client.DescribePartition(ctx, src, spec)
	if err != nil {
		b.Fatal(err)
	}
	return d.Location
}

func envInt(b *testing.B, name string, def int) int {
	b.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// tableResult is what merging one table of the demo warehouse did.
type tableResult struct {
	name          string
	before, after map[string]int64 // data files at the live location of each partition
	merged        []string         // the partitions merged
	outcome, note string
}

// sum adds up the files of the partitions named, or of all of them when none is.
func sum(files map[string]int64, names []string) int64 {
	var n int64
	if names == nil {
		for _, f := range files {
			n += f
		}
	}
	for _, p := range names {
		n += files[p]
	}
	return n
}

// BenchmarkDemoWarehouseReduction generates the demo warehouse (every database, every table
// kind), runs one auto-strategy task per table through the executor, and counts the data files
// at the locations the tables and partitions point at before and after: the backups a safe
// merge keeps are not counted. It reports the files of the whole warehouse before and after,
// the reduction over the tables that were merged and over the partitions merged, and logs each
// table's outcome (merged, skipped as healthy, refused, failed). The timer covers the runs
// only; every iteration starts from a freshly generated warehouse.
//
//	go test -run '^$' -bench DemoWarehouse -benchtime=1x -v ./shared/engine/
//
// HIVEMERGE_BENCH_DEMO_SCALE is the demo's scale in percent (default 10: about 3,100 files in
// 1,650 partitions; 100 is the demo's own size).
func BenchmarkDemoWarehouseReduction(b *testing.B) {
	scale := envInt(b, "HIVEMERGE_BENCH_DEMO_SCALE", 10)
	ctx := context.Background()
	var results []tableResult
	var generated hiveql.GenerateReport
	for b.Loop() {
		b.StopTimer()
		e := newBenchEnv(b)
		rep, err := hiveql.Generate(ctx, e.srv.Warehouse(), hiveql.GenerateOptions{Seed: 1, Scale: scale})
		if err != nil {
			b.Fatal(err)
		}
		generated = rep
		results = results[:0]
		var tasks []*merge.Task
		tables := e.tables(b)
		for _, t := range tables {
			db, name, _ := strings.Cut(t, ".")
			results = append(results, tableResult{name: t, before: e.liveFiles(b, db, name)})
			tasks = append(tasks, e.task(b, db, name, merge.StrategyAuto, 0))
		}
		b.StartTimer()
		for i, task := range tasks {
			got, err := e.ex.Run(ctx, task.ID, "bench")
			if err != nil {
				b.Fatalf("%s: %v", results[i].name, err)
			}
			results[i].outcome, results[i].note = outcome(got)
			if got.Checkpoint != nil {
				for _, p := range got.Checkpoint.Partitions {
					if p.Step == merge.StepDone {
						results[i].merged = append(results[i].merged, p.Partition)
					}
				}
			}
		}
		b.StopTimer()
		for i := range results {
			db, name, _ := strings.Cut(results[i].name, ".")
			results[i].after = e.liveFiles(b, db, name)
		}
		if after := e.tables(b); len(after) != len(tables) {
			b.Fatalf("tables before the merges %v, after %v", tables, after)
		}
		// Nor any staging table's directory.
		err = filepath.WalkDir(e.srv.Dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() && strings.HasPrefix(d.Name(), ".hivemerge_") {
				err = fmt.Errorf("a staging table's directory is left: %s", p)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	var before, after, tablesBefore, tablesAfter, partsBefore, partsAfter int64
	var parts int
	for _, r := range results {
		merged := "-"
		if len(r.merged) > 0 {
			merged = fmt.Sprintf("%d -> %d", sum(r.before, r.merged), sum(r.after, r.merged))
		}
		b.Logf("%-22s %-8s %5d -> %5d files (merged partitions: %s)  %s", r.name, r.outcome, sum(r.before, nil), sum(r.after, nil), merged, r.note)
		before += sum(r.before, nil)
		after += sum(r.after, nil)
		if len(r.merged) > 0 {
			tablesBefore += sum(r.before, nil)
			tablesAfter += sum(r.after, nil)
			partsBefore += sum(r.before, r.merged)
			partsAfter += sum(r.after, r.merged)
			parts += len(r.merged)
		}
	}
	b.Logf("generated: %s", generated)
	b.ReportMetric(float64(before), "files-before")
	b.ReportMetric(float64(after), "files-after")
	b.ReportMetric(float64(parts), "partitions-merged")
	b.ReportMetric(100*(1-float64(after)/float64(before)), "%reduction-all")
	if tablesBefore > 0 {
		b.ReportMetric(100*(1-float64(tablesAfter)/float64(tablesBefore)), "%reduction-merged-tables")
		b.ReportMetric(100*(1-float64(partsAfter)/float64(partsBefore)), "%reduction-merged-partitions")
	}
}

// outcome classifies a finished task: merged (some partition merged), skipped (nothing needed
// merging), refused (the table is one hivemerge will not merge) or failed; the note says how
// or why.
func outcome(t *merge.Task) (string, string) {
	var done, skipped int
	rules := map[string]int{}
	if t.Checkpoint != nil {
		for _, p := range t.Checkpoint.Partitions {
			switch p.Step {
			case merge.StepDone:
				done++
			case merge.StepSkipped:
				skipped++
				rules[p.Rule]++
			}
		}
	}
	switch {
	case t.Status != merge.StatusSuccess && t.Checkpoint == nil:
		return "refused", t.Error
	case t.Status != merge.StatusSuccess:
		return string(t.Status), t.Error
	case done > 0:
		return "merged", fmt.Sprintf("%s: %d partition(s) merged, %d skipped %v", t.Checkpoint.Strategy, done, skipped, rules)
	}
	return "skipped", fmt.Sprintf("%d partition(s) skipped %v", skipped, rules)
}

// tables lists every table of every database as db.table.
func (e *benchEnv) tables(b *testing.B) []string {
	b.Helper()
	ctx := context.Background()
	dbs, err := e.client.Query(ctx, "SHOW DATABASES", nil)
	if err != nil {
		b.Fatal(err)
	}
	var out []string
	for _, d := range dbs.Strings() {
		res, err := e.client.Query(ctx, "SHOW TABLES IN `"+d[0]+"`", nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range res.Strings() {
			out = append(out, d[0]+"."+t[0])
		}
	}
	return out
}

// liveFiles counts the data files at the locations db.table's partitions (or the table, under
// "") point at now, by partition name.
func (e *benchEnv) liveFiles(b *testing.B, db, table string) map[string]int64 {
	b.Helper()
	ctx := context.Background()
	src := hql.Table{Database: db, Name: table}
	tb, err := e.client.DescribeTable(ctx, src)
	if err != nil {
		b.Fatal(err)
	}
	if !tb.Partitioned() {
		n, _ := walk(b, tb.Location)
		return map[string]int64{"": n}
	}
	parts, err := e.client.Partitions(ctx, src, hql.Spec{})
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]int64{}
	for _, p := range parts {
		spec, err := tb.Spec(p.Spec())
		if err != nil {
			b.Fatal(err)
		}
		d, err := e.client.DescribePartition(ctx, src, spec)
		if err != nil {
			b.Fatal(err)
		}
		if l, err := fsys.ParseLocation(d.Location); err == nil {
			if _, err := os.Stat(l.Path); errors.Is(err, os.ErrNotExist) {
				out[p.Name] = 0 // created but never loaded
				continue
			}
		}
		out[p.Name], _ = walk(b, d.Location)
	}
	return out
}
