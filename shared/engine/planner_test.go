package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// taskID is a fixed task ID, so that staging names are deterministic.
const taskID = "0123456789abcdef"

type specs = []merge.PartitionSpec

func TestPreview(t *testing.T) {
	sb := fixture(t)
	tests := []struct {
		name       string
		table      string
		filters    specs
		strategy   merge.Strategy
		want       merge.Strategy
		rule       string
		why        string // the table-level reason mentions it
		partitions []string
		skipped    map[string]string // partition -> rule
		filesAfter map[string]int64
		warning    string
	}{
		{name: "partitioned text with healthy, empty and custom-location partitions", table: "events",
			want: merge.StrategySafeMerge, rule: merge.RuleAutoRewrite, why: "text",
			partitions: []string{"dt=2024-01-01", "dt=2024-01-02", "dt=2024-01-03", "dt=2024-01-04"},
			skipped:    map[string]string{"dt=2024-01-02": merge.RuleHealthy, "dt=2024-01-03": merge.RuleEmpty},
			filesAfter: map[string]int64{"dt=2024-01-01": 1, "dt=2024-01-04": 1}},
		{name: "orc managed with tiny files", table: "orc_t",
			want: merge.StrategySafeMerge, rule: merge.RuleAutoTinyStripes, why: "stripes", partitions: []string{"dt=2024-01-01"}},
		{name: "orc managed, concatenate requested", table: "orc_t", strategy: merge.StrategyConcatenate,
			want: merge.StrategyConcatenate, rule: merge.RuleRequested, why: "requested", partitions: []string{"dt=2024-01-01"},
			warning: "cannot be rolled back"},
		{name: "external text with a custom delimiter", table: "ext",
			want: merge.StrategySafeMerge, rule: merge.RuleAutoRewrite, why: "text", partitions: []string{"dt=2024-01-01"}},
		{name: "external orc", table: "ext_orc",
			want: merge.StrategySafeMerge, rule: merge.RuleAutoRewrite, why: "external", partitions: []string{""}},
		{name: "transactional", table: "acid",
			want: merge.StrategyACIDCompact, rule: merge.RuleAutoACID, why: "compactor", partitions: []string{"dt=2024-01-01"},
			warning: "asynchronously"},
		{name: "bucketed", table: "bkt",
			want: merge.StrategySafeMerge, rule: merge.RuleAutoRewrite, why: "bucketed", partitions: []string{""},
			filesAfter: map[string]int64{"": 2}},
		{name: "multi-key, date filter", table: "multi", filters: specs{{"d": "2024-01-01"}},
			want: merge.StrategySafeMerge, rule: merge.RuleAutoRewrite, partitions: []string{"d=2024-01-01/h=0", "d=2024-01-01/h=13"}},
		{name: "multi-key, int filter on the second key", table: "multi", filters: specs{{"h": "0"}},
			want: merge.StrategySafeMerge, rule: merge.RuleAutoRewrite, partitions: []string{"d=2024-01-01/h=0", "d=2024-01-02/h=0"}},
		{name: "multi-key, overlapping filters", table: "multi", filters: specs{{"d": "2024-01-01", "h": "13"}, {"h": "0"}},
			want: merge.StrategySafeMerge, rule: merge.RuleAutoRewrite, partitions: []string{"d=2024-01-01/h=13", "d=2024-01-01/h=0", "d=2024-01-02/h=0"}},
		{name: "unpartitioned", table: "flat",
			want: merge.StrategySafeMerge, rule: merge.RuleAutoRewrite, partitions: []string{""}},
		{name: "unpartitioned, insert_overwrite requested", table: "flat", strategy: merge.StrategyInsertOverwrite,
			want: merge.StrategyInsertOverwrite, rule: merge.RuleRequested, partitions: []string{""}, warning: "concurrent writer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pv, err := sb.planner.Preview(context.Background(), engine.Request{TaskID: taskID, Database: "m", Table: tc.table, Partitions: tc.filters, Strategy: tc.strategy})
			if err != nil {
				t.Fatalf("Preview: %v", err)
			}
			if pv.Strategy != tc.want || pv.Rule != tc.rule || !strings.Contains(pv.Reason, tc.why) {
				t.Errorf("decision = %s (%s): %q; want %s (%s) mentioning %q", pv.Strategy, pv.Rule, pv.Reason, tc.want, tc.rule, tc.why)
			}
			var names []string
			for _, p := range pv.Partitions {
				names = append(names, p.Partition)
				checkPartition(t, pv, p)
				if rule, ok := tc.skipped[p.Partition]; ok != p.Skipped || ok && rule != p.Rule {
					t.Errorf("%s: skipped %v (%s), want skipped %v (%s)", p.Partition, p.Skipped, p.Rule, ok, rule)
				}
				if want, ok := tc.filesAfter[p.Partition]; ok && p.FilesAfter != want {
					t.Errorf("%s: files_after = %d, want %d", p.Partition, p.FilesAfter, want)
				}
			}
			if !slices.Equal(names, tc.partitions) {
				t.Errorf("partitions = %q, want %q", names, tc.partitions)
			}
			if pv.Source != merge.SourceListing {
				t.Errorf("source = %s, want listing", pv.Source)
			}
			if tc.warning != "" && !slices.ContainsFunc(pv.Warnings, func(w string) bool { return strings.Contains(w, tc.warning) }) {
				t.Errorf("warnings %q lack %q", pv.Warnings, tc.warning)
			}
			if pv.DurationEstimate != merge.DurationUnknown {
				t.Errorf("duration = %q without a measured throughput", pv.DurationEstimate)
			}
		})
	}
}

