package hql

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	srcpart = Table{Database: "default", Name: "srcpart"}
	tmp     = Table{Database: "default", Name: "hivemerge_tmp_srcpart_1"}
	plain   = Table{Database: "sales", Name: "orders"}
	// srcpart's partition columns, as in Hive's test warehouse but with an int hour.
	partCols = []Column{{"ds", "string"}, {"hr", "int"}}
)

func mustSpec(t *testing.T, cols []Column, vals map[string]string) Spec {
	t.Helper()
	s, err := NewSpec(cols, vals)
	if err != nil {
		t.Fatalf("NewSpec(%v, %v): %v", cols, vals, err)
	}
	return s
}

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got+"\n" != string(want) {
		t.Errorf("%s differs from golden file\n got: %s\nwant: %s", name, got, strings.TrimSuffix(string(want), "\n"))
	}
}

func TestStatements(t *testing.T) {
	one := mustSpec(t, partCols, map[string]string{"ds": "2008-04-08", "hr": "11"})
	day := mustSpec(t, partCols, map[string]string{"ds": "2008-04-08"})
	hour := mustSpec(t, partCols, map[string]string{"hr": "11"})
	whole := mustSpec(t, partCols, nil)
	null := mustSpec(t, partCols, map[string]string{"ds": "2008-04-08", "hr": DefaultPartition})
	neg := mustSpec(t, partCols, map[string]string{"ds": "2008-04-08", "hr": "-1"})
	quoted := mustSpec(t, partCols, map[string]string{"ds": `it's a "test" \ ok`, "hr": "0"})
	typed := mustSpec(t, []Column{{"d", "date"}, {"ts", "timestamp"}, {"n", "bigint"}, {"v", "varchar(10)"}, {"b", "boolean"}, {"m", "decimal(10,2)"}},
		map[string]string{"d": "2024-02-29", "ts": "2024-01-01 10:00:00.5", "n": "-9000000000", "v": "x", "b": "TRUE", "m": "1.50"})
	none := Spec{}

	cases := []struct {
		name  string
		build func() (string, error)
	}{
		{"use", func() (string, error) { return Use("sales") }},
		{"set-merge-tezfiles", func() (string, error) { return Set("hive.merge.tezfiles", "true") }},
		{"set-java-opts", func() (string, error) { return Set("hive.tez.java.opts", "-Xmx4096m -XX:+UseG1GC") }},
		{"describe-table", func() (string, error) { return DescribeFormatted(srcpart, whole) }},
		{"describe-partition", func() (string, error) { return DescribeFormatted(srcpart, one) }},
		{"describe-default-partition", func() (string, error) { return DescribeFormatted(srcpart, null) }},
		{"describe-negative-int-partition", func() (string, error) { return DescribeFormatted(srcpart, neg) }},
		{"describe-quoted-value", func() (string, error) { return DescribeFormatted(srcpart, quoted) }},
		{"describe-typed-partition", func() (string, error) { return DescribeFormatted(plain, typed) }},
		{"show-partitions", func() (string, error) { return ShowPartitions(srcpart, whole) }},
		{"show-partitions-filtered", func() (string, error) { return ShowPartitions(srcpart, hour) }},
		{"show-table-extended", func() (string, error) { return ShowTableExtended(plain, none) }},
		{"show-table-extended-partition", func() (string, error) { return ShowTableExtended(srcpart, one) }},
		{"show-tblproperties", func() (string, error) { return ShowTableProperties(srcpart) }},
		{"show-tblproperty", func() (string, error) { return ShowTableProperty(srcpart, "transactional") }},
		{"show-databases", ShowDatabases},
		{"show-compactions", ShowCompactions},
		{"concatenate-table", func() (string, error) { return Concatenate(plain, none) }},
		{"concatenate-partition", func() (string, error) { return Concatenate(srcpart, one) }},
		{"compact-major-table", func() (string, error) { return CompactMajor(plain, none) }},
		{"compact-major-partition", func() (string, error) { return CompactMajor(srcpart, one) }},
		{"insert-overwrite-table", func() (string, error) { return InsertOverwrite(plain, plain, none, []string{"id", "amount"}) }},
		{"insert-overwrite-partition", func() (string, error) { return InsertOverwrite(tmp, srcpart, one, []string{"key", "value"}) }},
		{"insert-overwrite-default-partition", func() (string, error) { return InsertOverwrite(tmp, srcpart, null, []string{"key", "value"}) }},
		{"insert-overwrite-dynamic-hour", func() (string, error) { return InsertOverwrite(tmp, srcpart, day, []string{"key", "value"}) }},
		{"insert-overwrite-dynamic-all", func() (string, error) { return InsertOverwrite(tmp, srcpart, whole, []string{"key", "value"}) }},
		{"create-external-like", func() (string, error) {
			return CreateExternalLike(tmp, srcpart, "hdfs://nn:8020/warehouse/.hivemerge/srcpart/ds=2008-04-08/hr=11/1")
		}},
		{"create-external-like-gs", func() (string, error) { return CreateExternalLike(tmp, srcpart, "gs://bucket/warehouse/tmp_1") }},
		{"set-location-partition", func() (string, error) {
			return SetLocation(srcpart, one, "hdfs://nn:8020/warehouse/.hivemerge/srcpart/ds=2008-04-08/hr=11/1")
		}},
		{"set-location-table", func() (string, error) { return SetLocation(plain, none, "viewfs://cluster/warehouse/orders_merged") }},
		{"set-location-escaped-path", func() (string, error) {
			return SetLocation(srcpart, one, "file:/tmp/warehouse/sc_part/ts=2011-01-11+14%3A18%3A26")
		}},
		{"drop-external-table", func() (string, error) { return DropExternalTable(tmp) }},
		{"analyze-table", func() (string, error) { return Analyze(plain, none) }},
		{"analyze-partition", func() (string, error) { return Analyze(srcpart, one) }},
		{"analyze-all-partitions", func() (string, error) { return Analyze(srcpart, whole) }},
		{"checksum-table", func() (string, error) { return Checksum(plain, []string{"id", "amount"}, none) }},
		{"checksum-partition", func() (string, error) { return Checksum(srcpart, []string{"key", "value"}, one) }},
		{"checksum-default-partition", func() (string, error) { return Checksum(srcpart, []string{"key", "value"}, null) }},
		{"checksum-negative-int", func() (string, error) { return Checksum(srcpart, []string{"key"}, neg) }},
		{"checksum-typed", func() (string, error) { return Checksum(plain, []string{"id"}, typed) }},
		{"msck-repair", func() (string, error) { return MsckRepair(srcpart) }},
		{"set-tblproperties", func() (string, error) {
			return SetTableProperties(srcpart, map[string]string{"hivemerge.backup": "hdfs://nn/warehouse/.hivemerge/b1", "comment": "merged\tby 'hivemerge'\n"})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.build()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tokenize(got); err != nil && !strings.HasPrefix(got, "SET ") {
				t.Errorf("tokenize(%q): %v", got, err)
			}
			golden(t, tc.name+".sql", got)
		})
	}
}

