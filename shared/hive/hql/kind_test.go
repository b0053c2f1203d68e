package hql

import "testing"

// TestKindOf classifies what every builder makes: only statements that leave Hive as they
// found it when run twice may be sent again.
func TestKindOf(t *testing.T) {
	one := mustSpec(t, partCols, map[string]string{"ds": "2008-04-08", "hr": "11"})
	day := mustSpec(t, partCols, map[string]string{"ds": "2008-04-08"})
	build := func(stmt string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return stmt
	}
	tests := []struct {
		name string
		stmt string
		want Kind
	}{
		{"describe", build(DescribeFormatted(srcpart, one)), KindRead},
		{"show partitions", build(ShowPartitions(srcpart, day)), KindRead},
		{"show table extended", build(ShowTableExtended(srcpart, one)), KindRead},
		{"show tblproperties", build(ShowTableProperties(srcpart)), KindRead},
		{"show tblproperty", build(ShowTableProperty(srcpart, "transactional")), KindRead},
		{"show databases", build(ShowDatabases()), KindRead},
		{"show tables", build(ShowTables("default")), KindRead},
		{"show compactions", build(ShowCompactions()), KindRead},
		{"checksum", build(Checksum(srcpart, []string{"key", "value"}, day)), KindRead},
		{"set", build(Set("hive.exec.dynamic.partition.mode", "nonstrict")), KindSession},
		{"use", build(Use("default")), KindSession},
		{"analyze", build(Analyze(srcpart, one)), KindStats},
		{"insert overwrite", build(InsertOverwrite(tmp, srcpart, one, []string{"key", "value"})), KindWrite},
		{"concatenate", build(Concatenate(srcpart, one)), KindWrite},
		{"compact", build(CompactMajor(srcpart, one)), KindWrite},
		{"create like", build(CreateExternalLike(tmp, srcpart, "hdfs:/tmp/x")), KindWrite},
		{"create staging", build(CreateStagingTable(tmp, srcpart, "hdfs:/tmp/x")), KindWrite},
		{"add partition", build(AddPartition(tmp, one, "")), KindWrite},
		{"set location", build(SetLocation(srcpart, one, "hdfs:/tmp/x")), KindWrite},
		{"drop", build(DropExternalTable(tmp)), KindWrite},
		{"msck", build(MsckRepair(srcpart)), KindWrite},
		{"set tblproperties", build(SetTableProperties(srcpart, map[string]string{"a": "b"})), KindWrite},
		{"unknown", "FROM t INSERT OVERWRITE TABLE u SELECT *", KindWrite},
		{"analyze without compute", "ANALYZE", KindWrite},
		{"empty", "", KindWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := KindOf(tt.stmt)
			if got != tt.want {
				t.Errorf("KindOf(%q) = %s, want %s", tt.stmt, got, tt.want)
			}
			if got.Repeatable() != (tt.want != KindWrite) {
				t.Errorf("%s.Repeatable() = %t", got, got.Repeatable())
			}
		})
	}
}
