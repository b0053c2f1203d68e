package hql

import (
	"errors"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

func TestStagingStatements(t *testing.T) {
	one := mustSpec(t, partCols, map[string]string{"ds": "2008-04-08", "hr": "11"})
	null := mustSpec(t, partCols, map[string]string{"ds": "2008-04-08", "hr": DefaultPartition})
	cases := []struct {
		name  string
		build func() (string, error)
	}{
		{"create-staging-table", func() (string, error) {
			return CreateStagingTable(tmp, srcpart, "hdfs://nn:8020/warehouse/srcpart/ds=2008-04-08/.hivemerge-1/hr=11")
		}},
		{"add-partition", func() (string, error) { return AddPartition(tmp, one, "") }},
		{"add-partition-location", func() (string, error) {
			return AddPartition(tmp, one, "hdfs://nn:8020/warehouse/srcpart/ds=2008-04-08/.hivemerge-1/hr=11")
		}},
		{"add-default-partition", func() (string, error) {
			return AddPartition(tmp, null, "gs://bucket/w/.hivemerge-1/hr=__HIVE_DEFAULT_PARTITION__")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.build()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tokenize(got); err != nil {
				t.Errorf("tokenize(%q): %v", got, err)
			}
			golden(t, tc.name+".sql", got)
		})
	}
}

func TestStagingRefused(t *testing.T) {
	day := mustSpec(t, partCols, map[string]string{"ds": "2008-04-08"})
	one := mustSpec(t, partCols, map[string]string{"ds": "2008-04-08", "hr": "11"})
	cases := []struct {
		name  string
		build func() (string, error)
	}{
		{"staging table bad location", func() (string, error) { return CreateStagingTable(tmp, srcpart, "hdfs://nn/a'b") }},
		{"staging table bad name", func() (string, error) {
			return CreateStagingTable(Table{Database: "d", Name: "a-b"}, srcpart, "hdfs://nn/a")
		}},
		{"add partition partial spec", func() (string, error) { return AddPartition(tmp, day, "") }},
		{"add partition unpartitioned", func() (string, error) { return AddPartition(plain, Spec{}, "hdfs://nn/a") }},
		{"add partition parent segment", func() (string, error) { return AddPartition(tmp, one, "hdfs://nn/w/../x") }},
		{"add partition substitution", func() (string, error) { return AddPartition(tmp, one, "hdfs://nn/${x}") }},
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

func TestStagingTableKeepsDataOnDrop(t *testing.T) {
	got, err := CreateStagingTable(tmp, srcpart, "file:/w/.hivemerge-1/t")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(got, "TBLPROPERTIES ('external.table.purge'='false')") {
		t.Errorf("%s does not turn purge off", got)
	}
}
