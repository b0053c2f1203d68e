package discovery_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/discovery"
	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// fixture creates one table per kind the rules tell apart, in database m, and a transactional
// table in database a.
func fixture(t testing.TB) *env {
	t.Helper()
	e := start(t)
	e.exec(t,
		"CREATE DATABASE m",
		"CREATE TABLE m.events (id bigint, msg string) PARTITIONED BY (dt string) STORED AS TEXTFILE",
		"ALTER TABLE m.events ADD PARTITION (dt='2024-01-03') LOCATION 'file://$WAREHOUSE/custom/events_0103'",
		"CREATE TABLE m.multi (id bigint, msg string) PARTITIONED BY (d date, h int) STORED AS TEXTFILE",
		"CREATE TABLE m.flat (id bigint, msg string) STORED AS TEXTFILE",
		"CREATE TABLE m.healthy (id bigint, msg string) STORED AS TEXTFILE",
		"CREATE TABLE m.orc_t (id bigint, msg string) PARTITIONED BY (dt string) STORED AS ORC",
		"CREATE TABLE m.orc_big (id bigint, msg string) STORED AS ORC",
		"CREATE TABLE m.bkt (id bigint, msg string) CLUSTERED BY (id) INTO 2 BUCKETS STORED AS ORC",
		"CREATE TABLE m.ice (id bigint, msg string) STORED AS PARQUET TBLPROPERTIES ('table_type'='ICEBERG')",
		"CREATE DATABASE a",
		"CREATE TABLE a.acid (id bigint, msg string) STORED AS ORC TBLPROPERTIES ('transactional'='true')",
	)
	e.append(t, "m", "events", map[string]string{"dt": "2024-01-01"}, 12)
	e.append(t, "m", "events", map[string]string{"dt": "2024-01-02"}, 3)
	e.append(t, "m", "events", map[string]string{"dt": "2024-01-03"}, 5)
	for _, p := range []map[string]string{{"d": "2024-01-01", "h": "0"}, {"d": "2024-01-01", "h": "13"}, {"d": "2024-01-02", "h": "0"}} {
		e.append(t, "m", "multi", p, 3)
	}
	e.append(t, "m", "flat", nil, 5)
	e.append(t, "m", "healthy", nil, 1)
	e.append(t, "m", "orc_t", map[string]string{"dt": "2024-01-01"}, 6)
	e.append(t, "m", "bkt", nil, 6)
	e.append(t, "m", "ice", nil, 3)
	e.append(t, "a", "acid", nil, 4)
	// Three 20 MB ORC files: large enough for CONCATENATE's stripes to be worth keeping.
	for _, name := range []string{"000000_0", "000001_0", "000002_0"} {
		sparse(t, filepath.Join(e.location(t, "m", "orc_big"), name), 20_000_000)
	}
	// Names Hive skips: a success marker and a writer's hidden staging directory.
	events := e.location(t, "m", "events")
	sparse(t, filepath.Join(events, "dt=2024-01-01/_SUCCESS"), 0)
	sparse(t, filepath.Join(events, "dt=2024-01-01/.hive-staging_1/000000_0"), 10)
	return e
}

var mTables = []string{"bkt", "events", "flat", "healthy", "ice", "multi", "orc_big", "orc_t"}

func scan(t *testing.T, svc *discovery.Service, scope merge.ScanScope) *merge.Scan {
	t.Helper()
	sc, err := svc.Scan(context.Background(), cluster, scope)
	if err != nil {
		t.Fatalf("scan %+v: %v", scope, err)
	}
	if sc.Status != merge.ScanSucceeded || sc.Progress.TablesFailed != 0 {
		t.Fatalf("scan %+v ended %s: %s %+v", scope, sc.Status, sc.Error, sc.Log)
	}
	return sc
}