// checkPartition holds every partition of every preview to the same account: counts equal a
// direct walk, skipped partitions carry a reason and no statements, merged ones the strategy's
// statements.
func checkPartition(t *testing.T, pv *merge.Preview, p merge.PartitionPreview) {
	t.Helper()
	files, bytes := walk(t, p.Location)
	if p.FilesBefore != files || p.BytesBefore != bytes || p.BytesAfter != bytes {
		t.Errorf("%s: files/bytes before = %d/%d (after %d bytes), a walk of %s finds %d/%d", p.Partition, p.FilesBefore, p.BytesBefore, p.BytesAfter, p.Location, files, bytes)
	}
	if p.Source != merge.SourceListing || p.Reason == "" {
		t.Errorf("%s: source %q, reason %q", p.Partition, p.Source, p.Reason)
	}
	if p.Skipped {
		if p.SkipReason == "" || len(p.Statements) != 0 || p.FilesAfter != p.FilesBefore || p.NameNodeObjectsSaved != 0 {
			t.Errorf("%s: skipped partition %s", p.Partition, describe(p))
		}
		return
	}
	if p.Strategy != pv.Strategy || len(p.Statements) == 0 || p.FilesAfter >= p.FilesBefore || p.NameNodeObjectsSaved <= 0 {
		t.Errorf("%s: merged partition %s", p.Partition, describe(p))
	}
	first := map[merge.Strategy]string{
		merge.StrategySafeMerge: "CREATE EXTERNAL TABLE ", merge.StrategyInsertOverwrite: "INSERT OVERWRITE TABLE `m`.",
		merge.StrategyConcatenate: "ALTER TABLE `m`.", merge.StrategyACIDCompact: "ALTER TABLE `m`.",
	}[p.Strategy]
	var sets int
	for _, s := range p.Statements {
		if strings.HasPrefix(s, "SET ") {
			sets++
		}
	}
	if sets != len(p.Settings) || !strings.HasPrefix(p.Statements[sets], first) {
		t.Errorf("%s: %d settings, statements %q", p.Partition, len(p.Settings), p.Statements)
	}
}

