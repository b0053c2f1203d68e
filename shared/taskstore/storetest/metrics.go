package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// RunMetrics runs the conformance cases of merge.MetricsStore. newStore must return an empty
// store; it is called once per case.
//
// Where the port's comments are silent, the cases pin down: a scan of another cluster is
// ErrNotFound; history and listings of an unknown cluster, database or table are empty, not
// errors; partition metrics of an unknown scan are ErrNotFound.
func RunMetrics(t *testing.T, newStore func(t *testing.T) merge.MetricsStore) {
	cases := []struct {
		name string
		run  func(t *testing.T, s merge.MetricsStore)
	}{
		{"Scans", testScans},
		{"ListScans", testListScans},
		{"SaveAndRead", testSaveAndRead},
		{"History", testHistory},
		{"Retention", testRetention},
		{"ListTables", testListTables},
		{"ManyPartitions", testManyPartitions},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, newStore(t)) })
	}
}

func newScan(id, cluster string, i int, status merge.ScanStatus) *merge.Scan {
	sc := &merge.Scan{ID: id, ClusterID: cluster, Scope: merge.ScanScope{Database: "web"}, Status: status, CreatedAt: at(i), Heartbeat: at(i), Log: []merge.ScanLogEntry{}}
	sc.AddLog(at(i), "INFO", "requested")
	return sc
}

