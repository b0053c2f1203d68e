package functions

import (
	"testing"

	"github.com/hivemerge/hivemerge/shared/taskstore"
	"github.com/hivemerge/hivemerge/shared/taskstore/firestore"
	"github.com/hivemerge/hivemerge/shared/taskstore/firestore/firestoretest"
)

// openFirestoreEmulator returns a store over a fresh project on the Firestore emulator.
func openFirestoreEmulator(tb testing.TB) taskstore.Store {
	return firestore.New(firestoretest.NewClient(tb, projectID()))
}