func TestRefused(t *testing.T) {
	one := mustSpec(t, partCols, map[string]string{"ds": "2008-04-08", "hr": "11"})
	day := mustSpec(t, partCols, map[string]string{"ds": "2008-04-08"})
	hour := mustSpec(t, partCols, map[string]string{"hr": "11"})
	whole := mustSpec(t, partCols, nil)
	long := strings.Repeat("a", merge.MaxIdentifierLen+1)

	cases := []struct {
		name  string
		build func() (string, error)
	}{
		{"empty identifier", func() (string, error) { return Use("") }},
		{"identifier with backtick", func() (string, error) { return Use("a`b") }},
		{"identifier with dot", func() (string, error) { return Use("a.b") }},
		{"identifier with space", func() (string, error) { return Use("a b") }},
		{"identifier with unicode", func() (string, error) { return Use("tablé") }},
		{"identifier too long", func() (string, error) { return Use(long) }},
		{"table without database", func() (string, error) { return MsckRepair(Table{Name: "t"}) }},
		{"bad table name", func() (string, error) { return MsckRepair(Table{Database: "d", Name: "t;drop"}) }},
		{"set key with space", func() (string, error) { return Set("hive merge", "true") }},
		{"set key with equals", func() (string, error) { return Set("a=b", "true") }},
		{"set value with semicolon", func() (string, error) { return Set("hive.merge.tezfiles", "true; DROP TABLE x") }},
		{"set value with substitution", func() (string, error) { return Set("hive.merge.tezfiles", "${hiveconf:x}") }},
		{"set value with newline", func() (string, error) { return Set("k", "a\nb") }},
		{"set value with quote", func() (string, error) { return Set("k", "'a'") }},
		{"set empty value", func() (string, error) { return Set("k", "") }},
		{"set value with double space", func() (string, error) { return Set("k", "a  b") }},
		{"concatenate partial spec", func() (string, error) { return Concatenate(srcpart, day) }},
		{"concatenate partitioned without spec", func() (string, error) { return Concatenate(srcpart, whole) }},
		{"compact partial spec", func() (string, error) { return CompactMajor(srcpart, hour) }},
		{"describe partial spec", func() (string, error) { return DescribeFormatted(srcpart, hour) }},
		{"show table extended partial spec", func() (string, error) { return ShowTableExtended(srcpart, day) }},
		{"set location partial spec", func() (string, error) { return SetLocation(srcpart, day, "hdfs://nn/x") }},
		{"insert static after dynamic", func() (string, error) { return InsertOverwrite(tmp, srcpart, hour, []string{"key"}) }},
		{"insert partition column in select list", func() (string, error) { return InsertOverwrite(tmp, srcpart, one, []string{"key", "ds"}) }},
		{"insert no columns", func() (string, error) { return InsertOverwrite(tmp, srcpart, one, nil) }},
		{"insert duplicate column", func() (string, error) { return InsertOverwrite(tmp, srcpart, one, []string{"key", "KEY"}) }},
		{"checksum no columns", func() (string, error) { return Checksum(srcpart, nil, one) }},
		{"location with quote", func() (string, error) { return SetLocation(plain, Spec{}, "hdfs://nn/a'b") }},
		{"location with backslash", func() (string, error) { return SetLocation(plain, Spec{}, `hdfs://nn/a\b`) }},
		{"location with newline", func() (string, error) { return SetLocation(plain, Spec{}, "hdfs://nn/a\nb") }},
		{"location with substitution", func() (string, error) { return SetLocation(plain, Spec{}, "hdfs://nn/${x}") }},
		{"location scheme http", func() (string, error) { return SetLocation(plain, Spec{}, "http://nn/a") }},
		{"location relative", func() (string, error) { return SetLocation(plain, Spec{}, "warehouse/a") }},
		{"location parent segment", func() (string, error) { return SetLocation(plain, Spec{}, "hdfs://nn/warehouse/../etc") }},
		{"location trailing space", func() (string, error) { return SetLocation(plain, Spec{}, "hdfs://nn/a ") }},
		{"tblproperties empty", func() (string, error) { return SetTableProperties(plain, nil) }},
		{"tblproperties key with quote", func() (string, error) { return SetTableProperties(plain, map[string]string{"a'b": "c"}) }},
		{"tblproperties value with substitution", func() (string, error) { return SetTableProperties(plain, map[string]string{"a": "${env:HOME}"}) }},
		{"tblproperties value with NUL", func() (string, error) { return SetTableProperties(plain, map[string]string{"a": "x\x00y"}) }},
		{"tblproperties value with bell", func() (string, error) { return SetTableProperties(plain, map[string]string{"a": "x\ay"}) }},
		{"tblproperties value invalid utf8", func() (string, error) { return SetTableProperties(plain, map[string]string{"a": "x\xffy"}) }},
		{"tblproperty name with paren", func() (string, error) { return ShowTableProperty(plain, "a)") }},
		{"literal with substitution", func() (string, error) { return Literal("a${b}") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.build()
			if err == nil {
				t.Fatalf("accepted: %q", got)
			}
			if !errors.Is(err, merge.ErrInvalid) {
				t.Errorf("error %v is not merge.ErrInvalid", err)
			}
		})
	}
}

