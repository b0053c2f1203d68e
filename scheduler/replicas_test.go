package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/firestore"
	"github.com/hivemerge/hivemerge/shared/taskstore/firestore/firestoretest"
)

func TestMain(m *testing.M) { firestoretest.Main(m) }

// TestReplicasRunEachSlotOnce runs two schedulers, each with its own Firestore client, over
// one emulator project, both firing a job every second. Each slot must run exactly once, on
// one replica or the other, and have one run record.
func TestReplicasRunEachSlotOnce(t *testing.T) {
	firestoretest.Emulator(t)
	var b [5]byte
	_, _ = rand.Read(b[:])
	project := "hm-scheduler-" + hex.EncodeToString(b[:])
	stores := []*firestore.Store{
		firestore.New(firestoretest.NewClient(t, project)),
	}
	stores = append(stores, firestore.New(firestoretest.NewClient(t, project)))

	// A slot run twice would be two calls for one record: Create lets only one replica in.
	var calls atomic.Int64
	var scheds []*Scheduler
	for i, st := range stores {
		owner := []string{"replica-a", "replica-b"}[i]
		svc := NewService(nil, st, slog.New(slog.DiscardHandler), ServiceConfig{Owner: owner})
		svc.Register("tick", time.Minute, func(ctx context.Context) (Outcome, error) {
			calls.Add(1)
			return Outcome{}, nil
		})
		s := New(svc, slog.New(slog.DiscardHandler), time.UTC)
		if err := s.Add("tick", "@every 1s"); err != nil {
			t.Fatal(err)
		}
		scheds = append(scheds, s)
	}
	for _, s := range scheds {
		s.Start()
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		for _, s := range scheds {
			_ = s.Stop(context.Background())
		}
	}
	t.Cleanup(stop)

	waitFor(t, "five recorded runs", func() bool { return len(listRuns(t, stores[0], "tick")) >= 5 })
	stop()

	runs := listRuns(t, stores[1], "tick")
	if n := calls.Load(); n != int64(len(runs)) {
		t.Errorf("the job ran %d times for %d run records: a slot ran twice or a run left no record", n, len(runs))
	}
	seen := map[string]bool{}
	for _, r := range runs {
		if seen[r.ID] {
			t.Errorf("run %s listed twice", r.ID)
		}
		seen[r.ID] = true
		if r.Status != merge.RunSucceeded {
			t.Errorf("run %s: %s", r.ID, r.Status)
		}
		if r.Owner != "replica-a" && r.Owner != "replica-b" {
			t.Errorf("run %s owned by %q", r.ID, r.Owner)
		}
	}
}