func TestScanCountsEqualTheFilesOnDisk(t *testing.T) {
	e := fixture(t)
	svc := e.service(t)
	sc := scan(t, svc, merge.ScanScope{})
	if sc.Progress.TablesTotal != int64(len(mTables)+1) || sc.Progress.TablesDone != sc.Progress.TablesTotal {
		t.Errorf("progress %+v, want %d tables done", sc.Progress, len(mTables)+1)
	}
	ctx := context.Background()
	var files int64
	for _, ref := range append([][2]string{{"a", "acid"}}, func() (out [][2]string) {
		for _, n := range mTables {
			out = append(out, [2]string{"m", n})
		}
		return out
	}()...) {
		m, err := e.store.LatestTableMetrics(ctx, cluster, ref[0], ref[1])
		if err != nil {
			t.Fatalf("%s.%s: %v", ref[0], ref[1], err)
		}
		if m.ScanID != sc.ID || m.Source != merge.SourceListing {
			t.Errorf("%s.%s: scan %s, source %s", ref[0], ref[1], m.ScanID, m.Source)
		}
		parts, err := e.store.PartitionMetrics(ctx, cluster, ref[0], ref[1], sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		var sum merge.FileStats
		for _, p := range parts {
			wf, wb := walk(t, p.Location)
			if p.Stats.Files != wf || p.Stats.Bytes != wb || p.Error != "" {
				t.Errorf("%s.%s %q: %d files, %d bytes (%s), a walk finds %d and %d", ref[0], ref[1], p.Partition, p.Stats.Files, p.Stats.Bytes, p.Error, wf, wb)
			}
			sum = sum.Add(p.Stats)
		}
		if m.Stats.Files != sum.Files || m.Stats.Bytes != sum.Bytes || m.Partitions != int64(len(parts)) {
			t.Errorf("%s.%s: table totals %+v, partitions add up to %+v", ref[0], ref[1], m.Stats, sum)
		}
		files += m.Stats.Files
	}
	if sc.Progress.FilesListed != files {
		t.Errorf("progress says %d files listed, the tables hold %d", sc.Progress.FilesListed, files)
	}
	// The layouts the test is about are there: multi-key names and a custom location.
	parts, _ := e.store.PartitionMetrics(ctx, cluster, "m", "multi", sc.ID)
	if len(parts) != 3 || parts[1].Partition != "d=2024-01-01/h=13" {
		t.Errorf("multi partitions: %+v", parts)
	}
	parts, _ = e.store.PartitionMetrics(ctx, cluster, "m", "events", sc.ID)
	if len(parts) != 3 || !strings.Contains(parts[2].Location, "/custom/events_0103") || parts[2].Stats.Files != 5 || parts[0].Stats.Files != 12 {
		t.Errorf("events partitions: %+v", parts)
	}
}

func TestRecommendations(t *testing.T) {
	e := fixture(t)
	svc := e.service(t)
	scan(t, svc, merge.ScanScope{})
	tests := []struct {
		db, table string
		merge     bool
		strategy  merge.Strategy
		rule      string
		why       string
	}{
		{"m", "orc_big", true, merge.StrategyConcatenate, merge.RuleAutoConcatenate, "CONCATENATE"},
		{"m", "orc_t", true, merge.StrategySafeMerge, merge.RuleAutoTinyStripes, "stripes"},
		{"m", "events", true, merge.StrategySafeMerge, merge.RuleAutoRewrite, "text"},
		{"m", "flat", true, merge.StrategySafeMerge, merge.RuleAutoRewrite, "text"},
		{"m", "bkt", true, merge.StrategySafeMerge, merge.RuleAutoRewrite, "bucketed"},
		{"a", "acid", true, merge.StrategyACIDCompact, merge.RuleAutoACID, "compaction"},
		{"m", "healthy", false, "", merge.RuleHealthy, "do not merge"},
		{"m", "ice", false, "", merge.RuleOpenTableFormat, "Iceberg"},
	}
	for _, tc := range tests {
		t.Run(tc.db+"."+tc.table, func(t *testing.T) {
			m, err := e.store.LatestTableMetrics(context.Background(), cluster, tc.db, tc.table)
			if err != nil {
				t.Fatal(err)
			}
			r := m.Recommendation
			if r.Merge != tc.merge || r.Strategy != tc.strategy || r.Rule != tc.rule || !strings.Contains(r.Reason, tc.why) {
				t.Errorf("recommended %+v, want merge=%v %q by %s saying %q", r, tc.merge, tc.strategy, tc.rule, tc.why)
			}
			if len(m.Health.Rules) == 0 {
				t.Error("the score has no rules")
			}
			if tc.merge && m.Health.Score >= 100 || !tc.merge && tc.rule == merge.RuleHealthy && m.Health.Score != 100 {
				t.Errorf("score %d (%q)", m.Health.Score, m.Health.Rules)
			}
		})
	}
}

func TestSecondScanListsNothingUnchanged(t *testing.T) {
	e := fixture(t)
	svc := e.service(t)
	scope := merge.ScanScope{Database: "m"}
	first := scan(t, svc, scope)
	if len(e.files.reset()) == 0 || first.Progress.PartitionsListed == 0 {
		t.Fatal("the first scan listed nothing")
	}
	second := scan(t, svc, scope)
	if lists := e.files.reset(); len(lists) != 0 {
		t.Errorf("an unchanged warehouse was listed again: %q", lists)
	}
	if second.Progress.PartitionsListed != 0 || second.Progress.PartitionsReused != first.Progress.PartitionsListed {
		t.Errorf("second scan: %+v after %+v", second.Progress, first.Progress)
	}
	// Unchanged figures are carried into the new scan's metrics.
	m, err := e.store.LatestTableMetrics(context.Background(), cluster, "m", "events")
	if err != nil || m.ScanID != second.ID || m.Stats.Files != 20 {
		t.Fatalf("events after the second scan: %+v, %v", m, err)
	}

	// One more file in one partition: only that partition is listed.
	e.append(t, "m", "events", map[string]string{"dt": "2024-01-02"}, 1)
	third := scan(t, svc, scope)
	lists := e.files.reset()
	if len(lists) != 1 || !strings.HasSuffix(lists[0], "/m.db/events/dt=2024-01-02") {
		t.Errorf("after changing one partition, listed %q", lists)
	}
	if third.Progress.PartitionsListed != 1 {
		t.Errorf("third scan: %+v", third.Progress)
	}
	parts, err := e.store.PartitionMetrics(context.Background(), cluster, "m", "events", third.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if wf, wb := walk(t, p.Location); p.Stats.Files != wf || p.Stats.Bytes != wb {
			t.Errorf("%s: %d files %d bytes, a walk finds %d and %d", p.Partition, p.Stats.Files, p.Stats.Bytes, wf, wb)
		}
	}
	if h, _ := e.store.TableHistory(context.Background(), cluster, "m", "events", 0); len(h) != 3 || h[0].Stats.Files != 21 || h[2].Stats.Files != 20 {
		t.Errorf("history of events: %d entries", len(h))
	}
}

// A scan makes the filesystem calls the bare scanner makes and no more: a first scan stats and
// lists each partition's location once; a scan that finds nothing changed only stats them.
func TestFilesystemCallsPerPartition(t *testing.T) {
	e := fixture(t)
	svc := e.service(t)
	scope := merge.ScanScope{Database: "m", Table: "multi"}
	locations := func(sc *merge.Scan) []string {
		parts, err := e.store.PartitionMetrics(context.Background(), cluster, "m", "multi", sc.ID)
		if err != nil || len(parts) != 3 {
			t.Fatalf("partitions of multi: %+v, %v", parts, err)
		}
		var out []string
		for _, p := range parts {
			l, err := fsys.ParseLocation(p.Location)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, l.Path)
		}
		return out
	}
	e.files.reset()
	first := scan(t, svc, scope)
	want := locations(first)
	e.files.mu.Lock()
	stats, lists := slices.Sorted(slices.Values(e.files.stats)), slices.Sorted(slices.Values(e.files.lists))
	e.files.mu.Unlock()
	if !slices.Equal(stats, want) || !slices.Equal(lists, want) {
		t.Errorf("first scan: stat %q and listed %q, want each of %q once", stats, lists, want)
	}
	e.files.reset()
	second := scan(t, svc, scope)
	if second.Progress.PartitionsReused != 3 {
		t.Fatalf("second scan: %+v", second.Progress)
	}
	e.files.mu.Lock()
	stats, lists = slices.Sorted(slices.Values(e.files.stats)), e.files.lists
	e.files.mu.Unlock()
	if !slices.Equal(stats, want) || len(lists) != 0 {
		t.Errorf("second scan: stat %q and listed %q, want each of %q stat once and nothing listed", stats, lists, want)
	}
}

