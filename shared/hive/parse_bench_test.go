package hive

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/hive/hql"
)

func BenchmarkParseTable(b *testing.B) {
	f := readFixture(b, filepath.Join("testdata", "fixtures", "describe-formatted-partitioned-srcpart.txt"))
	for b.Loop() {
		if _, err := ParseTable(f.rows); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseTableLongParameter parses a parameter value of 10,000 lines, one row each (a
// large avro.schema.literal): the time must grow linearly with the lines.
func BenchmarkParseTableLongParameter(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("a\tint\t\n# Detailed Table Information\t \t \nTable Parameters:\t \t \n\tavro.schema.literal\t{\n")
	for i := range 10000 {
		fmt.Fprintf(&sb, "\t                    \t  {\\\"name\\\": \\\"f%d\\\", \\\"type\\\": \\\"int\\\"},\n", i)
	}
	sb.WriteString("\t                    \t}\n")
	rows := splitRows(sb.String())
	b.ResetTimer()
	for b.Loop() {
		if _, err := ParseTable(rows); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParsePartitions10k(b *testing.B) {
	var sb strings.Builder
	for d := range 400 {
		for h := range 25 {
			fmt.Fprintf(&sb, "ds=2024-%02d-%02d/hr=%02d%%3A00\n", d/28+1, d%28+1, h)
		}
	}
	rows := splitRows(sb.String())
	keys := []string{"ds", "hr"}
	b.ResetTimer()
	for b.Loop() {
		if _, err := ParsePartitions(rows, keys); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildInsertOverwrite(b *testing.B) {
	cols := []hql.Column{{Name: "ds", Type: "date"}, {Name: "hr", Type: "int"}}
	src := hql.Table{Database: "sales", Name: "orders"}
	dst := hql.Table{Database: "sales", Name: "hivemerge_tmp_orders"}
	data := []string{"id", "amount", "note", "customer", "created_at"}
	for b.Loop() {
		spec, err := hql.NewSpec(cols, map[string]string{"ds": "2024-01-01", "hr": "7"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := hql.InsertOverwrite(dst, src, spec, data); err != nil {
			b.Fatal(err)
		}
	}
}
