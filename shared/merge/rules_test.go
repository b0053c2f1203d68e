package merge

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestChoose(t *testing.T) {
	orc := TableFacts{Format: FormatORC, Partitioned: true}
	small := FileFacts{Files: 100, Bytes: 100 * 2_000_000} // 2 MB average
	large := FileFacts{Files: 10, Bytes: 10 * 40_000_000}  // 40 MB average
	justBelow := FileFacts{Files: 2, Bytes: 2*TinyStripeAvgFileSize - 2}
	tests := []struct {
		name      string
		table     TableFacts
		files     FileFacts
		requested Strategy
		want      Strategy
		rule      string
		why       string // a word the reason must contain
	}{
		{"view", TableFacts{View: true, Format: FormatText}, small, StrategyAuto, "", RuleView, "view"},
		{"iceberg", TableFacts{Format: FormatParquet, TableFormat: TableFormatIceberg}, small, StrategyAuto, "", RuleOpenTableFormat, "rewrite_data_files"},
		{"hudi", TableFacts{Format: FormatParquet, TableFormat: TableFormatHudi}, small, StrategySafeMerge, "", RuleOpenTableFormat, "Hudi"},
		{"delta", TableFacts{Format: FormatParquet, TableFormat: TableFormatDelta}, small, StrategyAuto, "", RuleOpenTableFormat, "OPTIMIZE"},
		{"storage handler", TableFacts{Format: FormatOther, StorageHandler: "org.apache.hadoop.hive.hbase.HBaseStorageHandler"}, small, StrategyAuto, "", RuleStorageHandler, "HBaseStorageHandler"},
		{"unknown format", TableFacts{Format: FormatOther}, small, StrategyAuto, "", RuleUnknownFormat, "format"},
		{"empty format", TableFacts{}, small, StrategyAuto, "", RuleUnknownFormat, "format"},
		{"unknown strategy", orc, small, "merge_harder", "", RuleUnknownStrategy, "merge_harder"},
		{"concatenate text", TableFacts{Format: FormatText}, small, StrategyConcatenate, "", RuleConcatFormat, "30030"},
		{"concatenate parquet", TableFacts{Format: FormatParquet}, small, StrategyConcatenate, "", RuleConcatFormat, "ORC and RCFile"},
		{"concatenate external", TableFacts{Format: FormatORC, External: true}, small, StrategyConcatenate, "", RuleConcatExternal, "30034"},
		{"concatenate bucketed", TableFacts{Format: FormatORC, Buckets: 4}, small, StrategyConcatenate, "", RuleConcatBucketed, "30031"},
		{"concatenate transactional", TableFacts{Format: FormatORC, Transactional: true}, small, StrategyConcatenate, "", RuleConcatACID, "acid_compact"},
		{"concatenate insert-only", TableFacts{Format: FormatText, Transactional: true, InsertOnly: true}, small, StrategyConcatenate, "", RuleConcatFormat, "30030"},
		{"safe_merge transactional", TableFacts{Format: FormatORC, Transactional: true}, small, StrategySafeMerge, "", RuleRewriteACID, "acid_compact"},
		{"insert_overwrite transactional", TableFacts{Format: FormatORC, Transactional: true}, small, StrategyInsertOverwrite, "", RuleRewriteACID, "transaction log"},
		{"acid_compact not transactional", orc, small, StrategyACIDCompact, "", RuleCompactNotACID, "not"},
		{"requested concatenate", orc, small, StrategyConcatenate, StrategyConcatenate, RuleRequested, "requested"},
		{"requested insert_overwrite", TableFacts{Format: FormatText}, small, StrategyInsertOverwrite, StrategyInsertOverwrite, RuleRequested, "requested"},
		{"requested acid_compact", TableFacts{Format: FormatORC, Transactional: true}, small, StrategyACIDCompact, StrategyACIDCompact, RuleRequested, "requested"},
		{"auto transactional", TableFacts{Format: FormatORC, Transactional: true, Buckets: 2}, small, StrategyAuto, StrategyACIDCompact, RuleAutoACID, "compaction"},
		{"auto insert-only", TableFacts{Format: FormatText, Transactional: true, InsertOnly: true}, small, StrategyAuto, StrategyACIDCompact, RuleAutoACID, "transactional"},
		{"auto orc large files", orc, large, StrategyAuto, StrategyConcatenate, RuleAutoConcatenate, "CONCATENATE"},
		{"auto orc tiny files", orc, small, StrategyAuto, StrategySafeMerge, RuleAutoTinyStripes, "stripes"},
		{"auto orc just below threshold", orc, justBelow, StrategyAuto, StrategySafeMerge, RuleAutoTinyStripes, "16.0 MB"},
		{"auto orc at threshold", orc, FileFacts{Files: 2, Bytes: 2 * TinyStripeAvgFileSize}, StrategyAuto, StrategyConcatenate, RuleAutoConcatenate, "ORC"},
		{"auto rcfile small files", TableFacts{Format: FormatRCFile}, small, StrategyAuto, StrategyConcatenate, RuleAutoConcatenate, "RCFILE"},
		{"auto orc external", TableFacts{Format: FormatORC, External: true}, large, StrategyAuto, StrategySafeMerge, RuleAutoRewrite, "external"},
		{"auto orc bucketed", TableFacts{Format: FormatORC, Buckets: 4}, large, StrategyAuto, StrategySafeMerge, RuleAutoRewrite, "bucketed"},
		{"auto text", TableFacts{Format: FormatText}, small, StrategyAuto, StrategySafeMerge, RuleAutoRewrite, "text"},
		{"auto parquet external", TableFacts{Format: FormatParquet, External: true}, small, StrategyAuto, StrategySafeMerge, RuleAutoRewrite, "parquet"},
		{"auto avro", TableFacts{Format: FormatAvro}, small, StrategyAuto, StrategySafeMerge, RuleAutoRewrite, "avro"},
		{"auto sequencefile", TableFacts{Format: FormatSequenceFile}, small, StrategyAuto, StrategySafeMerge, RuleAutoRewrite, "sequencefile"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Choose(tc.table, tc.files, tc.requested)
			if tc.want == "" {
				var r *Refusal
				if !errors.As(err, &r) {
					t.Fatalf("Choose = %+v, %v; want a refusal", d, err)
				}
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("refusal %v is not ErrInvalid", err)
				}
				if r.Rule != tc.rule || !strings.Contains(r.Reason, tc.why) {
					t.Errorf("refusal = %s: %q; want rule %s mentioning %q", r.Rule, r.Reason, tc.rule, tc.why)
				}
				return
			}
			if err != nil {
				t.Fatalf("Choose: %v", err)
			}
			if d.Strategy != tc.want || d.Rule != tc.rule || !strings.Contains(d.Reason, tc.why) {
				t.Errorf("Choose = %s (%s): %q; want %s (%s) mentioning %q", d.Strategy, d.Rule, d.Reason, tc.want, tc.rule, tc.why)
			}
		})
	}
}

