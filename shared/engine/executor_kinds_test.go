package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// TestTableKinds merges one table of each kind end to end, through gohive against the
// sandbox, while a reader queries the table throughout, and checks what a merge must show:
// every partition at most ceil(bytes / target) + 1 files, rows and checksum unchanged,
// storage (SerDe, formats, delimiters) intact, DESCRIBE FORMATTED statistics that match a
// listing, and no staging table or directory left.
func TestTableKinds(t *testing.T) {
	type part = map[string]string
	tests := []struct {
		name   string
		create []string
		// parts are the partitions written with files files each; nil for an unpartitioned
		// table, {} for a table without partitions.
		parts []part
		files int
		// empty are partitions added without files.
		empty []string
		// strategy is what the task asks for; "" means auto.
		strategy, want merge.Strategy
	}{
		{name: "partitioned text", create: []string{"CREATE TABLE m.t (id bigint, msg string) PARTITIONED BY (dt string) STORED AS TEXTFILE"},
			parts: []part{{"dt": "2024-01-01"}, {"dt": "2024-01-02"}}, files: 30, want: merge.StrategySafeMerge},
		{name: "ORC managed", create: []string{"CREATE TABLE m.t (id bigint, msg string) PARTITIONED BY (dt string) STORED AS ORC"},
			parts: []part{{"dt": "2024-01-01"}}, files: 12, strategy: merge.StrategyConcatenate, want: merge.StrategyConcatenate},
		{name: "ORC managed, auto", create: []string{"CREATE TABLE m.t (id bigint, msg string) PARTITIONED BY (dt string) STORED AS ORC"},
			parts: []part{{"dt": "2024-01-01"}}, files: 12, want: merge.StrategySafeMerge},
		{name: "external with a custom delimiter", create: []string{"CREATE EXTERNAL TABLE m.t (id bigint, msg string) PARTITIONED BY (dt string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ';' STORED AS TEXTFILE LOCATION 'file://$WAREHOUSE/external/t'"},
			parts: []part{{"dt": "2024-01-01"}}, files: 10, want: merge.StrategySafeMerge},
		{name: "Parquet", create: []string{"CREATE TABLE m.t (id bigint, msg string) PARTITIONED BY (dt string) STORED AS PARQUET TBLPROPERTIES ('parquet.compression'='SNAPPY')"},
			parts: []part{{"dt": "2024-01-01"}, {"dt": "2024-01-02"}}, files: 9, want: merge.StrategySafeMerge},
		{name: "transactional", create: []string{"CREATE TABLE m.t (id bigint, msg string) PARTITIONED BY (dt string) STORED AS ORC TBLPROPERTIES ('transactional'='true')"},
			parts: []part{{"dt": "2024-01-01"}}, files: 8, want: merge.StrategyACIDCompact},
		{name: "bucketed", create: []string{"CREATE TABLE m.t (id bigint, msg string) CLUSTERED BY (id) INTO 2 BUCKETS STORED AS TEXTFILE"},
			files: 10, want: merge.StrategySafeMerge},
		{name: "multi-key int and date partitions", create: []string{"CREATE TABLE m.t (id bigint, msg string) PARTITIONED BY (d date, h int) STORED AS TEXTFILE"},
			parts: []part{{"d": "2024-01-01", "h": "0"}, {"d": "2024-01-01", "h": "13"}, {"d": "2024-02-29", "h": "-1"}}, files: 6, want: merge.StrategySafeMerge},
		{name: "custom-location partition", create: []string{
			"CREATE TABLE m.t (id bigint, msg string) PARTITIONED BY (dt string) STORED AS TEXTFILE",
			"ALTER TABLE m.t ADD PARTITION (dt='2024-01-01') LOCATION 'file://$WAREHOUSE/custom/t_0101'"},
			parts: []part{{"dt": "2024-01-01"}, {"dt": "2024-01-02"}}, files: 7, want: merge.StrategySafeMerge},
		{name: "empty partition", create: []string{
			"CREATE TABLE m.t (id bigint, msg string) PARTITIONED BY (dt string) STORED AS TEXTFILE",
			"ALTER TABLE m.t ADD PARTITION (dt='2024-01-03')"},
			parts: []part{{"dt": "2024-01-01"}}, files: 5, empty: []string{"dt=2024-01-03"}, want: merge.StrategySafeMerge},
		{name: "unpartitioned", create: []string{"CREATE TABLE m.t (id bigint, msg string) STORED AS TEXTFILE"},
			files: 20, want: merge.StrategySafeMerge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.exec(t, tc.create...)
			if tc.parts == nil {
				e.files(t, "t", nil, tc.files, 3)
			}
			for _, p := range tc.parts {
				e.files(t, "t", p, tc.files, 3)
			}
			before := e.state(t, "t")
			storage := e.storage(t, "t")
			strategy := tc.strategy
			if strategy == "" {
				strategy = merge.StrategyAuto
			}
			task := e.newTask(t, "t", strategy)

			stop := e.startReader(t, "t")
			got := e.run(t, task.ID, "w")
			stop()
			if got.Status != merge.StatusSuccess {
				t.Fatalf("status %s: %s\n%s", got.Status, got.Error, e.logs(t, task.ID))
			}
			if got.Checkpoint.Strategy != tc.want {
				t.Errorf("strategy %s, want %s", got.Checkpoint.Strategy, tc.want)
			}
			after := e.state(t, "t")
			if describe(after.rows) != describe(before.rows) || describe(after.partitions) != describe(before.partitions) {
				t.Errorf("rows or partitions changed:\nbefore %s\nafter  %s", describe(before), describe(after))
			}
			if s := e.storage(t, "t"); describe(s) != describe(storage) {
				t.Errorf("storage changed:\nbefore %s\nafter  %s", describe(storage), describe(s))
			}
			if left := e.stagingTables(t); left != nil {
				t.Errorf("staging tables left: %v", left)
			}
			done := 0
			for _, p := range got.Checkpoint.Partitions {
				live := after.location[p.Partition]
				if p.Step == merge.StepSkipped {
					if live != before.location[p.Partition] || !containsString(tc.empty, p.Partition) {
						t.Errorf("partition %s skipped (%s), at %s", p.Partition, p.Error, live)
					}
					continue
				}
				if p.Step != merge.StepDone {
					t.Errorf("partition %s at %s", p.Partition, p.Step)
					continue
				}
				done++
				files, bytes := walk(t, live)
				if limit := (bytes+targetSize-1)/targetSize + 1; files > limit || files >= p.FilesBefore || files != p.FilesAfter {
					t.Errorf("partition %s has %d files (%d bytes) after %d, checkpoint says %d, limit %d", p.Partition, files, bytes, p.FilesBefore, p.FilesAfter, limit)
				}
				if st := e.stats(t, "t", p.Spec); st.NumFiles == nil || *st.NumFiles != files || st.TotalSize == nil || *st.TotalSize != bytes {
					t.Errorf("partition %s: DESCRIBE FORMATTED numFiles %s totalSize %s, a listing finds %d files of %d bytes", p.Partition, ptr(st.NumFiles), ptr(st.TotalSize), files, bytes)
				}
				if tc.want != merge.StrategyACIDCompact { // ACID data lives in base_ and delta_ directories
					onlyDataFiles(t, live)
				}
				if tc.want == merge.StrategySafeMerge {
					// The merged files are a hidden sibling of the original location, which
					// stays as the backup.
					old := path(t, before.location[p.Partition])
					if want := filepath.Join(filepath.Dir(old), ".hivemerge-"+task.ID, filepath.Base(old)); path(t, live) != want {
						t.Errorf("partition %s is at %s, want %s", p.Partition, live, want)
					}
				}
			}
			if done != len(before.partitions)-len(tc.empty) {
				t.Errorf("%d partitions merged, want %d", done, len(before.partitions)-len(tc.empty))
			}
		})
	}
}