func TestPreviewRefuses(t *testing.T) {
	sb := fixture(t)
	tests := []struct {
		name     string
		req      engine.Request
		kind     error
		rule     string // for refusals
		contains string
	}{
		{"iceberg", engine.Request{Table: "ice"}, merge.ErrInvalid, merge.RuleOpenTableFormat, "Iceberg"},
		{"safe_merge of a transactional table", engine.Request{Table: "acid", Strategy: merge.StrategySafeMerge}, merge.ErrInvalid, merge.RuleRewriteACID, "acid_compact"},
		{"insert_overwrite of a transactional table", engine.Request{Table: "acid", Strategy: merge.StrategyInsertOverwrite}, merge.ErrInvalid, merge.RuleRewriteACID, "transaction log"},
		{"concatenate of a transactional table", engine.Request{Table: "acid", Strategy: merge.StrategyConcatenate}, merge.ErrInvalid, merge.RuleConcatACID, "30035"},
		{"concatenate of text", engine.Request{Table: "events", Strategy: merge.StrategyConcatenate}, merge.ErrInvalid, merge.RuleConcatFormat, "30030"},
		{"concatenate of an external text table", engine.Request{Table: "ext", Strategy: merge.StrategyConcatenate}, merge.ErrInvalid, merge.RuleConcatFormat, "ORC and RCFile"},
		{"concatenate of an external orc table", engine.Request{Table: "ext_orc", Strategy: merge.StrategyConcatenate}, merge.ErrInvalid, merge.RuleConcatExternal, "30034"},
		{"concatenate of a bucketed table", engine.Request{Table: "bkt", Strategy: merge.StrategyConcatenate}, merge.ErrInvalid, merge.RuleConcatBucketed, "30031"},
		{"acid_compact of a plain table", engine.Request{Table: "orc_t", Strategy: merge.StrategyACIDCompact}, merge.ErrInvalid, merge.RuleCompactNotACID, "not"},
		{"unknown strategy", engine.Request{Table: "events", Strategy: "fast"}, merge.ErrInvalid, merge.RuleUnknownStrategy, "fast"},
		{"missing table", engine.Request{Table: "nope"}, merge.ErrNotFound, "", ""},
		{"filter on an unpartitioned table", engine.Request{Table: "flat", Partitions: specs{{"dt": "2024-01-01"}}}, merge.ErrInvalid, "", "not partitioned"},
		{"filter matching nothing", engine.Request{Table: "events", Partitions: specs{{"dt": "2030-01-01"}}}, merge.ErrNotFound, "", "2030-01-01"},
		{"filter on an unknown column", engine.Request{Table: "events", Partitions: specs{{"hr": "1"}}}, merge.ErrInvalid, "", "hr"},
		{"filter with quotes", engine.Request{Table: "events", Partitions: specs{{"dt": "x' OR '1'='1"}}}, merge.ErrInvalid, "", "quotes"},
		{"filter with a variable", engine.Request{Table: "events", Partitions: specs{{"dt": "${env:HOME}"}}}, merge.ErrInvalid, "", "${"},
		{"filter with a bad date", engine.Request{Table: "multi", Partitions: specs{{"d": "2024-13-45"}}}, merge.ErrInvalid, "", "date"},
		{"filter with a bad int", engine.Request{Table: "multi", Partitions: specs{{"h": "1; DROP"}}}, merge.ErrInvalid, "", "integer"},
		{"empty filter", engine.Request{Table: "events", Partitions: specs{{}}}, merge.ErrInvalid, "", "empty"},
		{"table name with SQL", engine.Request{Table: "events; DROP TABLE m.events"}, merge.ErrInvalid, "", "letters"},
		{"task id with a path", engine.Request{Table: "events", TaskID: "../../etc"}, merge.ErrInvalid, "", "task id"},
		{"target below the minimum", engine.Request{Table: "events", TargetFileSize: 1000}, merge.ErrInvalid, "", "target_file_size_bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Database = "m"
			pv, err := sb.planner.Preview(context.Background(), tc.req)
			if err == nil {
				t.Fatalf("Preview = %s, want an error", describe(pv))
			}
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %v; want %v mentioning %q", err, tc.kind, tc.contains)
			}
			var r *merge.Refusal
			if tc.rule != "" && (!errors.As(err, &r) || r.Rule != tc.rule) {
				t.Errorf("error %v is not the refusal %s", err, tc.rule)
			}
		})
	}
	// Nothing was created by a refused preview.
	if _, err := os.Stat(filepath.Join(sb.srv.Dir, "m.db", "events", ".hivemerge-"+engine.PreviewTaskID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a preview created a staging directory: %v", err)
	}
}

