package hiveql

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// newWarehouse opens a warehouse in a temporary directory, closed when the test ends.
func newWarehouse(t testing.TB) *Warehouse {
	t.Helper()
	w, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// run executes statements in order and fails the test on the first error.
func run(t testing.TB, s *Session, stmts ...string) *Result {
	t.Helper()
	var res *Result
	for _, q := range stmts {
		r, err := s.Execute(context.Background(), q, Events{})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		res = r
	}
	return res
}

// hiveErr executes a statement that must fail with a Hive error and returns it.
func hiveErr(t testing.TB, s *Session, stmt string) *Error {
	t.Helper()
	_, err := s.Execute(context.Background(), stmt, Events{})
	var he *Error
	if !errors.As(err, &he) {
		t.Fatalf("%s: got %v, want a Hive error", stmt, err)
	}
	return he
}

// render prints a result the way Hive's .q.out files show it: tab-separated fields, NULL
// as a single space.
func render(res *Result) []string {
	if res == nil {
		return nil
	}
	lines := make([]string, 0, len(res.Rows))
	for _, r := range res.Rows {
		cells := make([]string, len(r))
		for i, c := range r {
			switch v := c.(type) {
			case nil:
				cells[i] = " "
			case string:
				cells[i] = v
			default:
				cells[i] = formatValue(v)
			}
		}
		lines = append(lines, strings.Join(cells, "\t"))
	}
	return lines
}

const maskLine = "#### A masked pattern was here ####"

// volatile matches lines Hive's QTest harness masks: owners, times, locations.
var volatile = regexp.MustCompile(`Owner|CreateTime|LastAccessTime|Location|transient_lastDdlTime|last_modified_|owner:|location:|lastAccessTime|lastUpdateTime|file:`)

// mask replaces volatile lines like QTestUtil, collapsing consecutive masked lines.
func mask(lines []string) []string {
	var out []string
	for _, l := range lines {
		if volatile.MatchString(l) {
			if len(out) > 0 && out[len(out)-1] == maskLine {
				continue
			}
			l = maskLine
		}
		out = append(out, l)
	}
	return out
}

// fixture reads a copied Hive golden file: its statement and its body lines.
func fixture(t testing.TB, name string) (stmt string, body []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "hive", name))
	if err != nil {
		t.Fatal(err)
	}
	head, rest, ok := strings.Cut(string(data), "---\n")
	if !ok {
		t.Fatalf("%s: no --- separator", name)
	}
	for _, l := range strings.Split(head, "\n") {
		if s, ok := strings.CutPrefix(l, "# statement: "); ok {
			stmt = s
		}
	}
	if rest == "" {
		return stmt, nil
	}
	return stmt, strings.Split(strings.TrimSuffix(rest, "\n"), "\n")
}

// countFiles counts visible data files under dir (recursively, so ACID directories count).
func countFiles(t testing.TB, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && hidden(d.Name()) && p != dir {
			return filepath.SkipDir
		}
		if !d.IsDir() && !hidden(d.Name()) {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
