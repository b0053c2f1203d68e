package hivesandbox_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/hivemerge/hivemerge/shared/hivesandbox"
)

// insertOfSize is an INSERT ... VALUES statement of exactly n bytes.
func insertOfSize(n int) string {
	const head, tail = "INSERT INTO t VALUES ('", "')"
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

// A statement costs the server many times its size to parse, so a client could grow the
// shared sandbox by hundreds of megabytes with one INSERT: statements above the limit fail
// before they are parsed, with an error the client sees, and the server serves on.
func TestStatementSizeLimit(t *testing.T) {
	tests := []struct {
		name  string
		tr    transport
		limit int // Config.MaxStatementBytes
		want  int // the limit in force
	}{
		{name: "default", tr: nosasl, limit: 0, want: 1 << 20},
		{name: "configured", tr: nosasl, limit: 64 << 10, want: 64 << 10},
		{name: "configured over HTTP", tr: httpPlain, limit: 64 << 10, want: 64 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs lockedBuffer
			sb := startSandbox(t, tt.tr, func(c *hivesandbox.Config) {
				c.MaxStatementBytes = tt.limit
				c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			cur := sb.cursor(t)
			exec(t, cur, "CREATE TABLE t (a string)")
			exec(t, cur, insertOfSize(tt.want))
			for _, n := range []int{tt.want + 1, 2 * tt.want} {
				_, err := tryQuery(context.Background(), cur, insertOfSize(n))
				want := fmt.Sprintf("Error while compiling statement: FAILED: the sandbox refuses a statement of %d bytes: its limit is %d bytes", n, tt.want)
				got := "no error"
				if err != nil {
					got = hiveMessage(err)
				}
				if !strings.Contains(got, want) {
					t.Errorf("%d bytes: got %q, want %q", n, got, want)
				}
			}
			// The server serves on, on this connection and on a new one.
			for _, c := range []string{"same", "new"} {
				if c == "new" {
					cur = sb.cursor(t)
				}
				if got := query(t, cur, "SELECT COUNT(*) FROM t"); len(got) != 1 || got[0][0] != "1" {
					t.Errorf("%s connection: count = %v, want 1", c, got)
				}
			}
			// The log names each statement without repeating megabytes of it.
			for _, line := range strings.Split(logs.String(), "\n") {
				if len(line) > 8192 {
					t.Errorf("a log line of %d bytes: %.200s", len(line), line)
				}
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer the server's goroutines may log to concurrently.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
