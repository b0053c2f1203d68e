package merge

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func sizes(n int, size int64) FileFacts {
	f := FileFacts{Sizes: []int64{}}
	for range n {
		f = f.Add(FileFacts{Files: 1, Bytes: size, Sizes: []int64{size}})
	}
	return f
}

func TestMeasure(t *testing.T) {
	f := sizes(3, 100).Add(sizes(2, 20<<20)).Add(sizes(1, 300<<20))
	s := Measure(f, Thresholds{})
	want := FileStats{Files: 6, Bytes: 3*100 + 2*(20<<20) + 300<<20, SmallFiles: 3, Blocks: 3 + 2 + 3}
	want.Histogram[0], want.Histogram[2], want.Histogram[5] = 3, 2, 1
	if s != want {
		t.Errorf("Measure = %+v, want %+v", s, want)
	}
	// Totals only: every file is taken at the average size.
	s = Measure(FileFacts{Files: 10, Bytes: 10 * 2_000_000}, Thresholds{})
	if s.SmallFiles != 10 || s.Histogram[1] != 10 || s.Blocks != 10 {
		t.Errorf("Measure(totals) = %+v", s)
	}
	if got := Measure(FileFacts{Files: 4, Bytes: 4 * 1000}, Thresholds{SmallFileSize: 500}); got.SmallFiles != 0 {
		t.Errorf("a 500-byte threshold counted %d small files of 1000 bytes", got.SmallFiles)
	}
}

func TestScore(t *testing.T) {
	th := Thresholds{}.WithDefaults()
	eval := func(f FileFacts) Evaluation {
		return EvaluatePartition(TableFacts{Format: FormatText}, f, time.Time{}, th, time.Now())
	}
	tests := []struct {
		name     string
		files    FileFacts
		min, max int
		rule     string // words one of the rules must contain
	}{
		{"empty", FileFacts{Sizes: []int64{}}, 100, 100, "no data files"},
		{"one large file", sizes(1, 200_000_000), 100, 100, "no merge would reduce them"},
		{"two target-sized files", sizes(2, 250_000_000), 100, 100, "no merge"},
		{"2480 tiny files", sizes(2431, 1000).Add(sizes(49, 20_000_000)), 0, 30, "2,431 of 2,480 files are under 16.0 MB"},
		{"half small", sizes(50, 1000).Add(sizes(50, 100_000_000)), 40, 80, "50 of 100 files"},
		{"three mid-sized files", sizes(3, 50_000_000), 60, 99, "leave 1 instead of 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := eval(tc.files).Health
			if h.Score < tc.min || h.Score > tc.max {
				t.Errorf("score %d, want %d..%d (%q)", h.Score, tc.min, tc.max, h.Rules)
			}
			if !slices.ContainsFunc(h.Rules, func(r string) bool { return strings.Contains(r, tc.rule) }) {
				t.Errorf("rules %q do not say %q", h.Rules, tc.rule)
			}
		})
	}
	// More of the same damage never scores better.
	a, b := eval(sizes(100, 1000)).Health.Score, eval(sizes(10000, 1000)).Health.Score
	if b > a {
		t.Errorf("10,000 tiny files scored %d, better than 100 (%d)", b, a)
	}
	// Spread over many partitions, the same files hurt less per partition.
	files := Measure(sizes(10000, 1000), th)
	sav := Savings{Files: 9999, NameNodeObjects: 19998}
	if one, many := Score(files, 1, sav, th).Score, Score(files, 1000, sav, th).Score; many < one {
		t.Errorf("1,000 partitions scored %d, worse than one partition (%d)", many, one)
	}
}