func testScans(t *testing.T, s merge.MetricsStore) {
	ctx := context.Background()
	sc := newScan("aa01", "prod", 0, merge.ScanPending)
	if err := s.CreateScan(ctx, sc); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "CreateScan duplicate", s.CreateScan(ctx, newScan("aa01", "prod", 1, merge.ScanPending)), merge.ErrConflict)
	got, err := s.GetScan(ctx, "prod", "aa01")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "GetScan", got, sc)
	_, err = s.GetScan(ctx, "other", "aa01")
	wantErr(t, "GetScan of another cluster", err, merge.ErrNotFound)
	_, err = s.GetScan(ctx, "prod", "ffff")
	wantErr(t, "GetScan unknown", err, merge.ErrNotFound)

	up, err := s.UpdateScan(ctx, "prod", "aa01", func(sc *merge.Scan) error {
		sc.Status = merge.ScanRunning
		sc.Progress.TablesDone = 3
		sc.AddLog(at(2), "INFO", "three done")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err = s.GetScan(ctx, "prod", "aa01")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "after UpdateScan", got, up)
	if got.Status != merge.ScanRunning || got.Progress.TablesDone != 3 || len(got.Log) != 2 {
		t.Errorf("update not kept: %+v", got)
	}
	boom := fmt.Errorf("no")
	if _, err := s.UpdateScan(ctx, "prod", "aa01", func(sc *merge.Scan) error { sc.Status = merge.ScanFailed; return boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateScan returned %v, want fn's error", err)
	}
	if got, _ := s.GetScan(ctx, "prod", "aa01"); got.Status != merge.ScanRunning {
		t.Errorf("a failed update was saved: %s", got.Status)
	}
	_, err = s.UpdateScan(ctx, "prod", "ffff", func(*merge.Scan) error { return nil })
	wantErr(t, "UpdateScan unknown", err, merge.ErrNotFound)
}

func testListScans(t *testing.T, s merge.MetricsStore) {
	ctx := context.Background()
	for i, sc := range []*merge.Scan{
		newScan("a1", "prod", 1, merge.ScanRunning), newScan("a2", "prod", 2, merge.ScanSucceeded),
		newScan("a3", "prod", 3, merge.ScanPending), newScan("a4", "dev", 4, merge.ScanRunning),
	} {
		if err := s.CreateScan(ctx, sc); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
	}
	ids := func(scans []*merge.Scan, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, sc := range scans {
			out = append(out, sc.ID)
		}
		return out
	}
	if got := ids(s.ListScans(ctx, "prod")); !slices.Equal(got, []string{"a3", "a2", "a1"}) {
		t.Errorf("ListScans(prod) = %q", got)
	}
	if got := ids(s.ListScans(ctx, "prod", merge.ScanPending, merge.ScanRunning)); !slices.Equal(got, []string{"a3", "a1"}) {
		t.Errorf("ListScans(prod, active) = %q", got)
	}
	if got := ids(s.ListScans(ctx, "", merge.ScanRunning)); !slices.Equal(got, []string{"a4", "a1"}) {
		t.Errorf("ListScans(all, running) = %q", got)
	}
}

// metrics builds a table's metrics from a scan at time i with files small files.
func metrics(cluster, db, table, scan string, i int, files int64, score int) *merge.TableMetrics {
	m := &merge.TableMetrics{
		ClusterID: cluster, Database: db, Table: table, ScanID: scan, ScannedAt: at(i),
		TableType: "MANAGED_TABLE", Format: "ORC", PartitionKeys: []string{"dt"}, Location: "file:///w/" + table,
		Partitions: 2, Source: merge.SourceListing, Thresholds: merge.Thresholds{}.WithDefaults(),
	}
	m.Stats = merge.FileStats{Files: files, Bytes: files * 1000, SmallFiles: files, Blocks: files}
	m.Stats.Histogram[0] = files
	m.Health = merge.Health{Score: score, Rules: []string{fmt.Sprintf("%d small files", files)}}
	if files > 1 {
		m.NeedsMerge = true
		m.Savings = merge.Savings{Files: files - 1, NameNodeObjects: 2 * (files - 1), HeapBytes: 300 * (files - 1)}
		m.Recommendation = merge.Recommendation{Merge: true, Strategy: merge.StrategySafeMerge, Rule: merge.RuleAutoTinyStripes, Reason: "tiny"}
	} else {
		m.Recommendation = merge.Recommendation{Rule: merge.RuleHealthy, Reason: "healthy"}
	}
	return m
}

func partitions(n int) []merge.PartitionMetrics {
	out := make([]merge.PartitionMetrics, n)
	files := int64(7)
	for i := range out {
		p := &out[i]
		p.Partition = fmt.Sprintf("dt=2024-%02d-%02d/hr=%02d", 1+i/(28*24)%12, 1+i/24%28, i%24)
		p.Location = "hdfs://nameservice1/warehouse/web.db/events/" + p.Partition
		p.Source = merge.SourceListing
		p.Stats = merge.FileStats{Files: files, Bytes: files * 12345, SmallFiles: files, Blocks: files, LastModified: at(i)}
		p.Stats.Histogram[1] = files
		p.NeedsMerge = true
		p.Savings = merge.Savings{Files: files - 1, NameNodeObjects: 12, HeapBytes: 1800}
		p.Health = merge.Health{Score: 41, Rules: []string{"7 of 7 files are under 16.0 MB (100%): -40", "a merge into files of 256.0 MB would leave 1 instead of 7, removing 6 excess files: -26"}}
		p.Recommendation = merge.Recommendation{Merge: true, Strategy: merge.StrategySafeMerge, Rule: merge.RuleAutoRewrite, Reason: "the table is text, which CONCATENATE cannot merge: safe_merge rewrites the rows into a new location"}
		p.AvgFileSize, p.SmallFileRatio = 12345, 1
		p.DirModTime = at(i)
		n := files
		p.MetastoreFiles = &n
	}
	return out
}

func testSaveAndRead(t *testing.T, s merge.MetricsStore) {
	ctx := context.Background()
	_, err := s.LatestTableMetrics(ctx, "prod", "web", "events")
	wantErr(t, "LatestTableMetrics before a scan", err, merge.ErrNotFound)
	m := metrics("prod", "web", "events", "s1", 1, 40, 20)
	parts := partitions(3)
	if err := s.SaveTableMetrics(ctx, m, parts, time.Time{}); err != nil {
		t.Fatal(err)
	}
	got, err := s.LatestTableMetrics(ctx, "prod", "web", "events")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "LatestTableMetrics", got, m)
	gotParts, err := s.PartitionMetrics(ctx, "prod", "web", "events", "s1")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "PartitionMetrics", gotParts, parts)
	_, err = s.PartitionMetrics(ctx, "prod", "web", "events", "nope")
	wantErr(t, "PartitionMetrics of an unknown scan", err, merge.ErrNotFound)
	// Tables whose names extend one another stay apart.
	if err := s.SaveTableMetrics(ctx, metrics("prod", "web", "events_2", "s1", 1, 5, 80), nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LatestTableMetrics(ctx, "prod", "web", "events"); got.Stats.Files != 40 {
		t.Errorf("events was overwritten by events_2: %d files", got.Stats.Files)
	}
	if p, err := s.PartitionMetrics(ctx, "prod", "web", "events_2", "s1"); err != nil || len(p) != 0 {
		t.Errorf("PartitionMetrics of a table saved without partitions = %v, %v", p, err)
	}
}