// unreachable is a filesystem resolver whose every location fails, as an unreachable NameNode
// would.
type unreachable struct{}

func (unreachable) Open(context.Context, string) (fsys.FS, string, error) {
	return nil, "", &fsys.PathError{Op: "open", Path: "hdfs://nn", Kind: fsys.ErrUnavailable}
}

func TestPreviewFallsBackToMetastore(t *testing.T) {
	sb := fixture(t)
	for _, files := range []engine.Files{unreachable{}, fsys.NewResolver(nil)} {
		p := &engine.Planner{Hive: sb.client, Files: files}
		pv, err := p.Preview(context.Background(), engine.Request{Database: "m", Table: "events"})
		if err != nil {
			t.Fatal(err)
		}
		if pv.Source != merge.SourceMetastore {
			t.Errorf("source = %s, want metastore", pv.Source)
		}
		if !slices.ContainsFunc(pv.Warnings, func(w string) bool { return strings.Contains(w, "could not be listed") }) {
			t.Errorf("warnings %q do not say the filesystem could not be listed", pv.Warnings)
		}
		for _, pp := range pv.Partitions {
			// SHOW TABLE EXTENDED lists live, skipping hidden files as Hive does.
			files, bytes := walk(t, pp.Location)
			if pp.Source != merge.SourceMetastore || pp.FilesBefore != files || pp.BytesBefore != bytes {
				t.Errorf("%s: %s/%d/%d, a walk finds %d/%d", pp.Partition, pp.Source, pp.FilesBefore, pp.BytesBefore, files, bytes)
			}
		}
		if pv.Totals.PartitionsToMerge != 2 {
			t.Errorf("partitions to merge = %d, want 2", pv.Totals.PartitionsToMerge)
		}
	}
}

func TestPreviewOptions(t *testing.T) {
	sb := fixture(t)
	p := *sb.planner
	p.Throughput = 100 // bytes per second, as if measured
	p.BlockSize = 64
	p.Concurrency = 1
	pv, err := p.Preview(context.Background(), engine.Request{Database: "m", Table: "events", TargetFileSize: merge.MinTargetFileSize})
	if err != nil {
		t.Fatal(err)
	}
	// 570 + 148 bytes to rewrite at 100 bytes/s.
	if pv.Totals.BytesToRewrite != 718 || pv.DurationEstimate != "7s" {
		t.Errorf("bytes to rewrite %d, duration %q; want 718, 7s", pv.Totals.BytesToRewrite, pv.DurationEstimate)
	}
	if pv.BlockSize != 64 || pv.TargetFileSize != merge.MinTargetFileSize {
		t.Errorf("block size %d, target %d", pv.BlockSize, pv.TargetFileSize)
	}
	// 12 files of 47-48 bytes, one block each, into one file of 570 bytes, 9 blocks of 64.
	if got := pv.Partitions[0].NameNodeObjectsSaved; got != 24-10 {
		t.Errorf("NameNode objects saved = %d, want 14", got)
	}
	if got := pv.Partitions[0].Settings["hive.merge.size.per.task"]; got != "1048576" {
		t.Errorf("hive.merge.size.per.task = %q", got)
	}
}