func TestNewSpecRefuses(t *testing.T) {
	cases := []struct {
		name string
		cols []Column
		vals map[string]string
	}{
		{"unknown column", partCols, map[string]string{"dt": "x"}},
		{"same column twice by case", partCols, map[string]string{"ds": "a", "DS": "b"}},
		{"empty value", partCols, map[string]string{"ds": ""}},
		{"int not a number", partCols, map[string]string{"hr": "11 OR 1=1"}},
		{"int with plus", partCols, map[string]string{"hr": "+1"}},
		{"int hex", partCols, map[string]string{"hr": "0x1"}},
		{"int out of range", partCols, map[string]string{"hr": "2147483648"}},
		{"tinyint out of range", []Column{{"t", "tinyint"}}, map[string]string{"t": "128"}},
		{"date wrong layout", []Column{{"d", "date"}}, map[string]string{"d": "2024/01/01"}},
		{"date not a day", []Column{{"d", "date"}}, map[string]string{"d": "2023-02-29"}},
		{"timestamp wrong layout", []Column{{"t", "timestamp"}}, map[string]string{"t": "2024-01-01T00:00:00"}},
		{"timestamp bad hour", []Column{{"t", "timestamp"}}, map[string]string{"t": "2024-01-01 25:00:00"}},
		{"boolean other", []Column{{"b", "boolean"}}, map[string]string{"b": "yes"}},
		{"decimal exponent", []Column{{"m", "decimal(10,2)"}}, map[string]string{"m": "1e5"}},
		{"unsupported type", []Column{{"f", "double"}}, nil},
		{"bad column name", []Column{{"a-b", "string"}}, nil},
		{"duplicate column", []Column{{"a", "string"}, {"A", "int"}}, nil},
		{"control character", partCols, map[string]string{"ds": "a\nb"}},
		{"tab", partCols, map[string]string{"ds": "a\tb"}},
		{"substitution", partCols, map[string]string{"ds": "${hivevar:x}"}},
		{"invalid utf8", partCols, map[string]string{"ds": "\xc3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewSpec(tc.cols, tc.vals); !errors.Is(err, merge.ErrInvalid) {
				t.Errorf("NewSpec = %v, want merge.ErrInvalid", err)
			}
		})
	}
}

