package firestore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/firestore"
	"github.com/hivemerge/hivemerge/shared/taskstore/firestore/firestoretest"
)

// TestClaimAcrossClients claims one slot from two store clients at once, as two scheduler
// replicas do: the emulator's Create lets exactly one through.
func TestClaimAcrossClients(t *testing.T) {
	first := newStore(t)
	second := firestore.New(firestoretest.NewClient(t, projectID))
	slot := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	const perClient = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*perClient)
	start := make(chan struct{})
	for _, st := range []*firestore.Store{first, second} {
		for range perClient {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs <- st.CreateRun(context.Background(), &merge.Run{ID: merge.RunID("retention", slot), Job: "retention",
					Slot: slot, Status: merge.RunRunning, StartedAt: slot})
			}()
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, merge.ErrConflict):
			t.Errorf("claim: %v, want nil or ErrConflict", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d claims succeeded across two clients, want exactly 1", won)
	}
}