// The statements of a preview run on the sandbox as they are, and do what the preview says.
func TestPreviewStatementsRun(t *testing.T) {
	sb := fixture(t)
	ctx := context.Background()
	tests := []struct {
		table    string
		strategy merge.Strategy
		filters  specs
	}{
		{"events", merge.StrategyAuto, nil},
		{"ext", merge.StrategyAuto, nil},
		{"multi", merge.StrategyAuto, specs{{"h": "0"}}},
		{"flat", merge.StrategyAuto, nil},
		{"bkt", merge.StrategyAuto, nil},
		{"orc_t", merge.StrategyConcatenate, nil},
		{"ext_orc", merge.StrategyInsertOverwrite, nil},
		{"acid", merge.StrategyAuto, nil},
	}
	for _, tc := range tests {
		t.Run(tc.table+"/"+string(tc.strategy), func(t *testing.T) {
			pv, err := sb.planner.Preview(ctx, engine.Request{TaskID: taskID, Database: "m", Table: tc.table, Partitions: tc.filters, Strategy: tc.strategy})
			if err != nil {
				t.Fatal(err)
			}
			src := hql.Table{Database: "m", Name: tc.table}
			tb, err := sb.client.DescribeTable(ctx, src)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pv.Partitions {
				if p.Skipped {
					continue
				}
				spec, err := tb.Spec(partSpec(p.Partition))
				if err != nil {
					t.Fatal(err)
				}
				before, err := sb.client.Checksum(ctx, src, tb.DataColumns(), spec)
				if err != nil {
					t.Fatal(err)
				}
				sb.run(t, p.Statements, tc.table == "ext")
				after, err := sb.client.Checksum(ctx, src, tb.DataColumns(), spec)
				if err != nil {
					t.Fatal(err)
				}
				if before != after || before.Rows == 0 {
					t.Errorf("%s: checksum %+v before, %+v after", p.Partition, before, after)
				}
				now, err := sb.client.DescribeTable(ctx, src)
				if err != nil {
					t.Fatal(err)
				}
				loc := now.Location
				if spec.Partitioned() {
					d, err := sb.client.DescribePartition(ctx, src, spec)
					if err != nil {
						t.Fatal(err)
					}
					loc = d.Location
				}
				if p.Strategy == merge.StrategyACIDCompact {
					continue // the compactor runs later
				}
				if p.Strategy == merge.StrategySafeMerge {
					if !strings.Contains(loc, "/.hivemerge-"+taskID+"/") {
						t.Errorf("%s: location after the swap is %s, not a hidden sibling", p.Partition, loc)
					}
					if files, _ := walk(t, p.Location); files != p.FilesBefore {
						t.Errorf("%s: the old location keeps %d files, want all %d as the backup", p.Partition, files, p.FilesBefore)
					}
				}
				if files, bytes := walk(t, loc); files != p.FilesAfter || bytes != p.BytesAfter {
					t.Errorf("%s: %d files of %d bytes after the merge, preview said %d of %d", p.Partition, files, bytes, p.FilesAfter, p.BytesAfter)
				}
			}
			names, err := sb.client.Query(ctx, "SHOW TABLES IN m LIKE 'hivemerge_*'", nil)
			if err != nil {
				t.Fatal(err)
			}
			if rows := names.Strings(); len(rows) != 0 {
				t.Errorf("staging tables left behind: %q", rows)
			}
		})
	}
}

