package firestoretest_test

import (
	"context"
	"os"
	"testing"

	"github.com/hivemerge/hivemerge/shared/taskstore/firestore/firestoretest"
)

const projectID = "hivemerge-test-firestoretest"

func TestMain(m *testing.M) { firestoretest.Main(m) }

func TestClear(t *testing.T) {
	host := firestoretest.Emulator(t)
	if os.Getenv(firestoretest.EnvHost) != host {
		t.Errorf("%s = %q, want %q", firestoretest.EnvHost, os.Getenv(firestoretest.EnvHost), host)
	}
	ctx := context.Background()
	client := firestoretest.NewClient(t, projectID)
	other := firestoretest.NewClient(t, projectID+"-other")
	if _, err := client.Collection("c").Doc("d").Set(ctx, map[string]any{"x": 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Collection("c").Doc("d").Set(ctx, map[string]any{"x": 2}); err != nil {
		t.Fatal(err)
	}
	firestoretest.Clear(t, projectID)
	if snap, err := client.Collection("c").Doc("d").Get(ctx); err == nil || snap.Exists() {
		t.Errorf("the document survived Clear")
	}
	// Other projects keep their documents.
	if _, err := other.Collection("c").Doc("d").Get(ctx); err != nil {
		t.Errorf("Clear of one project removed another's document: %v", err)
	}
}