func testHistory(t *testing.T, s merge.MetricsStore) {
	ctx := context.Background()
	for i, scan := range []string{"s1", "s2", "s3"} {
		if err := s.SaveTableMetrics(ctx, metrics("prod", "web", "events", scan, 10*(i+1), int64(10*(i+1)), 50), partitions(1), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveTableMetrics(ctx, metrics("prod", "web", "events2", "s9", 100, 3, 50), nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	h, err := s.TableHistory(ctx, "prod", "web", "events", 0)
	if err != nil {
		t.Fatal(err)
	}
	var scans []string
	for _, m := range h {
		scans = append(scans, m.ScanID)
	}
	if !slices.Equal(scans, []string{"s3", "s2", "s1"}) {
		t.Errorf("history = %q, want newest first", scans)
	}
	if h, _ := s.TableHistory(ctx, "prod", "web", "events", 2); len(h) != 2 || h[0].ScanID != "s3" {
		t.Errorf("history with limit 2 = %d entries", len(h))
	}
	if h, err := s.TableHistory(ctx, "prod", "web", "nothing", 0); err != nil || len(h) != 0 {
		t.Errorf("history of an unknown table = %v, %v", h, err)
	}
	if got, _ := s.LatestTableMetrics(ctx, "prod", "web", "events"); got.ScanID != "s3" {
		t.Errorf("latest is %s, want s3", got.ScanID)
	}
}

func testRetention(t *testing.T, s merge.MetricsStore) {
	ctx := context.Background()
	for i, scan := range []string{"s1", "s2", "s3", "s4"} {
		keep := time.Time{}
		if i == 3 {
			keep = at(25) // drops s1 (at 10) and s2 (at 20)
		}
		if err := s.SaveTableMetrics(ctx, metrics("prod", "web", "events", scan, 10*(i+1), 10, 50), partitions(2), keep); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveTableMetrics(ctx, metrics("prod", "web", "other", "s1", 10, 10, 50), partitions(1), time.Time{}); err != nil {
		t.Fatal(err)
	}
	h, err := s.TableHistory(ctx, "prod", "web", "events", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].ScanID != "s4" || h[1].ScanID != "s3" {
		t.Errorf("after retention: %d entries", len(h))
	}
	_, err = s.PartitionMetrics(ctx, "prod", "web", "events", "s1")
	wantErr(t, "partitions of a pruned scan", err, merge.ErrNotFound)
	if _, err := s.PartitionMetrics(ctx, "prod", "web", "events", "s3"); err != nil {
		t.Errorf("partitions of a kept scan: %v", err)
	}
	// Retention is per table: another table's old history stays.
	if h, _ := s.TableHistory(ctx, "prod", "web", "other", 0); len(h) != 1 {
		t.Errorf("another table's history was pruned: %d entries", len(h))
	}
}

func testListTables(t *testing.T, s merge.MetricsStore) {
	ctx := context.Background()
	for _, m := range []*merge.TableMetrics{
		metrics("prod", "web", "a", "s1", 1, 100, 30),
		metrics("prod", "web", "b", "s1", 1, 1, 100),
		metrics("prod", "web", "c", "s1", 1, 500, 10),
		metrics("prod", "web", "d", "s1", 1, 50, 30),
		metrics("prod", "logs", "e", "s1", 1, 9000, 5),
		metrics("dev", "web", "a", "s1", 1, 7, 1),
	} {
		if err := s.SaveTableMetrics(ctx, m, nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	// A newer scan replaces a table's latest metrics in listings.
	if err := s.SaveTableMetrics(ctx, metrics("prod", "web", "d", "s2", 2, 60, 25), nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	names := func(p merge.TableMetricsPage, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range p.Tables {
			out = append(out, m.Database+"."+m.Table)
		}
		return out
	}
	cases := []struct {
		name string
		f    merge.TableMetricsFilter
		want []string
	}{
		{"score", merge.TableMetricsFilter{ClusterID: "prod", Database: "web"}, []string{"web.c", "web.d", "web.a", "web.b"}},
		{"savings", merge.TableMetricsFilter{ClusterID: "prod", Sort: merge.SortSavings}, []string{"logs.e", "web.c", "web.a", "web.d", "web.b"}},
		{"name", merge.TableMetricsFilter{ClusterID: "prod", Sort: merge.SortName}, []string{"logs.e", "web.a", "web.b", "web.c", "web.d"}},
		{"needs merge", merge.TableMetricsFilter{ClusterID: "prod", Database: "web", NeedsMerge: true, Sort: merge.SortFiles}, []string{"web.c", "web.a", "web.d"}},
		{"max score", merge.TableMetricsFilter{ClusterID: "prod", MaxScore: 25}, []string{"logs.e", "web.c", "web.d"}},
		{"strategy", merge.TableMetricsFilter{ClusterID: "prod", Strategy: merge.StrategyConcatenate}, nil},
		{"unknown cluster", merge.TableMetricsFilter{ClusterID: "none"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := names(s.ListTableMetrics(ctx, c.f)); !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	// Pages of two cover the listing exactly once.
	f := merge.TableMetricsFilter{ClusterID: "prod", Sort: merge.SortName, Limit: 2}
	var all []string
	for range 10 {
		p, err := s.ListTableMetrics(ctx, f)
		all = append(all, names(p, err)...)
		if p.Total != 5 {
			t.Errorf("total %d, want 5", p.Total)
		}
		if p.NextPageToken == "" {
			break
		}
		f.PageToken = p.NextPageToken
	}
	if !slices.Equal(all, []string{"logs.e", "web.a", "web.b", "web.c", "web.d"}) {
		t.Errorf("pages gave %q", all)
	}
	for _, bad := range []merge.TableMetricsFilter{
		{ClusterID: "prod", PageToken: "!!"}, {ClusterID: "prod", Sort: "size"}, {ClusterID: "prod", Limit: -1},
		{ClusterID: "prod", Database: "a`b"}, {ClusterID: ""}, {ClusterID: "prod", Strategy: "auto"},
	} {
		_, err := s.ListTableMetrics(ctx, bad)
		wantErr(t, fmt.Sprintf("ListTableMetrics(%+v)", bad), err, merge.ErrInvalid)
	}
}

// A table of 5,000 partitions round-trips whole; stores with document limits split it.
func testManyPartitions(t *testing.T, s merge.MetricsStore) {
	ctx := context.Background()
	parts := partitions(5000)
	if err := s.SaveTableMetrics(ctx, metrics("prod", "web", "big", "s1", 1, 35000, 3), parts, time.Time{}); err != nil {
		t.Fatal(err)
	}
	got, err := s.PartitionMetrics(ctx, "prod", "web", "big", "s1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(parts) {
		t.Fatalf("got %d partitions, want %d", len(got), len(parts))
	}
	sameJSON(t, "5,000 partitions", got, parts)
}