func TestSpecOrderAndCase(t *testing.T) {
	s := mustSpec(t, partCols, map[string]string{"HR": "011", "Ds": "x=y/z"})
	if got, want := s.String(), "ds=x=y/z/hr=11"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	got, err := DescribeFormatted(srcpart, s)
	if err != nil {
		t.Fatal(err)
	}
	if want := "DESCRIBE FORMATTED `default`.`srcpart` PARTITION (`ds`='x=y/z', `hr`=11)"; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestLiteralRoundTrip(t *testing.T) {
	cases := map[string]string{
		"plain":           "abc",
		"quotes":          `it's "quoted"`,
		"backslash":       `C:\new\table`,
		"backslash octal": `\012`,
		"backslash u":     `\u0041`,
		"percent":         `50% \% _`,
		"whitespace":      "a\nb\tc\rd",
		"unicode":         "żółw 🐢",
		"trailing slash":  `a\`,
		"adjacent quotes": `''`,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			lit, err := Literal(in)
			if err != nil {
				t.Fatal(err)
			}
			toks, err := tokenize(lit)
			if err != nil {
				t.Fatal(err)
			}
			if len(toks) != 1 || toks[0].kind != tokLit || toks[0].text != in {
				t.Errorf("Literal(%q) = %s tokenizes to %v", in, lit, toks)
			}
		})
	}
}

// TestIdentRuleIsTheDomainRule: a name merge.CheckIdentifier accepts in a request is one every
// builder accepts, and the other way round, so validation and SQL building cannot disagree
// (on length or characters).
func TestIdentRuleIsTheDomainRule(t *testing.T) {
	for _, c := range []struct{ name, ident string }{
		{"empty", ""},
		{"plain", "page_views"},
		{"digits first", "2024_events"},
		{"upper case", "PageViews"},
		{"longest", strings.Repeat("a", merge.MaxIdentifierLen)},
		{"one too long", strings.Repeat("a", merge.MaxIdentifierLen+1)},
		{"dot", "a.b"},
		{"backtick", "a`b"},
		{"space", "a b"},
		{"dash", "a-b"},
		{"unicode", "tablé"},
		{"substitution", "${x}"},
		{"NUL", "a\x00b"},
	} {
		t.Run(c.name, func(t *testing.T) {
			domain := merge.CheckIdentifier("table_name", c.ident)
			_, built := Ident(c.ident)
			if (domain == nil) != (built == nil) {
				t.Errorf("merge.CheckIdentifier: %v; hql.Ident: %v", domain, built)
			}
			if built != nil && !errors.Is(built, merge.ErrInvalid) {
				t.Errorf("hql.Ident error %v is not ErrInvalid", built)
			}
		})
	}
}
