package functions

import (
	"testing"

	"github.com/hivemerge/hivemerge/shared/taskstore/firestore/firestoretest"
)

func openFirestoreEmulator(tb testing.TB) Store {
	firestoretest.Emulator(tb)
	tb.Skip("the Firestore store has not landed yet")
	return nil
}
