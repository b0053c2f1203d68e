package hiveql

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// srcpart mirrors Hive's srcpart test table: four partitions of one file each.
var srcpart = []string{
	"create table srcpart (key string comment 'default', value string comment 'default') partitioned by (ds string, hr string)",
	"insert into srcpart partition (ds='2008-04-08', hr='11') values ('238','val_238'), ('86','val_86')",
	"insert into srcpart partition (ds='2008-04-08', hr='12') values ('311','val_311'), ('27','val_27')",
	"insert into srcpart partition (ds='2008-04-09', hr='11') values ('165','val_165'), ('409','val_409')",
	"insert into srcpart partition (ds='2008-04-09', hr='12') values ('255','val_255'), ('278','val_278')",
}

func threeInserts(table string) []string {
	return []string{
		fmt.Sprintf("insert into %s values (1, 'one'), (2, 'two')", table),
		fmt.Sprintf("insert into %s values (3, 'three'), (4, 'four')", table),
		fmt.Sprintf("insert into %s values (5, 'five'), (6, 'six')", table),
	}
}

type goldenCase struct {
	name    string   // golden file: testdata/golden/<name>.golden
	fixture string   // Hive's output for the same statement on an equivalent table
	setup   []string // statements that build the equivalent table
	stmt    string   // the statement compared; the fixture's statement when empty
}

func goldenCases() []goldenCase {
	return []goldenCase{
		{
			name: "describe-formatted-managed-textfile", fixture: "describe-formatted-managed-textfile-hive4.txt",
			setup: []string{"create table table1_n17 (a string, b string)"},
		},
		{
			name: "describe-formatted-external-like", fixture: "describe-formatted-external-hive4.txt",
			setup: []string{"create table table1_n17 (a string, b string)", "create external table table3_n3 like table1_n17"},
		},
		{
			name: "describe-formatted-parquet", fixture: "describe-formatted-parquet.txt",
			setup: []string{"create table parquet_stats (id int, str string) stored as parquet", "insert into parquet_stats values (101, 'line1'), (101, 'line2')"},
		},
		{
			name: "describe-formatted-field-delim", fixture: "describe-formatted-textfile-field-delim.txt",
			setup: []string{
				"create table nzhang_ctas4 (key string, value string) row format delimited fields terminated by ','",
				"insert into nzhang_ctas4 values ('0','val_0'),('0','val_0'),('0','val_0'),('10','val_10'),('100','val_100'),('100','val_100'),('103','val_103'),('103','val_103'),('104','val_104'),('104','val_104')",
			},
		},
		{
			name: "describe-formatted-acid-bucketed", fixture: "describe-formatted-acid-bucketed-orc-empty-hive4.txt",
			setup: []string{"create table t (a int, b int) clustered by (a) into 2 buckets stored as orc tblproperties ('transactional'='true')"},
		},
		{name: "describe-formatted-partitioned", fixture: "describe-formatted-partitioned-srcpart.txt", setup: srcpart},
		{name: "describe-formatted-partition", fixture: "describe-formatted-partition-srcpart.txt", setup: srcpart},
		{name: "show-partitions-multilevel", fixture: "show-partitions-multilevel.txt", setup: srcpart},
		{name: "show-partitions-filtered", fixture: "show-partitions-multilevel-filtered.txt", setup: srcpart},
		{
			name: "show-partitions-escaped", fixture: "show-partitions-escaped-colon.txt",
			setup: []string{
				"create table sc_part (key string) partitioned by (ts string)",
				"alter table sc_part add partition (ts='2011-01-11+14:18:26') partition (ts='2011-01-11+15:18:26') partition (ts='2011-01-11+16:18:26')",
			},
		},
		{
			name: "show-partitions-default-partition", fixture: "show-partitions-explicit-default-partition.txt",
			setup: []string{"create table default_partition_name (key int, value string) partitioned by (ds string)", "alter table default_partition_name add partition(ds='__HIVE_DEFAULT_PARTITION__')"},
		},
		{
			name: "show-table-extended-in-database", fixture: "show-table-extended-in-database.txt",
			setup: []string{"create table src (key string, value string)", "insert into src values ('238','val_238')"},
		},
		{name: "show-table-extended-partition", fixture: "show-table-extended-multilevel-partition.txt", setup: srcpart},
		{
			name: "show-table-extended-orc", fixture: "show-table-extended-orc-before-concat.txt",
			setup: append([]string{"create table src_orc_merge_test_stat (key int, value string) stored as orc"}, threeInserts("src_orc_merge_test_stat")...),
		},
		{
			name: "show-table-extended-rcfile-before-concat", fixture: "show-table-extended-rcfile-before-concat.txt",
			setup: append([]string{"create table src_rc_merge_test (key int, value string) stored as rcfile"}, threeInserts("src_rc_merge_test")...),
		},
		{
			name: "show-table-extended-rcfile-after-concat", fixture: "show-table-extended-rcfile-after-concat.txt",
			setup: append(append([]string{"create table src_rc_merge_test (key int, value string) stored as rcfile"}, threeInserts("src_rc_merge_test")...), "alter table src_rc_merge_test concatenate"),
		},
		{
			name: "show-table-extended-rcfile-partition", fixture: "show-table-extended-rcfile-partition-before-concat.txt",
			setup: []string{
				"create table src_rc_merge_test_part (key int, value string) partitioned by (ds string) stored as rcfile",
				"insert into src_rc_merge_test_part partition (ds='2011') values (1, 'one')",
				"insert into src_rc_merge_test_part partition (ds='2011') values (2, 'two')",
				"insert into src_rc_merge_test_part partition (ds='2011') values (3, 'three')",
			},
		},
		{
			name: "show-tblproperties-all", fixture: "show-tblproperties-all.txt",
			setup: []string{"create table tmpfoo (a string)", `alter table tmpfoo set tblproperties ("bar" = "bar value")`, `alter table tmpfoo set tblproperties ("tmp" = "true")`},
		},
		{
			name: "show-tblproperties-missing-key", fixture: "show-tblproperties-missing-key.txt",
			setup: []string{"create table tmpfoo (a string)"},
		},
		{
			name: "show-tblproperties-other-database", fixture: "show-tblproperties-other-database.txt",
			setup: []string{"create database db1", "create table db1.tmpfoo (b string)", `alter table db1.tmpfoo set tblproperties ("bar" = "bar value1")`, `alter table db1.tmpfoo set tblproperties ("tmp" = "true1")`},
		},
		{
			name: "show-compactions-partitioned", fixture: "show-compactions-partitioned-masked.txt",
			setup: []string{
				"create table ice_part (a int) partitioned by (j int) stored as orc tblproperties ('transactional'='true')",
				"insert into ice_part partition (j=1) values (1)", "insert into ice_part partition (j=1) values (2)",
				"insert into ice_part partition (j=2) values (3)", "insert into ice_part partition (j=2) values (4)",
				"alter table ice_part partition (j=1) compact 'major' and wait",
				"alter table ice_part partition (j=2) compact 'major' and wait",
			},
		},
		{
			name: "show-compactions-unpartitioned", fixture: "show-compactions-unpartitioned-masked.txt",
			setup: []string{
				"create table ice_t1 (a int) stored as orc tblproperties ('transactional'='true')",
				"insert into ice_t1 values (1)", "insert into ice_t1 values (2)",
				"alter table ice_t1 compact 'major' and wait",
			},
		},
	}
}