func TestScanOneTableAndPartitions(t *testing.T) {
	e := fixture(t)
	svc := e.service(t)
	sc := scan(t, svc, merge.ScanScope{Database: "m", Table: "events", Partitions: []merge.PartitionSpec{{"dt": "2024-01-01"}, {"dt": "2024-01-03"}}})
	if sc.Progress.TablesTotal != 1 || sc.Progress.PartitionsListed != 2 || sc.Progress.FilesListed != 17 {
		t.Errorf("progress %+v", sc.Progress)
	}
	_, err := svc.Scan(context.Background(), cluster, merge.ScanScope{Database: "m", Table: "events", Partitions: []merge.PartitionSpec{{"dt": "x'; DROP"}}})
	if !errors.Is(err, merge.ErrInvalid) {
		t.Errorf("a quote in a partition value: %v", err)
	}
	if _, err := svc.Scan(context.Background(), "nope", merge.ScanScope{}); !errors.Is(err, merge.ErrNotFound) {
		t.Errorf("an unknown cluster: %v", err)
	}
	// A table that does not exist fails that table, not the scan.
	sc, err = svc.Scan(context.Background(), cluster, merge.ScanScope{Database: "m", Table: "missing"})
	if err != nil || sc.Status != merge.ScanSucceeded || sc.Progress.TablesFailed != 1 {
		t.Errorf("scan of a missing table: %+v, %v", sc, err)
	}
}

