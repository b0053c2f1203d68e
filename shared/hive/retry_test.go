package hive_test

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// dropOn makes the sandbox drop the connection of the statements that are exactly stmt, times
// times (0: always), and returns a function that counts the drops so far.
func dropOn(t *testing.T, sb *sandbox, stmt string, times int) (drops func() int) {
	t.Helper()
	remove := sb.srv.Inject(hivesandbox.Fault{Match: "^" + regexp.QuoteMeta(stmt) + "$", Action: hivesandbox.FaultDropConnection, Times: times})
	t.Cleanup(remove)
	// The server logs a drop before it closes the connection, so the client cannot see one
	// that is not counted yet.
	before := sb.log.count(dropMessage)
	return func() int { return sb.log.count(dropMessage) - before }
}

const dropMessage = "fault fired: dropping the connection"

// builder returns a function that unwraps an hql builder's result, failing t on an error.
func builder(t *testing.T) func(string, error) string {
	return func(stmt string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return stmt
	}
}

// TestDroppedReadIsRetried drops the connection under a statement that only reads: the client
// sends it again on a new session and the caller sees its result.
func TestDroppedReadIsRetried(t *testing.T) {
	build := builder(t)
	for _, ep := range []endpoint{endpoints[1], endpoints[3]} {
		t.Run(ep.name, func(t *testing.T) {
			sb := startSandbox(t, ep)
			c := sb.client(t, func(c *hive.Config) { c.PoolSize = 1; c.RetryBackoff = time.Millisecond })
			seed(t, c)
			tests := []struct {
				name string
				stmt string
			}{
				{"describe", build(hql.DescribeFormatted(orders, hql.Spec{}))},
				{"checksum", build(hql.Checksum(orders, []string{"id", "amount", "note"}, hql.Spec{}))},
				{"show partitions", build(hql.ShowPartitions(orders, hql.Spec{}))},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ctx := context.Background()
					want, err := c.Query(ctx, tt.stmt, nil)
					if err != nil {
						t.Fatal(err)
					}
					drops := dropOn(t, sb, tt.stmt, 1)
					opened := c.SessionsOpened()
					got, err := c.Query(ctx, tt.stmt, nil)
					if err != nil {
						t.Fatalf("Query after a dropped connection: %v", err)
					}
					if drops() != 1 {
						t.Fatalf("the connection was dropped %d times, want 1", drops())
					}
					if len(got.Rows) != len(want.Rows) || len(got.Rows) == 0 {
						t.Errorf("got %d rows, want %d", len(got.Rows), len(want.Rows))
					}
					if n := c.SessionsOpened() - opened; n != 1 {
						t.Errorf("opened %d sessions, want 1 (the dropped one replaced)", n)
					}
				})
			}
		})
	}
}

// TestDroppedWriteIsNotRetried drops the connection under an INSERT: it may have run, so the
// client does not send it again and says why it failed.
func TestDroppedWriteIsNotRetried(t *testing.T) {
	build := builder(t)
	sb := startSandbox(t, endpoints[1])
	c := sb.client(t, func(c *hive.Config) { c.RetryBackoff = time.Millisecond })
	seed(t, c)
	ctx := context.Background()
	insert := "INSERT INTO sales.orders PARTITION (dt='2024-01-01', hr='02') VALUES (9, 9.5, 'z')"
	drops := dropOn(t, sb, insert, 0)

	err := c.Exec(ctx, insert, nil)
	if !errors.Is(err, merge.ErrUnavailable) {
		t.Fatalf("INSERT on a dropped connection: %v, want merge.ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "connection dropped") {
		t.Errorf("error %q does not say the connection dropped", err)
	}
	if drops() != 1 {
		t.Errorf("the INSERT was sent %d times, want 1", drops())
	}
	res, err := c.Query(ctx, build(hql.Checksum(orders, []string{"id"}, hql.Spec{})), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0][0]; got != int64(5) {
		t.Errorf("COUNT(*) = %v after the dropped INSERT, want 5 (seeded rows only)", got)
	}
}

// TestDroppedEveryTimeGivesUp: a read whose connection drops every time is sent three times
// (two retries) and then fails.
func TestDroppedEveryTimeGivesUp(t *testing.T) {
	build := builder(t)
	sb := startSandbox(t, endpoints[1])
	c := sb.client(t, func(c *hive.Config) { c.RetryBackoff = time.Millisecond })
	stmt := build(hql.ShowDatabases())
	drops := dropOn(t, sb, stmt, 0)

	_, err := c.Query(context.Background(), stmt, nil)
	if !errors.Is(err, merge.ErrUnavailable) || !strings.Contains(err.Error(), "connection dropped") {
		t.Fatalf("Query = %v, want merge.ErrUnavailable saying the connection dropped", err)
	}
	if drops() != 3 {
		t.Errorf("the statement was sent %d times, want 3", drops())
	}
}

// retryLog tells when the client logs a retry.
type retryLog struct{ retrying chan<- struct{} }

func (l retryLog) Enabled(context.Context, slog.Level) bool { return true }
func (l retryLog) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "sending the statement again") {
		l.retrying <- struct{}{}
	}
	return nil
}
func (l retryLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l retryLog) WithGroup(string) slog.Handler      { return l }

// TestCancelDuringBackoff cancels the caller while the client waits to send a dropped read
// again: it returns at once (the backoff is an hour), without sending it again.
func TestCancelDuringBackoff(t *testing.T) {
	build := builder(t)
	sb := startSandbox(t, endpoints[1])
	retrying := make(chan struct{}, 1)
	c := sb.client(t, func(c *hive.Config) { c.RetryBackoff = time.Hour; c.Logger = slog.New(retryLog{retrying}) })
	stmt := build(hql.ShowDatabases())
	drops := dropOn(t, sb, stmt, 0)

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-retrying
		cancel()
	}()
	_, err := c.Query(ctx, stmt, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Query = %v, want context.Canceled", err)
	}
	if drops() != 1 {
		t.Errorf("the statement was sent %d times, want 1", drops())
	}
}
