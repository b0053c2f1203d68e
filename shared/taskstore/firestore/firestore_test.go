package firestore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/firestore"
	"github.com/hivemerge/hivemerge/shared/taskstore/firestore/firestoretest"
	"github.com/hivemerge/hivemerge/shared/taskstore/storetest"
)

// projectID is this package's own emulator project, so that other packages' tests running at
// the same time do not see its documents.
const projectID = "hivemerge-test-store"

func TestMain(m *testing.M) { firestoretest.Main(m) }

func newStore(tb testing.TB) *firestore.Store {
	return firestore.New(firestoretest.NewClient(tb, projectID))
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Stores {
		s := newStore(t)
		return storetest.Stores{Tasks: s, Clusters: s}
	})
}

func TestOpen(t *testing.T) {
	firestoretest.Emulator(t)
	firestoretest.Clear(t, projectID)
	ctx := context.Background()
	s, err := firestore.Open(ctx, projectID, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetTask(ctx, "missing"); !errors.Is(err, merge.ErrNotFound) {
		t.Errorf("GetTask: %v", err)
	}
	// IDs that cannot name a document read as missing instead of failing in the client.
	for _, id := range []string{"a/b", "__x__", ".."} {
		if _, err := s.GetTask(ctx, id); !errors.Is(err, merge.ErrNotFound) {
			t.Errorf("GetTask(%q): %v", id, err)
		}
	}
}

func TestCancelledContext(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.GetTask(ctx, "x"); !errors.Is(err, merge.ErrUnavailable) {
		t.Errorf("GetTask with a cancelled context: %v", err)
	}
}

// TestLongLogFields checks that an entry too large for one document is cut, not refused.
func TestLongLogFields(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	task := &merge.Task{ID: "long", ClusterID: "prod", Database: "web", Table: "events", Status: merge.StatusPending, CreatedAt: time.Now()}
	if err := s.CreateTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 2<<20)
	for i := range big {
		big[i] = 'x'
	}
	if err := s.AppendLogs(ctx, "long", merge.LogEntry{Message: string(big), SQL: string(big)}); err != nil {
		t.Fatalf("AppendLogs: %v", err)
	}
	logs, err := s.Logs(ctx, "long", 0, 10)
	if err != nil || len(logs) != 1 {
		t.Fatalf("Logs: %v, %v", len(logs), err)
	}
	if n := len(logs[0].Message) + len(logs[0].SQL); n >= 1<<20 {
		t.Errorf("stored entry holds %d bytes", n)
	}
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) merge.Store { return newStore(b) })
}