func TestHealthyAndExpectedFiles(t *testing.T) {
	const mb = 1_000_000
	tests := []struct {
		name                 string
		files, bytes, target int64
		healthy              bool
		expected             int64
	}{
		{"empty", 0, 0, 256 * mb, true, 0},
		{"one small file", 1, 10, 256 * mb, true, 1},
		{"two small files (one of slack)", 2, 10 * mb, 256 * mb, true, 1},
		{"three small files", 3, 3 * mb, 256 * mb, false, 1},
		{"empty files", 5, 0, 256 * mb, false, 1},
		{"exactly target-sized", 4, 4 * 256 * mb, 256 * mb, true, 4},
		{"one over the slack", 6, 4 * 256 * mb, 256 * mb, false, 4},
		{"remainder needs a file", 3, 2*256*mb + 1, 256 * mb, true, 3},
		{"many small files", 1000, 1000 * mb, 256 * mb, false, 4},
		{"zero target means the default", 3, 3 * mb, 0, false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, why := Healthy(tc.files, tc.bytes, tc.target)
			if ok != tc.healthy {
				t.Errorf("Healthy(%d, %d, %d) = %v (%q), want %v", tc.files, tc.bytes, tc.target, ok, why, tc.healthy)
			}
			if ok && why.Text == "" {
				t.Error("healthy without a reason")
			}
			if got := ExpectedFiles(tc.files, tc.bytes, tc.target); got != tc.expected {
				t.Errorf("ExpectedFiles = %d, want %d", got, tc.expected)
			}
		})
	}
}

func TestAssess(t *testing.T) {
	const mb = 1_000_000
	plain := TableFacts{Format: FormatText}
	bucketed := TableFacts{Format: FormatORC, Buckets: 4}
	tests := []struct {
		name     string
		table    TableFacts
		files    FileFacts
		skip     bool
		rule     string
		expected int64
	}{
		{"empty partition", plain, FileFacts{}, true, RuleEmpty, 0},
		{"healthy", plain, FileFacts{Files: 2, Bytes: 300 * mb}, true, RuleHealthy, 2},
		{"needs merge", plain, FileFacts{Files: 50, Bytes: 50 * mb}, false, RuleNeedsMerge, 1},
		{"bucketed one file per bucket", bucketed, FileFacts{Files: 4, Bytes: 4 * mb}, true, RuleBucketedFiles, 4},
		{"bucketed one extra file", bucketed, FileFacts{Files: 5, Bytes: 4 * mb}, true, RuleBucketedFiles, 4},
		{"bucketed with copies", bucketed, FileFacts{Files: 40, Bytes: 40 * mb}, false, RuleRewriteBucketed, 4},
		{"transactional bucketed ignores buckets", TableFacts{Format: FormatORC, Buckets: 2, Transactional: true}, FileFacts{Files: 40, Bytes: 40 * mb}, false, RuleNeedsMerge, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := Assess(tc.table, tc.files, 256*mb)
			if a.Skip != tc.skip || a.Rule != tc.rule || a.ExpectedFiles != tc.expected || a.Reason.Text == "" {
				t.Errorf("Assess = %+v; want skip %v, rule %s, %d files, a reason", a, tc.skip, tc.rule, tc.expected)
			}
		})
	}
}