// run runs a partition's statements on one session, as the executor will, and checks that
// the two checksum queries agree. With checkDelimiter it also checks, before the staging table
// is dropped, that it kept the source's field delimiter.
func (sb *sandbox) run(t *testing.T, stmts []string, checkDelimiter bool) {
	t.Helper()
	ctx := context.Background()
	s, err := sb.client.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var sums [][][]string
	for _, stmt := range stmts {
		if strings.HasPrefix(stmt, "DROP TABLE") && checkDelimiter {
			name := strings.Trim(strings.Fields(stmt)[4], "`")
			_, tmp, _ := strings.Cut(name, "`.`")
			tb, err := sb.client.DescribeTable(ctx, hql.Table{Database: "m", Name: tmp})
			if err != nil {
				t.Fatal(err)
			}
			if tb.Storage.SerDeParams["field.delim"] != "|" || tb.TableType != "EXTERNAL_TABLE" {
				t.Errorf("staging table %s: %s, field.delim %q; want an external table with '|'", tmp, tb.TableType, tb.Storage.SerDeParams["field.delim"])
			}
		}
		if strings.HasPrefix(stmt, "SELECT ") {
			res, err := s.Query(ctx, stmt, nil)
			if err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
			sums = append(sums, res.Strings())
			continue
		}
		if err := s.Exec(ctx, stmt, nil); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if len(sums) == 2 && !slices.EqualFunc(sums[0], sums[1], slices.Equal) {
		t.Errorf("validation checksums differ: %q vs %q", sums[0], sums[1])
	}
}

// partSpec turns an unescaped partition name into a spec (test names have no escapes).
func partSpec(name string) map[string]string {
	if name == "" {
		return nil
	}
	m := map[string]string{}
	for _, kv := range strings.Split(name, "/") {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestPreviewGolden(t *testing.T) {
	sb := fixture(t)
	pv, err := sb.planner.Preview(context.Background(), engine.Request{TaskID: taskID, Database: "m", Table: "events"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(pv, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(string(b), sb.srv.Dir, "/WAREHOUSE") + "\n"
	path := filepath.Join("testdata", "preview-events.json")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("preview differs from %s (run with -update after checking):\n%s", path, got)
	}
}

func TestPreviewOddPartitions(t *testing.T) {
	sb := fixture(t)
	ctx := context.Background()
	sb.exec(t,
		"CREATE TABLE m.none (id bigint, msg string) PARTITIONED BY (dt string)",
		"CREATE TABLE m.odd (id bigint, msg string) PARTITIONED BY (dt string)",
		"ALTER TABLE m.odd ADD PARTITION (dt='gone')",
		`ALTER TABLE m.odd ADD PARTITION (dt='quoted') LOCATION 'file://$WAREHOUSE/it\'s'`,
	)
	sb.files(t, "odd", map[string]string{"dt": "quoted"}, 4, 1)
	sb.files(t, "odd", map[string]string{"dt": "fine"}, 4, 1)
	if err := os.RemoveAll(filepath.Join(sb.srv.Dir, "warehouse", "m.db", "odd", "dt=gone")); err != nil {
		t.Fatal(err)
	}

	pv, err := sb.planner.Preview(ctx, engine.Request{Database: "m", Table: "none"})
	if err != nil || len(pv.Partitions) != 0 || pv.Totals != (merge.PreviewTotals{}) || len(pv.Warnings) != 0 {
		t.Errorf("preview of a table without partitions = %s, %v", describe(pv), err)
	}

	pv, err = sb.planner.Preview(ctx, engine.Request{Database: "m", Table: "odd"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"dt=fine": merge.RuleNeedsMerge, "dt=gone": merge.RuleEmpty, "dt=quoted": merge.RuleUnsafeMetadata}
	for _, p := range pv.Partitions {
		if p.Rule != want[p.Partition] || p.Skipped != (p.Partition != "dt=fine") {
			t.Errorf("%s: rule %s, skipped %v (%s); want rule %s", p.Partition, p.Rule, p.Skipped, p.SkipReason, want[p.Partition])
		}
		for _, s := range p.Statements {
			if strings.Contains(s, "it's") || strings.Contains(s, `it\'s`) {
				t.Errorf("statement with the odd location: %s", s)
			}
		}
	}
	if len(pv.Partitions) != len(want) || pv.Totals.PartitionsToMerge != 1 {
		t.Errorf("partitions %s", describe(pv.Partitions))
	}
	if !slices.ContainsFunc(pv.Warnings, func(w string) bool { return strings.Contains(w, "does not exist") && strings.Contains(w, "dt=gone") }) {
		t.Errorf("warnings %q do not name the missing location", pv.Warnings)
	}
}
