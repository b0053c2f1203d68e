package infra

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// indexesFile is the list of composite indexes Terraform creates (infra/modules/firestore
// reads it with jsondecode(file(...))).
var indexesFile = filepath.Join("modules", "firestore", "indexes.json")

// indexSpec is one entry of indexes.json; QueryScope is COLLECTION when empty.
type indexSpec struct {
	Collection string      `json:"collection"`
	QueryScope string      `json:"query_scope,omitempty"`
	Fields     []fieldSpec `json:"fields"`
}

type fieldSpec struct {
	Path       string `json:"path"`
	Descending bool   `json:"descending,omitempty"`
}

// key identifies an index the way the Terraform module keys its resources.
func (ix indexSpec) key() string {
	scope := ix.QueryScope
	if scope == "" {
		scope = "COLLECTION"
	}
	fields := make([]string, len(ix.Fields))
	for i, f := range ix.Fields {
		dir := "asc"
		if f.Descending {
			dir = "desc"
		}
		fields[i] = f.Path + ":" + dir
	}
	return fmt.Sprintf("%s:%s (%s)", ix.Collection, strings.Join(fields, ","), scope)
}

// readIndexes parses indexes.json strictly: a misspelt key (say "decending") is an error,
// not a silently ascending field.
func readIndexes(path string) ([]indexSpec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var out []indexSpec
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, ix := range out {
		if ix.Collection == "" || len(ix.Fields) < 2 {
			return nil, fmt.Errorf("%s: entry %d: a composite index needs a collection and at least two fields", path, i)
		}
		if ix.QueryScope != "" && ix.QueryScope != "COLLECTION" && ix.QueryScope != "COLLECTION_GROUP" {
			return nil, fmt.Errorf("%s: entry %d: query_scope %q", path, i, ix.QueryScope)
		}
	}
	return out, nil
}

// compareIndexes returns the indexes the queries need that are not declared (missing: those
// queries fail in production with FAILED_PRECONDITION) and the declared ones no query needs
// (extra: they cost writes and storage).
func compareIndexes(needed, declared []indexSpec) (missing, extra []string) {
	have := map[string]bool{}
	for _, ix := range declared {
		have[ix.key()] = true
	}
	want := map[string]bool{}
	for _, ix := range needed {
		want[ix.key()] = true
		if !have[ix.key()] {
			missing = append(missing, ix.key())
		}
	}
	for _, ix := range declared {
		if !want[ix.key()] {
			extra = append(extra, ix.key())
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	return slices.Compact(missing), slices.Compact(extra)
}

func TestIndexesFileIsWellFormed(t *testing.T) {
	declared, err := readIndexes(indexesFile)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ix := range declared {
		if seen[ix.key()] {
			t.Errorf("index %s is declared twice", ix.key())
		}
		seen[ix.key()] = true
	}
}

// TestCompareReportsAMissingIndex proves the comparison catches an index dropped from the
// Terraform list, and a stale one left in it.
func TestCompareReportsAMissingIndex(t *testing.T) {
	declared, err := readIndexes(indexesFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(declared) < 2 {
		t.Fatalf("%s lists %d indexes; the test needs two", indexesFile, len(declared))
	}
	for i := range declared {
		broken := slices.Delete(slices.Clone(declared), i, i+1)
		missing, extra := compareIndexes(declared, broken)
		if want := []string{declared[i].key()}; !slices.Equal(missing, want) || len(extra) != 0 {
			t.Errorf("without %s: missing %v extra %v, want missing %v", declared[i].key(), missing, extra, want)
		}
		missing, extra = compareIndexes(broken, declared)
		if want := []string{declared[i].key()}; len(missing) != 0 || !slices.Equal(extra, want) {
			t.Errorf("stale %s: missing %v extra %v, want extra %v", declared[i].key(), missing, extra, want)
		}
	}
	// Field order and direction matter.
	flipped := slices.Clone(declared)
	flipped[0].Fields = slices.Clone(flipped[0].Fields)
	flipped[0].Fields[len(flipped[0].Fields)-1].Descending = !flipped[0].Fields[len(flipped[0].Fields)-1].Descending
	if missing, _ := compareIndexes(declared, flipped); len(missing) != 1 {
		t.Errorf("a flipped direction went unnoticed: missing %v", missing)
	}
}

func TestReadIndexesRejectsMisspeltKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "indexes.json")
	bad := `[{"collection":"tasks","fields":[{"path":"status"},{"path":"created_at","decending":true}]}]`
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readIndexes(path); err == nil {
		t.Fatal("a misspelt key was accepted")
	}
}
