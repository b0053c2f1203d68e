package hive

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixture is one file of testdata/fixtures: Hive's own output for one statement.
type fixture struct {
	Source    string   `json:"source"`
	Statement string   `json:"statement"`
	Columns   []string `json:"-"`
	rows      [][]string
}

func readFixture(t testing.TB, path string) fixture {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parseFixture(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

func parseFixture(b []byte) (fixture, error) {
	var f fixture
	head, body, ok := strings.Cut(string(b), "---\n")
	if !ok {
		return f, errors.New("no --- line")
	}
	for _, l := range strings.Split(head, "\n") {
		switch {
		case strings.HasPrefix(l, "# source: "):
			f.Source = strings.TrimPrefix(l, "# source: ")
		case strings.HasPrefix(l, "# statement: "):
			f.Statement = strings.TrimPrefix(l, "# statement: ")
		case strings.HasPrefix(l, "# columns: "):
			if c := strings.TrimPrefix(l, "# columns: "); c != "none" && c != "unknown" {
				f.Columns = strings.Split(c, ",")
			}
		}
	}
	f.rows = splitRows(body)
	return f, nil
}

// splitRows turns verbatim result text into rows: one per line, cells separated by tabs.
func splitRows(body string) [][]string {
	if body == "" {
		return nil
	}
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	rows := make([][]string, len(lines))
	for i, l := range lines {
		rows[i] = strings.Split(l, "\t")
	}
	return rows
}

// parseFixtureRows runs the parser that matches the fixture's statement.
func parseFixtureRows(name string, f fixture) (any, error) {
	switch {
	case strings.HasPrefix(name, "checksum-"):
		return parseInts(checksumWhat, f.rows)
	case strings.HasPrefix(name, "concatenate-"):
		return failure(f.rows), nil
	case strings.HasPrefix(name, "describe-formatted-column-stats"):
		return ParseColumnStats(f.rows)
	case strings.HasPrefix(name, "describe-formatted-partition-"):
		return ParsePartitionDetail(f.rows)
	case strings.HasPrefix(name, "describe-formatted-"):
		return ParseTable(f.rows)
	case strings.HasPrefix(name, "show-compactions-"):
		return ParseCompactions(f.Columns, f.rows)
	case strings.HasPrefix(name, "show-partitions-"):
		return ParsePartitions(f.rows, nil)
	case strings.HasPrefix(name, "show-table-extended-"):
		return ParseTableStatus(f.rows)
	case strings.HasPrefix(name, "show-tblproperties-"):
		return ParseTableProperties(f.rows)
	}
	return nil, errors.New("no parser for this fixture")
}

// failureResult is how a statement's outcome is recorded in golden files: the error Hive
// printed (its last FAILED line) classified as a domain error, or success.
type failureResult struct {
	OK    bool   `json:"ok"`
	Error *Error `json:"error,omitempty"`
	Kind  string `json:"kind,omitempty"`
}

func failure(rows [][]string) failureResult {
	for i := len(rows) - 1; i >= 0; i-- {
		if line := strings.Join(rows[i], "\t"); strings.HasPrefix(line, "FAILED: ") {
			e := newError("", 0, line)
			return failureResult{Error: e, Kind: kindName(e)}
		}
	}
	return failureResult{OK: true}
}

func kindName(err error) string {
	for _, k := range []error{merge.ErrNotFound, merge.ErrInvalid, merge.ErrConflict, merge.ErrForbidden, merge.ErrUnauthenticated, merge.ErrUnavailable} {
		if errors.Is(err, k) {
			return k.Error()
		}
	}
	return "none"
}

// TestFixtures parses every fixture and compares the result with testdata/golden/<name>.json.
func TestFixtures(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "fixtures", "*.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		t.Run(name, func(t *testing.T) {
			f := readFixture(t, path)
			if !strings.HasPrefix(f.Source, "apache/hive ") {
				t.Errorf("fixture lost its source header: %q", f.Source)
			}
			res, err := parseFixtureRows(name, f)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			got, err := json.MarshalIndent(map[string]any{"source": f.Source, "statement": f.Statement, "result": res}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the parse result (run go test -update and review the diff)\ngot:\n%s", golden, got)
			}
		})
	}
}
