package infra

import (
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