func TestNameNodeObjects(t *testing.T) {
	const block = 128 << 20
	tests := []struct {
		name   string
		before FileFacts
		n      int64
		target int64
		blocks int64 // before
		after  []int64
		saved  int64
	}{
		{"small files into one", FileFacts{Files: 10, Bytes: 10 << 20, Sizes: repeat(10, 1<<20)}, 1, 256 << 20, 10, []int64{10 << 20}, 20 - 2},
		{"empty files have no block", FileFacts{Files: 3, Bytes: 0, Sizes: []int64{0, 0, 0}}, 1, 256 << 20, 0, []int64{0}, 3 - 1},
		{"a file over one block", FileFacts{Files: 3, Bytes: block + 2, Sizes: []int64{block + 1, 1, 0}}, 1, 256 << 20, 3, []int64{block + 2}, 6 - 3},
		{"target fills files", FileFacts{Files: 100, Bytes: 600 << 20, Sizes: repeat(100, 6<<20)}, 3, 256 << 20, 100, []int64{256 << 20, 256 << 20, 88 << 20}, 200 - 8},
		{"totals only: lower bound", FileFacts{Files: 10, Bytes: 10 << 20}, 1, 256 << 20, 10, []int64{10 << 20}, 20 - 2},
		{"bucketed spreads evenly", FileFacts{Files: 8, Bytes: 8, Sizes: repeat(8, 1)}, 4, 256 << 20, 8, []int64{2, 2, 2, 2}, 16 - 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.before.Blocks(block); got != tc.blocks {
				t.Errorf("Blocks = %d, want %d", got, tc.blocks)
			}
			after := tc.before.Merged(tc.n, tc.target)
			if after.Files != tc.n || after.Bytes != tc.before.Bytes || !slices.Equal(after.Sizes, tc.after) {
				t.Errorf("Merged = %+v, want sizes %v", after, tc.after)
			}
			if got := NameNodeObjectsSaved(tc.before, after, block); got != tc.saved {
				t.Errorf("NameNodeObjectsSaved = %d, want %d", got, tc.saved)
			}
		})
	}
}

func TestFileFactsAdd(t *testing.T) {
	a := FileFacts{Files: 2, Bytes: 3, Sizes: []int64{1, 2}}
	none := FileFacts{}
	totals := FileFacts{Files: 1, Bytes: 5}
	if got := a.Add(none); got.Files != 2 || !slices.Equal(got.Sizes, []int64{1, 2}) {
		t.Errorf("a+empty = %+v", got)
	}
	if got := a.Add(totals); got.Files != 3 || got.Bytes != 8 || got.Sizes != nil {
		t.Errorf("sizes+totals = %+v, want totals only", got)
	}
}

func TestEstimateDuration(t *testing.T) {
	if got := EstimateDuration(1<<30, 0); got != DurationUnknown {
		t.Errorf("without throughput: %q", got)
	}
	if got := EstimateDuration(600_000_000, 1_000_000); got != "10m0s" {
		t.Errorf("600 MB at 1 MB/s = %q, want 10m0s", got)
	}
}

func TestPreviewTotal(t *testing.T) {
	p := &Preview{Partitions: []PartitionPreview{
		{Source: SourceListing, FilesBefore: 10, BytesBefore: 100, FilesAfter: 1, BytesAfter: 100, NameNodeObjectsSaved: 18},
		{Source: SourceListing, FilesBefore: 1, BytesBefore: 7, FilesAfter: 1, BytesAfter: 7, Skipped: true},
	}}
	p.Total()
	want := PreviewTotals{Partitions: 2, PartitionsToMerge: 1, PartitionsSkipped: 1, FilesBefore: 11, BytesBefore: 107, FilesAfter: 2, BytesAfter: 107, NameNodeObjectsSaved: 18, BytesToRewrite: 100}
	if p.Totals != want || p.Source != SourceListing {
		t.Errorf("Total = %+v (%s), want %+v (listing)", p.Totals, p.Source, want)
	}
	p.Partitions[1].Source = SourceMetastore
	if p.Total(); p.Source != SourceMixed {
		t.Errorf("source = %s, want mixed", p.Source)
	}
}

func repeat(n int, size int64) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = size
	}
	return s
}
