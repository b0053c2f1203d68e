package hive

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParsers feeds arbitrary result text (rows split at newlines, cells at tabs) to every
// parser: they must return a value or an error, never panic, and a *ParseError must name a row
// that exists.
func FuzzParsers(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "fixtures", "*.txt"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if _, body, ok := strings.Cut(string(b), "---\n"); ok {
			f.Add(body)
		}
	}
	f.Fuzz(func(t *testing.T, body string) {
		rows := splitRows(body)
		check := func(name string, err error) {
			t.Helper()
			if pe, ok := err.(*ParseError); ok && pe.Line > len(rows) {
				t.Fatalf("%s: error names line %d of %d: %v", name, pe.Line, len(rows), err)
			}
		}
		_, err := ParseTable(rows)
		check("ParseTable", err)
		_, err = ParsePartitionDetail(rows)
		check("ParsePartitionDetail", err)
		_, err = ParseColumnStats(rows)
		check("ParseColumnStats", err)
		_, err = ParsePartitions(rows, nil)
		check("ParsePartitions", err)
		_, err = ParsePartitions(rows, []string{"ds", "hr"})
		check("ParsePartitions(keys)", err)
		_, err = ParseTableStatus(rows)
		check("ParseTableStatus", err)
		_, err = ParseTableProperties(rows)
		check("ParseTableProperties", err)
		_, err = ParseCompactions(nil, rows)
		check("ParseCompactions", err)
		_, err = ParseCompactions([]string{"compactionid", "dbname", "tabname"}, rows)
		check("ParseCompactions(columns)", err)
		_, err = ParseChecksum(rows)
		check("ParseChecksum", err)
		_ = newError("", 0, body)
		if u := UnescapePathName(body); utf8.ValidString(body) && !utf8.ValidString(u) {
			t.Fatalf("UnescapePathName(%q) produced invalid UTF-8", body)
		}
		_ = unescapeJava(body)
	})
}