// TestGoldenLayouts checks the sandbox's metadata outputs against golden files (regenerate
// with -update) and, structurally, against Apache Hive's own outputs for the same statements:
// same lines, same sections and keys, same number of fields per line and the same padding,
// with volatile values (sizes, times, ids) normalised.
func TestGoldenLayouts(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			w := newWarehouse(t)
			s := w.NewSession("hive_test_user")
			run(t, s, tc.setup...)
			stmt, want := fixture(t, tc.fixture)
			if tc.stmt != "" {
				stmt = tc.stmt
			}
			res, err := s.Execute(context.Background(), stmt, Events{})
			if err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
			got := mask(render(res))
			compactions := strings.HasPrefix(tc.name, "show-compactions")
			if compactions {
				got = qtReplaceCompactions(got)
			}
			golden := filepath.Join("testdata", "golden", tc.name+".golden")
			text := strings.Join(got, "\n") + "\n"
			if *update {
				if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			old, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if string(old) != text {
				t.Errorf("%s differs from golden file %s:\n got:\n%s\nwant:\n%s", stmt, golden, text, old)
			}
			compareLayout(t, got, want, compactions)
		})
	}
}

var digits = regexp.MustCompile(`[0-9]+`)

// cellShape is what must match between a sandbox cell and Hive's: the text with numbers
// normalised, and how the cell is padded.
func cellShape(c string, looseValues bool) string {
	if c == " " {
		return "NULL"
	}
	text := digits.ReplaceAllString(strings.TrimRight(c, " "), "N")
	if looseValues && (text == "N" || c == noValue) {
		return "value"
	}
	// Which column statistics are accurate depends on how the table was loaded, not on
	// the layout.
	if strings.HasPrefix(text, `{\"BASIC_STATS\"`) {
		text = "basic stats JSON"
	}
	var padding string
	switch trimmed := strings.TrimRight(c, " "); {
	case c == "":
		padding = "empty"
	case len(trimmed) < len(c):
		padding = fmt.Sprintf("padded to %d", len(c))
	default:
		padding = "unpadded"
	}
	return text + " (" + padding + ")"
}

func compareLayout(t *testing.T, got, want []string, looseValues bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("sandbox printed %d lines, Hive %d:\nsandbox:\n%s\nhive:\n%s", len(got), len(want), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := range got {
		g, h := strings.Split(got[i], "\t"), strings.Split(want[i], "\t")
		if len(g) != len(h) {
			t.Errorf("line %d: %d fields, Hive has %d\n sandbox: %q\n    hive: %q", i+1, len(g), len(h), got[i], want[i])
			continue
		}
		for k := range g {
			if gs, hs := cellShape(g[k], looseValues), cellShape(h[k], looseValues); gs != hs {
				t.Errorf("line %d field %d: sandbox %q is %s, Hive %q is %s", i+1, k+1, g[k], gs, h[k], hs)
			}
		}
	}
}

// qtReplaceCompactions applies the fixture's qt:replace directives to SHOW COMPACTIONS
// data rows: the id, and the run from Worker host to Initiator host, become #Masked#.
func qtReplaceCompactions(lines []string) []string {
	out := []string{lines[0]}
	for _, l := range lines[1:] {
		f := strings.Split(l, "\t")
		row := append([]string{"#Masked#"}, f[1:6]...)
		row = append(row, "#Masked#")
		row = append(row, f[14:]...)
		// Commit times and write ids vary from run to run.
		for i := len(row) - 4; i < len(row); i++ {
			if row[i] != noValue {
				row[i] = digits.ReplaceAllString(row[i], "0")
			}
		}
		out = append(out, strings.Join(row, "\t"))
	}
	return out
}
