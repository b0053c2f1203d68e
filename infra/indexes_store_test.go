package infra

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hivemerge/hivemerge/shared/taskstore/firestore"
)

// TestEveryStoreQueryHasAnIndex compares the composite indexes the Firestore task store's
// queries need (firestore.Indexes, derived from the query shapes the store builds) with the
// ones Terraform creates (modules/firestore/indexes.json). The emulator never asks for
// composite indexes; production fails such queries with FAILED_PRECONDITION.
func TestEveryStoreQueryHasAnIndex(t *testing.T) {
	declared, err := readIndexes(indexesFile)
	if err != nil {
		t.Fatal(err)
	}
	var needed []indexSpec
	for _, ix := range firestore.Indexes() {
		spec := indexSpec{Collection: ix.Collection}
		for _, f := range ix.Fields {
			spec.Fields = append(spec.Fields, fieldSpec{Path: f.Path, Descending: f.Descending})
		}
		needed = append(needed, spec)
	}
	if len(needed) == 0 {
		t.Fatal("firestore.Indexes() lists no index; the task listing's filters need some")
	}
	missing, extra := compareIndexes(needed, declared)
	for _, k := range missing {
		t.Errorf("the store queries need index %s: add it to %s", k, indexesFile)
	}
	for _, k := range extra {
		t.Errorf("index %s in %s serves no query of the store: remove it", k, indexesFile)
	}
}

// TestOpaqueFieldsAreUnindexed compares the store's opaque fields (firestore.UnindexedFields)
// with the ones Terraform exempts from indexing (modules/firestore/unindexed.json).
func TestOpaqueFieldsAreUnindexed(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("modules", "firestore", "unindexed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var declared []struct{ Collection, Field string }
	if err := json.Unmarshal(data, &declared); err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, f := range declared {
		got = append(got, f.Collection+"."+f.Field)
	}
	for _, f := range firestore.UnindexedFields() {
		want = append(want, f.Collection+"."+f.Field)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("unindexed.json exempts %q; the store's opaque fields are %q", got, want)
	}
}
