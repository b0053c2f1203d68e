package hive

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func rowsOf(text string) [][]string { return splitRows(text) }

func TestParseMalformed(t *testing.T) {
	describeHead := "# col_name            \tdata_type           \tcomment             \n" +
		"a                   \tint                 \t                    \n" +
		"\t \t \n"
	cases := []struct {
		name  string
		parse func() error
		want  string // substring of the error
	}{
		{"describe detail row without colon", func() error {
			_, err := ParseTable(rowsOf(describeHead + "# Detailed Table Information\t \t \nDatabase \tdefault\t \n"))
			return err
		}, "line 5: expected \"Key:\""},
		{"describe bad bucket count", func() error {
			_, err := ParseTable(rowsOf(describeHead + "# Storage Information\t \t \nNum Buckets:\tmany\t \n"))
			return err
		}, "line 5: Num Buckets \"many\" is not a number"},
		{"describe bad bucket list", func() error {
			_, err := ParseTable(rowsOf(describeHead + "# Storage Information\t \t \nBucket Columns:\ta, b\t \n"))
			return err
		}, "line 5: Bucket Columns"},
		{"describe bad sort column", func() error {
			_, err := ParseTable(rowsOf(describeHead + "# Storage Information\t \t \nSort Columns:\t[a]\t \n"))
			return err
		}, "line 5: sort column \"a\""},
		{"describe column without name", func() error {
			_, err := ParseTable(rowsOf(describeHead + "\tint\t\n"))
			return err
		}, "line 4: column row without a name"},
		{"describe empty", func() error { _, err := ParseTable(nil); return err }, "no rows"},
		{"describe no columns", func() error {
			_, err := ParseTable(rowsOf("# Detailed Table Information\t \t \nDatabase:\tdefault\t \n"))
			return err
		}, "no columns"},
		{"describe partition as table", func() error {
			_, err := ParseTable(rowsOf(describeHead + "# Detailed Partition Information\t \t \n"))
			return err
		}, "describes a partition"},
		{"describe table as partition", func() error {
			_, err := ParsePartitionDetail(rowsOf(describeHead + "# Detailed Table Information\t \t \n"))
			return err
		}, "describes a table"},
		{"column stats without col_name", func() error { _, err := ParseColumnStats(rowsOf("min\t1\n")); return err }, "no col_name"},
		{"partition without equals", func() error { _, err := ParsePartitions(rowsOf("ds=1\nds\n"), nil); return err }, "line 2: partition name \"ds\": component \"ds\" has no '='"},
		{"partition empty value", func() error { _, err := ParsePartitions(rowsOf("ds=\n"), nil); return err }, "line 1"},
		{"partition empty key", func() error { _, err := ParsePartitions(rowsOf("=x\n"), nil); return err }, "line 1"},
		{"partition wrong keys", func() error { _, err := ParsePartitions(rowsOf("ds=1/hr=2\n"), []string{"ds", "min"}); return err }, "line 1"},
		{"partition two columns", func() error { _, err := ParsePartitions(rowsOf("ds=1\tx\n"), nil); return err }, "line 1: expected one column"},
		{"table status not key value", func() error {
			_, err := ParseTableStatus(rowsOf("tableName:t\nsomething odd\n"))
			return err
		}, "line 2: expected key:value"},
		{"table status bad number", func() error {
			_, err := ParseTableStatus(rowsOf("tableName:t\ntotalNumberFiles:3\ntotalFileSize:12k\n"))
			return err
		}, "line 3: totalFileSize"},
		{"table status bad boolean", func() error { _, err := ParseTableStatus(rowsOf("tableName:t\npartitioned:maybe\n")); return err }, "line 2"},
		{"table status no table", func() error { _, err := ParseTableStatus(rowsOf("owner:me\n")); return err }, "line 1: \"owner\" before the first tableName"},
		{"tblproperties one cell", func() error { _, err := ParseTableProperties(rowsOf("a\tb\nlonely\n")); return err }, "line 2: expected key and value"},
		{"tblproperties three cells", func() error { _, err := ParseTableProperties(rowsOf("a\tb\tc\n")); return err }, "line 1: expected two columns"},
		{"compactions short row without mask", func() error {
			_, err := ParseCompactions(nil, rowsOf(hive3Header+"1\tdefault\tt\n"))
			return err
		}, "line 2: 3 fields but the header has 12"},
		{"compactions long row", func() error {
			_, err := ParseCompactions(nil, rowsOf(hive3Header+strings.Repeat("x\t", 13)+"x\n"))
			return err
		}, "line 2: 14 fields"},
		{"compactions bad id", func() error {
			_, err := ParseCompactions(nil, rowsOf("x1\tdefault\tt\t --- \tMAJOR\tinitiated\t --- \t --- \t --- \t --- \t --- \t --- \n"))
			return err
		}, "line 1: compaction id \"x1\""},
		{"compactions unknown layout", func() error { _, err := ParseCompactions(nil, rowsOf("a\tb\tc\n")); return err }, "line 1: 3 fields and no header"},
		{"compactions missing state", func() error {
			_, err := ParseCompactions(nil, rowsOf("1\tdefault\tt\t --- \tMAJOR\t --- \t --- \t --- \t --- \t --- \t --- \t --- \n"))
			return err
		}, "line 1: missing database, table or state"},
		{"checksum two rows", func() error { _, err := ParseChecksum(rowsOf("1\t2\n3\t4\n")); return err }, "expected one row, got 2"},
		{"checksum not a number", func() error { _, err := ParseChecksum(rowsOf("1\tx\n")); return err }, "line 1: column 2"},
		{"checksum one column", func() error { _, err := ParseChecksum(rowsOf("1\n")); return err }, "expected 2 columns"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.parse()
			if err == nil {
				t.Fatal("parsed malformed output without an error")
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *ParseError: %v", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

const hive3Header = "CompactionId\tDatabase\tTable\tPartition\tType\tState\tHostname\tWorker\tEnqueue Time\tStart Time\tDuration(ms)\tHadoopJobId\n"

func TestParseCompactionsHive3(t *testing.T) {
	row := "7\tsales\torders\tds=2024-01-01\tMAJOR\tworking\tworker-1\tworker-1-27\t1700000000000\t1700000001000\t --- \tjob_1_2\n"
	want := Compaction{ID: 7, Database: "sales", Table: "orders", Partition: "ds=2024-01-01", Type: "MAJOR", State: "working",
		Worker: "worker-1-27", StartTime: 1700000001000, HadoopJobID: "job_1_2"}
	cases := []struct {
		name    string
		columns []string
		rows    string
	}{
		{"header row as data", nil, hive3Header + row},
		{"no header, counted layout", nil, row},
		{"result-set column names", []string{"compactionid", "dbname", "tabname", "partname", "type", "state", "hostname", "workerid", "enqueuetime", "starttime", "duration", "hadoopjobid"}, row},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCompactions(tc.columns, rowsOf(tc.rows))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d compactions", len(got))
			}
			got[0].Fields = nil
			if !reflect.DeepEqual(got[0], want) {
				t.Errorf("got  %+v\nwant %+v", got[0], want)
			}
			if got[0].Done() {
				t.Error("a working compaction is not done")
			}
		})
	}
}

func TestUnescapePathName(t *testing.T) {
	cases := map[string]string{
		"2011-01-11+14%3A18%3A26": "2011-01-11+14:18:26",
		"a%3Db%2Fc":               "a=b/c",
		"100%25":                  "100%",
		"%":                       "%",
		"%4":                      "%4",
		"a%4":                     "a%4",
		"%zz":                     "%zz",
		"%+A":                     "\n", // Java's parseInt accepts a sign
		"%-1":                     "%-1",
		"%C3%A9":                  "Ã©", // each %XX is one UTF-16 unit, not a byte
		"żółw%20":                 "żółw ",
	}
	for in, want := range cases {
		if got := UnescapePathName(in); got != want {
			t.Errorf("UnescapePathName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParsePartitionName(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		keys    []string
		wantK   []string
		wantV   []string
		wantErr bool
	}{
		{"escaped equals and slash", "k=a%3Db%2Fc/hr=1", nil, []string{"k", "hr"}, []string{"a=b/c", "1"}, false},
		{"default partition", "ds=__HIVE_DEFAULT_PARTITION__", nil, []string{"ds"}, []string{DefaultPartition}, false},
		{"decoded name split by keys", "ds=a/b=c/hr=1", []string{"ds", "hr"}, []string{"ds", "hr"}, []string{"a/b=c", "1"}, false},
		{"keys case-insensitive", "DS=1", []string{"ds"}, []string{"DS"}, []string{"1"}, false},
		{"missing key", "ds=1", []string{"ds", "hr"}, nil, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePartitionName(tc.in, tc.keys)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("accepted %+v", p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Keys, tc.wantK) || !reflect.DeepEqual(p.Values, tc.wantV) {
				t.Errorf("got %v=%v, want %v=%v", p.Keys, p.Values, tc.wantK, tc.wantV)
			}
		})
	}
	p, _ := ParsePartitionName("ds=__HIVE_DEFAULT_PARTITION__/hr=1", nil)
	if !p.IsNull(0) || p.IsNull(1) {
		t.Errorf("IsNull wrong for %v", p.Values)
	}
}

func TestUnescapeJava(t *testing.T) {
	cases := map[string]string{
		`{\"a\":\"b\"}`:         `{"a":"b"}`,
		`a\\b`:                  `a\b`,
		`line\nnext\ttab`:       "line\nnext\ttab",
		`\u00e9\uD83D\uDC22`:    "é🐢",
		`\u12`:                  `\u12`,
		`trailing\`:             `trailing\`,
		`\101\0`:                "A\x00",
		`unknown \q escape`:     `unknown \q escape`,
		`lone \uD83D surrogate`: "lone \uFFFD surrogate",
	}
	for in, want := range cases {
		if got := unescapeJava(in); got != want {
			t.Errorf("unescapeJava(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTableSpecialRows(t *testing.T) {
	rows := rowsOf("# col_name\tdata_type\tcomment\n" +
		"a\tstring\tfirst line\n" +
		"\t\tsecond line\n" +
		"\t \t \n" +
		"# Detailed Table Information\t \t \n" +
		"Location:\thdfs://nn/w/v\t \n" +
		"Table Type:\tEXTERNAL_TABLE\t \n" +
		"Table Parameters:\t \t \n" +
		"\tstorage_handler\torg.apache.hadoop.hive.hbase.HBaseStorageHandler\n" +
		"\texternal.table.purge\tTRUE\n" +
		"\tnumRows\t-1\n" +
		"\t \t \n" +
		"# Constraints\t \t \n" +
		"anything goes here\t \t \n" +
		"# Storage Information\t \t \n" +
		"InputFormat:\tnull\t \n")
	tb, err := ParseTable(rows)
	if err != nil {
		t.Fatal(err)
	}
	if got := tb.Columns[0].Comment; got != "first line\nsecond line" {
		t.Errorf("comment = %q", got)
	}
	if tb.Format != FormatOther || tb.Native() || tb.StorageHandler == "" {
		t.Errorf("HBase table: format %s native %v handler %q", tb.Format, tb.Native(), tb.StorageHandler)
	}
	if tb.Stats.NumRows != nil {
		t.Errorf("numRows -1 should be unknown, got %d", *tb.Stats.NumRows)
	}
	if tb.Location != "hdfs://nn/w/v" || tb.TableType != ExternalTable {
		t.Errorf("location %q type %q", tb.Location, tb.TableType)
	}
}

func TestDetectFormat(t *testing.T) {
	cases := []struct {
		name    string
		storage Storage
		params  map[string]string
		want    Format
	}{
		{"iceberg by table_type", Storage{InputFormat: "org.apache.iceberg.mr.hive.HiveIcebergInputFormat"}, map[string]string{"table_type": "ICEBERG"}, FormatIceberg},
		{"iceberg by handler", Storage{}, map[string]string{"storage_handler": "org.apache.iceberg.mr.hive.HiveIcebergStorageHandler"}, FormatIceberg},
		{"hudi", Storage{InputFormat: "org.apache.hudi.hadoop.HoodieParquetInputFormat"}, nil, FormatHudi},
		{"delta", Storage{}, map[string]string{"storage_handler": "io.delta.hive.DeltaStorageHandler"}, FormatDelta},
		{"spark delta", Storage{InputFormat: "org.apache.hadoop.mapred.SequenceFileInputFormat"}, map[string]string{"spark.sql.sources.provider": "DELTA"}, FormatDelta},
		{"avro", Storage{InputFormat: "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat"}, nil, FormatAvro},
		{"sequence file", Storage{InputFormat: "org.apache.hadoop.mapred.SequenceFileInputFormat"}, nil, FormatSequenceFile},
		{"rcfile", Storage{InputFormat: "org.apache.hadoop.hive.ql.io.RCFileInputFormat"}, nil, FormatRCFile},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := lowerKeys(tc.params)
			if got := detectFormat(tc.storage, p); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestTableStatusUnknown(t *testing.T) {
	st, err := ParseTableStatus(rowsOf("tableName:t\nlocation:hdfs://nn:8020/w/t\ntotalNumberFiles:unknown\ntotalFileSize:unknown\nmaxFileSize:unknown\nminFileSize:unknown\n\ntableName:t2\ntotalNumberFiles:0\ntotalFileSize:0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 {
		t.Fatalf("got %d blocks", len(st))
	}
	if st[0].FilesKnown() || st[0].TotalNumberFiles != nil {
		t.Error("unknown file statistics must not read as known")
	}
	if st[0].Location != "hdfs://nn:8020/w/t" {
		t.Errorf("location %q", st[0].Location)
	}
	if !st[1].FilesKnown() || *st[1].TotalNumberFiles != 0 {
		t.Error("zero files is known")
	}
}