// storage is the table's storage and that of each of its partitions, by partition name.
func (e *env) storage(t *testing.T, table string) map[string]hive.Storage {
	t.Helper()
	ctx := context.Background()
	src := hql.Table{Database: "m", Name: table}
	tb, err := e.client.DescribeTable(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]hive.Storage{"": tb.Storage}
	if !tb.Partitioned() {
		return out
	}
	parts, err := e.client.Partitions(ctx, src, hql.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		spec, err := tb.Spec(p.Spec())
		if err != nil {
			t.Fatal(err)
		}
		d, err := e.client.DescribePartition(ctx, src, spec)
		if err != nil {
			t.Fatal(err)
		}
		out[p.Name] = d.Storage
	}
	return out
}

// stats are the metastore statistics DESCRIBE FORMATTED shows for a partition (or the table).
func (e *env) stats(t *testing.T, table string, part merge.PartitionSpec) hive.Stats {
	t.Helper()
	ctx := context.Background()
	src := hql.Table{Database: "m", Name: table}
	tb, err := e.client.DescribeTable(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if !tb.Partitioned() {
		return tb.Stats
	}
	spec, err := tb.Spec(part)
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.client.DescribePartition(ctx, src, spec)
	if err != nil {
		t.Fatal(err)
	}
	return d.Stats
}

// onlyDataFiles checks that a live location holds only data files: no directory, and nothing
// hidden or temporary that a half-finished write would leave.
func onlyDataFiles(t *testing.T, location string) {
	t.Helper()
	dir := path(t, location)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if n := en.Name(); en.IsDir() || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || strings.Contains(n, "tmp") {
			t.Errorf("%s holds %s, which is not a data file", dir, n)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func ptr(p *int64) string {
	if p == nil {
		return "unset"
	}
	return describe(*p)
}