func TestRecommend(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	old := now.Add(-48 * time.Hour)
	small := sizes(200, 1_000_000)   // 1 MB files: tiny stripes
	mid := sizes(20, 40_000_000)     // 40 MB files: worth concatenating
	healthy := sizes(1, 200_000_000) // nothing to merge
	orc := TableFacts{Format: FormatORC, Partitioned: true}
	tests := []struct {
		name    string
		table   TableFacts
		files   FileFacts
		lastMod time.Time
		th      Thresholds
		merge   bool
		want    Strategy
		rule    string
		why     string
	}{
		{"orc managed", orc, mid, old, Thresholds{}, true, StrategyConcatenate, RuleAutoConcatenate, "CONCATENATE"},
		{"orc managed tiny files", orc, small, old, Thresholds{}, true, StrategySafeMerge, RuleAutoTinyStripes, "stripes"},
		{"text", TableFacts{Format: FormatText}, small, old, Thresholds{}, true, StrategySafeMerge, RuleAutoRewrite, "text"},
		{"transactional", TableFacts{Format: FormatORC, Transactional: true}, small, old, Thresholds{}, true, StrategyACIDCompact, RuleAutoACID, "compaction"},
		{"bucketed", TableFacts{Format: FormatORC, Buckets: 2}, sizes(40, 40_000_000), old, Thresholds{}, true, StrategySafeMerge, RuleAutoRewrite, "bucketed"},
		{"bucketed at its bucket count", TableFacts{Format: FormatORC, Buckets: 8}, sizes(8, 1000), old, Thresholds{}, false, "", RuleHealthy, "do not merge"},
		{"healthy", orc, healthy, old, Thresholds{}, false, "", RuleHealthy, "do not merge"},
		{"iceberg", TableFacts{Format: FormatParquet, TableFormat: TableFormatIceberg}, small, old, Thresholds{}, false, "", RuleOpenTableFormat, "rewrite_data_files"},
		{"storage handler", TableFacts{Format: FormatOther, StorageHandler: "org.apache.hadoop.hive.hbase.HBaseStorageHandler"}, small, old, Thresholds{}, false, "", RuleStorageHandler, "HBase"},
		{"quiet period", orc, mid, now.Add(-10 * time.Minute), Thresholds{}, false, "", RuleQuietPeriod, "10m0s ago"},
		{"quiet period over", orc, mid, now.Add(-2 * time.Hour), Thresholds{}, true, StrategyConcatenate, RuleAutoConcatenate, "CONCATENATE"},
		{"unknown modification time", orc, mid, time.Time{}, Thresholds{}, true, StrategyConcatenate, RuleAutoConcatenate, "CONCATENATE"},
		{"too large", orc, mid, old, Thresholds{MaxStepBytes: 100_000_000}, false, "", RuleTooLarge, "800.0 MB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, e := range []Evaluation{
				EvaluatePartition(tc.table, tc.files, tc.lastMod, tc.th, now),
				EvaluateTable(tc.table, []Evaluation{EvaluatePartition(tc.table, tc.files, tc.lastMod, tc.th, now), EvaluatePartition(tc.table, FileFacts{Sizes: []int64{}}, tc.lastMod, tc.th, now)}, tc.th, now),
			} {
				r := e.Recommendation
				if r.Merge != tc.merge || r.Strategy != tc.want || r.Rule != tc.rule || !strings.Contains(r.Reason, tc.why) {
					t.Errorf("got %+v, want merge=%v %q by %s saying %q", r, tc.merge, tc.want, tc.rule, tc.why)
				}
			}
		})
	}
}

// The recommendation is the planner's decision: Choose over the files that need merging.
func TestRecommendAgreesWithChoose(t *testing.T) {
	now := time.Now()
	tables := []TableFacts{{Format: FormatORC}, {Format: FormatORC, External: true}, {Format: FormatText}, {Format: FormatORC, Transactional: true}, {Format: FormatRCFile, Buckets: 3}}
	for _, tb := range tables {
		parts := []FileFacts{sizes(30, 1_000_000), sizes(1, 300_000_000), sizes(12, 30_000_000)}
		var evals []Evaluation
		var need FileFacts
		for _, p := range parts {
			evals = append(evals, EvaluatePartition(tb, p, time.Time{}, Thresholds{}, now))
			if !Assess(tb, p, DefaultTargetFileSize).Skip {
				need = need.Add(p)
			}
		}
		d, err := Choose(tb, need, StrategyAuto)
		if err != nil {
			t.Fatal(err)
		}
		r := EvaluateTable(tb, evals, Thresholds{}, now).Recommendation
		if r.Strategy != d.Strategy || r.Rule != d.Rule {
			t.Errorf("%+v: recommended %s (%s), the planner chooses %s (%s)", tb, r.Strategy, r.Rule, d.Strategy, d.Rule)
		}
	}
}