func TestCancel(t *testing.T) {
	e := fixture(t)
	svc := e.service(t)
	svc.Concurrency = 1
	blocked := make(chan struct{})
	e.files.block, e.files.blocked = "/m.db/multi", blocked
	sc, err := svc.StartScan(context.Background(), cluster, merge.ScanScope{Database: "m"})
	if err != nil {
		t.Fatal(err)
	}
	<-blocked
	if _, err := svc.CancelScan(context.Background(), cluster, sc.ID); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Wait(context.Background(), cluster, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != merge.ScanCancelled || got.Progress.TablesDone >= got.Progress.TablesTotal || !got.CancelRequested {
		t.Errorf("after cancel: %s, %+v", got.Status, got.Progress)
	}
	if _, err := e.store.LatestTableMetrics(context.Background(), cluster, "m", "orc_t"); !errors.Is(err, merge.ErrNotFound) {
		t.Errorf("a table after the cancel was measured: %v", err)
	}
}

func TestResumeAfterRestart(t *testing.T) {
	e := fixture(t)
	ctx := context.Background()
	first := e.service(t)
	first.Concurrency = 1
	blocked := make(chan struct{})
	e.files.block, e.files.blocked = "/m.db/multi", blocked
	sc, err := first.StartScan(ctx, cluster, merge.ScanScope{Database: "m"})
	if err != nil {
		t.Fatal(err)
	}
	<-blocked
	first.Close() // the server stops halfway
	e.files.block = ""
	stopped, err := e.store.GetScan(ctx, cluster, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stopped.Status != merge.ScanRunning || stopped.Progress.TablesDone == 0 {
		t.Fatalf("after the shutdown: %s, %+v", stopped.Status, stopped.Progress)
	}
	e.files.reset()

	second := e.service(t)
	n, err := second.Resume(ctx, "", 0)
	if err != nil || n != 1 {
		t.Fatalf("Resume = %d, %v", n, err)
	}
	done, err := second.Wait(ctx, cluster, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != merge.ScanSucceeded || done.Progress.TablesDone != int64(len(mTables)) {
		t.Errorf("resumed scan: %s %+v %s", done.Status, done.Progress, done.Error)
	}
	for _, dir := range e.files.reset() {
		if strings.Contains(dir, "/m.db/bkt") || strings.Contains(dir, "/m.db/events") {
			t.Errorf("the resumed scan measured again a table done before the restart: %s", dir)
		}
	}
	for _, tb := range mTables {
		if m, err := e.store.LatestTableMetrics(ctx, cluster, "m", tb); err != nil || m.ScanID != sc.ID {
			t.Errorf("m.%s after the resumed scan: %v", tb, err)
		}
	}
}

func TestAbandonedScanIsReportedInterrupted(t *testing.T) {
	e := fixture(t)
	ctx := context.Background()
	first := e.service(t)
	blocked := make(chan struct{})
	e.files.block, e.files.blocked = "/m.db/flat", blocked
	sc, err := first.StartScan(ctx, cluster, merge.ScanScope{Database: "m", Table: "flat"})
	if err != nil {
		t.Fatal(err)
	}
	<-blocked
	first.Close()
	// Another process, past the lease, finds it silent.
	later := e.service(t)
	later.Now = func() time.Time { return time.Now().Add(2*time.Hour + discovery.DefaultLease + time.Minute) }
	got, err := later.GetScan(ctx, cluster, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != merge.ScanInterrupted || got.FinishedAt.IsZero() || !slices.ContainsFunc(got.Log, func(l merge.ScanLogEntry) bool { return strings.Contains(l.Message, "stopped") }) {
		t.Errorf("abandoned scan: %s %+v", got.Status, got.Log)
	}
	// The status is kept: the first process reads it too.
	if got, _ := first.GetScan(ctx, cluster, sc.ID); got.Status != merge.ScanInterrupted {
		t.Errorf("the interrupted status was not kept: %s", got.Status)
	}
}

// Without a filesystem for the warehouse's scheme, a scan asks Hive (SHOW TABLE EXTENDED) and
// says so. Hive's live counts match the disk for plain partitions; they also count marker
// files such as _SUCCESS (Hive lists the directory unfiltered), which is why a listing is
// preferred.
func TestScanWithoutFilesystemAsksHive(t *testing.T) {
	e := fixture(t)
	svc := e.service(t)
	e.files.res = fsys.NewResolver(nil)
	sc := scan(t, svc, merge.ScanScope{Database: "m", Table: "multi"})
	if sc.Progress.PartitionsMetastore != 3 || sc.Progress.PartitionsListed != 0 {
		t.Errorf("progress %+v", sc.Progress)
	}
	m, err := e.store.LatestTableMetrics(context.Background(), cluster, "m", "multi")
	if err != nil {
		t.Fatal(err)
	}
	if m.Source != merge.SourceMetastore || m.Stats.Files != 9 {
		t.Errorf("multi from Hive: source %s, %d files", m.Source, m.Stats.Files)
	}
	parts, _ := e.store.PartitionMetrics(context.Background(), cluster, "m", "multi", sc.ID)
	for _, p := range parts {
		if wf, wb := walk(t, p.Location); p.Source != merge.SourceMetastore || p.Stats.Files != wf || p.Stats.Bytes != wb {
			t.Errorf("%s: %s %d files %d bytes, a walk finds %d and %d", p.Partition, p.Source, p.Stats.Files, p.Stats.Bytes, wf, wb)
		}
	}
}

// records keeps the messages logged at WARN and above.
type records struct {
	mu   sync.Mutex
	msgs []string
}

func (r *records) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Message)
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

func TestGrowthAlert(t *testing.T) {
	e := fixture(t)
	svc := e.service(t)
	logs := &records{}
	svc.Logger = slog.New(logs)
	svc.GrowthAlertPerDay = 50
	scope := merge.ScanScope{Database: "m", Table: "events"}
	scan(t, svc, scope)
	// Five new small files between scans taken as an hour apart: 120 a day.
	e.append(t, "m", "events", map[string]string{"dt": "2024-01-02"}, 5)
	second := scan(t, svc, scope)
	e.append(t, "m", "events", map[string]string{"dt": "2024-01-02"}, 5)
	scan(t, svc, scope)

	m, err := e.store.LatestTableMetrics(context.Background(), cluster, "m", "events")
	if err != nil {
		t.Fatal(err)
	}
	if m.Growth == nil || !m.Growth.Alert || m.Growth.Crossed || m.Growth.SmallFiles != 30 || m.Growth.SmallFilesBefore != 25 {
		t.Errorf("growth after the third scan: %+v", m.Growth)
	}
	if n := slices.Index(logs.msgs, "small files growing"); n < 0 || slices.Contains(logs.msgs[n+1:], "small files growing") {
		t.Errorf("the crossing was not logged exactly once: %q", logs.msgs)
	}
	if !slices.ContainsFunc(second.Log, func(l merge.ScanLogEntry) bool { return strings.Contains(l.Message, "growth alert") }) {
		t.Errorf("the scan log does not say so: %+v", second.Log)
	}
	sum, err := svc.Summary(context.Background(), cluster)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Alerts) != 1 || sum.Alerts[0].Table != "events" {
		t.Errorf("summary alerts: %+v", sum.Alerts)
	}
}
