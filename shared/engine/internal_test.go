package engine

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/merge"
)

func TestStagingLocation(t *testing.T) {
	tests := []struct {
		name, loc, want string
	}{
		{"hdfs partition", "hdfs://nameservice1/warehouse/db.db/t/dt=2024-01-01", "hdfs://nameservice1/warehouse/db.db/t/.hivemerge-abc/dt=2024-01-01"},
		{"hdfs second key", "hdfs://nn:8020/w/t/dt=2024-01-01/hr=00", "hdfs://nn:8020/w/t/dt=2024-01-01/.hivemerge-abc/hr=00"},
		{"gs table", "gs://bucket/warehouse/t", "gs://bucket/warehouse/.hivemerge-abc/t"},
		{"local as Hadoop prints it", "file:/tmp/w/t/dt=1", "file:///tmp/w/t/.hivemerge-abc/dt=1"},
		{"escaped partition name kept verbatim", "hdfs://nn/w/t/ts=2011-01-11+14%3A18%3A26", "hdfs://nn/w/t/.hivemerge-abc/ts=2011-01-11+14%3A18%3A26"},
		{"trailing slash", "hdfs://nn/w/t/dt=1/", "hdfs://nn/w/t/.hivemerge-abc/dt=1"},
		{"an earlier merge's staging is not nested", "hdfs://nn/w/t/.hivemerge-old/dt=1", "hdfs://nn/w/t/.hivemerge-abc/dt=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := stagingLocation(tc.loc, "abc")
			if err != nil || got != tc.want {
				t.Errorf("stagingLocation(%q) = %q, %v; want %q", tc.loc, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"hdfs://nn/", "relative/path", ""} {
		if got, err := stagingLocation(bad, "abc"); !errors.Is(err, merge.ErrInvalid) {
			t.Errorf("stagingLocation(%q) = %q, %v; want ErrInvalid", bad, got, err)
		}
	}
}

func TestStorageDiffers(t *testing.T) {
	table := hive.Storage{
		InputFormat: "org.apache.hadoop.mapred.TextInputFormat",
		SerDe:       "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
		SerDeParams: map[string]string{"field.delim": "|", "serialization.format": "|"},
	}
	tests := []struct {
		name string
		edit func(*hive.Storage)
		want string // "" when the partition may be merged through a copy of the table
	}{
		{"same", func(*hive.Storage) {}, ""},
		{"unknown partition storage", func(s *hive.Storage) { *s = hive.Storage{} }, ""},
		{"other format", func(s *hive.Storage) { s.InputFormat = "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat" }, "OrcInputFormat"},
		{"other serde", func(s *hive.Storage) { s.SerDe = "org.apache.hive.hcatalog.data.JsonSerDe" }, "JsonSerDe"},
		{"other delimiter", func(s *hive.Storage) {
			s.SerDeParams = map[string]string{"field.delim": ",", "serialization.format": ","}
		}, "delimiters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			part := table
			part.SerDeParams = map[string]string{"field.delim": "|", "serialization.format": "|"}
			tc.edit(&part)
			got := storageDiffers(table, part).Text
			if (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
				t.Errorf("storageDiffers = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTempTable(t *testing.T) {
	a, b := tempTable("m", "abc", "dt=1"), tempTable("m", "abc", "dt=2")
	if a == b || a != tempTable("m", "abc", "dt=1") || len(a.Name) > 64 {
		t.Errorf("temp tables %s and %s: want distinct, stable, short names", a, b)
	}
}

func TestHiveLines(t *testing.T) {
	tests := []struct {
		name  string
		lines int
		want  []string // the messages kept, by line number; "" is the note of the lines left out
	}{
		{"none", 0, nil},
		{"a few", 3, []string{"0", "1", "2"}},
		{"as many as kept", hiveHead + hiveTail, nil},
		{"many", 1000, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h hiveLines
			for i := range tc.lines {
				h.add(strconv.Itoa(i))
			}
			want := tc.want
			if want == nil && tc.lines > 0 {
				for i := range min(tc.lines, hiveHead) {
					want = append(want, strconv.Itoa(i))
				}
				if left := tc.lines - hiveHead - hiveTail; left > 0 {
					want = append(want, "("+strconv.Itoa(left)+" more lines)")
				}
				for i := max(hiveHead, tc.lines-hiveTail); i < tc.lines; i++ {
					want = append(want, strconv.Itoa(i))
				}
			}
			var got []string
			for _, e := range h.entries(merge.StepStaged) {
				if e.Level != merge.LevelDebug || e.Step != string(merge.StepStaged) {
					t.Errorf("entry %+v", e)
				}
				got = append(got, strings.TrimPrefix(e.Message, "hive: "))
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("kept %v, want %v", got, want)
			}
		})
	}
}