func TestEvaluateTableSavings(t *testing.T) {
	now := time.Now()
	tb := TableFacts{Format: FormatText, Partitioned: true}
	a := EvaluatePartition(tb, sizes(100, 1000), time.Time{}, Thresholds{}, now)
	b := EvaluatePartition(tb, sizes(1, 1000), time.Time{}, Thresholds{}, now)
	if a.Savings != (Savings{Files: 99, NameNodeObjects: 198, HeapBytes: 198 * NameNodeBytesPerObject}) {
		t.Errorf("savings of 100 tiny files: %+v", a.Savings)
	}
	e := EvaluateTable(tb, []Evaluation{a, b}, Thresholds{}, now)
	if e.Stats.Files != 101 || e.Savings != a.Savings || !e.NeedsMerge || b.NeedsMerge {
		t.Errorf("table: %+v", e)
	}
}

func TestScanLogIsBounded(t *testing.T) {
	var s Scan
	for i := range MaxScanLog + 7 {
		s.AddLog(time.Unix(int64(i), 0), "INFO", "line")
	}
	if len(s.Log) != MaxScanLog || s.LogDropped != 7 || s.Log[0].Time.Unix() != 7 {
		t.Errorf("log of %d entries, %d dropped, first at %d", len(s.Log), s.LogDropped, s.Log[0].Time.Unix())
	}
}

func TestScanScopeValidate(t *testing.T) {
	tests := []struct {
		name  string
		scope ScanScope
		ok    bool
	}{
		{"cluster", ScanScope{}, true},
		{"database", ScanScope{Database: "web"}, true},
		{"table", ScanScope{Database: "web", Table: "events"}, true},
		{"partitions", ScanScope{Database: "web", Table: "events", Partitions: []PartitionSpec{{"dt": "2024-01-01"}}}, true},
		{"table without database", ScanScope{Table: "events"}, false},
		{"partitions without table", ScanScope{Database: "web", Partitions: []PartitionSpec{{"dt": "x"}}}, false},
		{"quoted database", ScanScope{Database: "web`; DROP"}, false},
		{"variable in a value", ScanScope{Database: "web", Table: "events", Partitions: []PartitionSpec{{"dt": "${env:HOME}"}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.scope.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 2431: "2,431", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestGrowthOf(t *testing.T) {
	at := func(h float64) time.Time {
		return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(h * float64(time.Hour)))
	}
	tm := func(scan string, h float64, small int64, g *Growth) *TableMetrics {
		m := &TableMetrics{ScanID: scan, ScannedAt: at(h), Growth: g}
		m.Stats.SmallFiles = small
		return m
	}
	alerting := &Growth{Alert: true}
	tests := []struct {
		name             string
		prev, cur        *TableMetrics
		none, alert, hit bool
		perDay           float64
	}{
		{"first scan", nil, tm("b", 24, 100, nil), true, false, false, 0},
		{"same scan", tm("a", 0, 10, nil), tm("a", 24, 100, nil), true, false, false, 0},
		{"slow growth", tm("a", 0, 100, nil), tm("b", 24, 5000, nil), false, false, false, 0},
		{"fast growth crosses", tm("a", 0, 100, nil), tm("b", 24, 20100, nil), false, true, true, 0},
		{"still fast: no new crossing", tm("a", 0, 100, alerting), tm("b", 24, 20100, nil), false, true, false, 0},
		{"shrinking", tm("a", 0, 20000, alerting), tm("b", 24, 100, nil), false, false, false, 0},
		{"quick scans count as an hour apart", tm("a", 0, 0, nil), tm("b", 0.01, 400, nil), false, false, false, 0},
		{"configured threshold", tm("a", 0, 0, nil), tm("b", 24, 101, nil), false, true, true, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := GrowthOf(tc.prev, tc.cur, tc.perDay)
			if (g == nil) != tc.none {
				t.Fatalf("GrowthOf = %+v", g)
			}
			if g != nil && (g.Alert != tc.alert || g.Crossed != tc.hit || g.Alert != (g.Reason != "")) {
				t.Errorf("GrowthOf = %+v, want alert=%v crossed=%v", g, tc.alert, tc.hit)
			}
		})
	}
}
