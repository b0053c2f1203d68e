package hivesandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/beltran/gohive"
	"github.com/beltran/gohive/hiveserver"

	"github.com/hivemerge/hivemerge/shared/hivesandbox"
)

// hiveMessage is the Hive error text of a gohive error. A gohive.HiveError (a failure
// answered by ExecuteStatement) prints only TStatus pointers from Error(); its Message has
// the text. Failures found while polling are plain errors with the text.
func hiveMessage(err error) string {
	var he gohive.HiveError
	if errors.As(err, &he) {
		return he.Message
	}
	return err.Error()
}

func databases(t testing.TB, cur *gohive.Cursor) []string {
	t.Helper()
	var out []string
	for _, row := range query(t, cur, "SHOW DATABASES") {
		out = append(out, row[0])
	}
	return out
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault hivesandbox.Fault
		// stmts run in order; wantErr[i] is a substring of statement i's error ("" = success).
		stmts   []string
		wantErr []string
		wantDBs []string // databases existing afterwards, besides default
	}{
		{
			name:    "fail with a message",
			fault:   hivesandbox.Fault{Match: `^create database doomed`, Action: hivesandbox.FaultFail, Message: "FAILED: sandbox says no"},
			stmts:   []string{"CREATE DATABASE doomed", "CREATE DATABASE fine"},
			wantErr: []string{"sandbox says no", ""},
			wantDBs: []string{"fine"},
		},
		{
			name:    "fail with Hive's execution error",
			fault:   hivesandbox.Fault{Match: `doomed`, Action: hivesandbox.FaultFail},
			stmts:   []string{"CREATE DATABASE doomed"},
			wantErr: []string{"return code 2 from org.apache.hadoop.hive.ql.exec.mr.MapRedTask"},
		},
		{
			name:    "times limits the hits",
			fault:   hivesandbox.Fault{Match: `^CREATE DATABASE`, Action: hivesandbox.FaultFail, Times: 2},
			stmts:   []string{"CREATE DATABASE a", "CREATE DATABASE b", "CREATE DATABASE c", "CREATE DATABASE d"},
			wantErr: []string{"return code 2", "return code 2", "", ""},
			wantDBs: []string{"c", "d"},
		},
		{
			name:    "slow statements still succeed",
			fault:   hivesandbox.Fault{Match: `slowpoke`, Action: hivesandbox.FaultSlow, Delay: 1},
			stmts:   []string{"CREATE DATABASE slowpoke"},
			wantErr: []string{""},
			wantDBs: []string{"slowpoke"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t, nosasl)
			fired := make(chan struct{}, len(tt.stmts))
			f := tt.fault
			f.Fired = fired
			sb.Inject(f)
			cur := sb.cursor(t)
			for i, stmt := range tt.stmts {
				cur.Exec(context.Background(), stmt)
				switch {
				case tt.wantErr[i] == "" && cur.Err != nil:
					t.Errorf("%s: %v", stmt, hiveMessage(cur.Err))
				case tt.wantErr[i] != "" && (cur.Err == nil || !strings.Contains(hiveMessage(cur.Err), tt.wantErr[i])):
					t.Errorf("%s: error %v, want one containing %q", stmt, cur.Err, tt.wantErr[i])
				}
			}
			if len(fired) == 0 {
				t.Error("the fault never reported firing")
			}
			want := append([]string{"default"}, tt.wantDBs...)
			slices.Sort(want)
			if got := databases(t, cur); !slices.Equal(got, want) {
				t.Errorf("databases = %q, want %q", got, want)
			}
		})
	}
}

func TestFaultRemove(t *testing.T) {
	sb := startSandbox(t, nosasl)
	remove := sb.Inject(hivesandbox.Fault{Match: `.`, Action: hivesandbox.FaultFail})
	cur := sb.cursor(t)
	if _, err := tryQuery(context.Background(), cur, "SHOW DATABASES"); err == nil {
		t.Fatal("statement succeeded with a fail-everything fault")
	}
	remove()
	databases(t, cur)
}

func TestFaultDropConnection(t *testing.T) {
	eachTransport(t, []transport{nosasl, sasl, httpPlain}, func(t *testing.T, sb *sandbox) {
		fired := make(chan struct{}, 1)
		sb.Inject(hivesandbox.Fault{Match: `^CREATE DATABASE lost`, Action: hivesandbox.FaultDropConnection, Times: 1, Fired: fired})
		conn, err := sb.dial("alice", testUsers["alice"])
		if err != nil {
			t.Fatal(err)
		}
		cur := conn.Cursor()
		cur.Exec(context.Background(), "CREATE DATABASE lost")
		if cur.Err == nil {
			t.Fatal("statement succeeded on a dropped connection")
		}
		<-fired
		conn.Close() // the session is gone with the connection; this only frees the client

		// Times: 1 spent the fault; a new connection runs the statement.
		cur2 := sb.cursor(t)
		if got := databases(t, cur2); slices.Contains(got, "lost") {
			t.Fatalf("the dropped statement ran: databases = %q", got)
		}
		exec(t, cur2, "CREATE DATABASE lost")
	})
}

// A cancelled statement stops, ends CANCELED and leaves nothing behind; the session goes on.
func TestCancel(t *testing.T) {
	tests := []struct {
		name   string
		tr     transport
		viaCtx bool // cancel through gohive's context instead of Cursor.Cancel
	}{
		{name: "CancelOperation over binary", tr: nosasl},
		{name: "CancelOperation over HTTP", tr: httpPlain},
		{name: "context cancel over SASL", tr: sasl, viaCtx: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t, tt.tr)
			fired := make(chan struct{})
			sb.Inject(hivesandbox.Fault{Match: `^CREATE DATABASE hung`, Action: hivesandbox.FaultHang, Fired: fired})
			cur := sb.cursor(t)

			if tt.viaCtx {
				// gohive's synchronous Exec sends CancelOperation when its context ends.
				ctx, stop := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() {
					defer close(done)
					cur.Exec(ctx, "CREATE DATABASE hung")
				}()
				<-fired
				stop()
				<-done
				if cur.Err == nil {
					t.Fatal("Exec succeeded after its context was cancelled")
				}
			} else {
				cur.Execute(context.Background(), "CREATE DATABASE hung", true)
				if cur.Err != nil {
					t.Fatal(cur.Err)
				}
				<-fired
				if st := cur.Poll(true); cur.Err != nil || st.GetOperationState() != hiveserver.TOperationState_RUNNING_STATE {
					t.Fatalf("state before cancel = %v (%v), want RUNNING", st.GetOperationState(), cur.Err)
				}
				cur.Cancel()
				if cur.Err != nil {
					t.Fatalf("Cancel: %v", cur.Err)
				}
				st := cur.Poll(true)
				if cur.Err != nil {
					t.Fatal(cur.Err)
				}
				if st.GetOperationState() != hiveserver.TOperationState_CANCELED_STATE {
					t.Errorf("state after cancel = %v, want CANCELED", st.GetOperationState())
				}
				cur.Close()
			}
			if got := databases(t, cur); slices.Contains(got, "hung") {
				t.Errorf("the cancelled statement's output exists: databases = %q", got)
			}
		})
	}
}

// Closing the server ends hung statements and the calls waiting on them.
func TestCloseStopsOperations(t *testing.T) {
	eachTransport(t, []transport{nosasl, httpPlain}, func(t *testing.T, sb *sandbox) {
		fired := make(chan struct{})
		sb.Inject(hivesandbox.Fault{Match: `hung`, Action: hivesandbox.FaultHang, Fired: fired})
		cur := sb.connect(t).Cursor()
		done := make(chan struct{})
		go func() {
			defer close(done)
			cur.Exec(context.Background(), "CREATE DATABASE hung")
		}()
		<-fired
		if err := sb.Close(); err != nil {
			t.Fatal(err)
		}
		<-done
		if cur.Err == nil {
			t.Error("statement succeeded although the server closed")
		}
	})
}

func TestConcurrentSessions(t *testing.T) {
	eachTransport(t, []transport{nosasl, sasl, httpPlain}, func(t *testing.T, sb *sandbox) {
		const n = 12
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				conn, err := sb.dial("alice", testUsers["alice"])
				if err != nil {
					errs <- err
					return
				}
				defer conn.Close()
				cur := conn.Cursor()
				defer cur.Close()
				db := fmt.Sprintf("db%02d", i)
				ctx := context.Background()
				for _, stmt := range []string{"CREATE DATABASE " + db, "USE " + db, fmt.Sprintf("SET hive.merge.size.per.task=%d", i)} {
					if _, err := tryQuery(ctx, cur, stmt); err != nil {
						errs <- fmt.Errorf("%s: %w", stmt, err)
						return
					}
				}
				// Each session keeps its own settings while the others change theirs.
				for range 5 {
					rows, err := tryQuery(ctx, cur, "SET hive.merge.size.per.task")
					if err != nil {
						errs <- err
						return
					}
					if want := fmt.Sprintf("hive.merge.size.per.task=%d", i); len(rows) != 1 || rows[0][0] != want {
						errs <- fmt.Errorf("session %d sees %q, want %q", i, rows, want)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		cur := sb.cursor(t)
		if got := databases(t, cur); len(got) != n+1 {
			t.Errorf("databases = %q, want default and %d more", got, n)
		}
	})
}

func TestAdminEndpoint(t *testing.T) {
	tests := []struct {
		name  string
		admin bool // separate admin listener instead of the HTTP port
	}{
		{name: "on the HTTP port"},
		{name: "on the admin port", admin: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t, transport{name: "binary+http", http: !tt.admin}, func(c *hivesandbox.Config) {
				if tt.admin {
					c.AdminAddr = "127.0.0.1:0"
				}
			})
			base := "http://" + sb.HTTPAddr() + hivesandbox.FaultsPath
			if tt.admin {
				base = "http://" + sb.AdminAddr() + hivesandbox.FaultsPath
			}
			do := func(method, url, body string) (int, string) {
				t.Helper()
				req, err := http.NewRequest(method, url, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				return resp.StatusCode, string(b)
			}

			if code, body := do("POST", base, `{"match": "x", "action": "explode"}`); code != http.StatusBadRequest {
				t.Errorf("POST invalid fault = %d %s, want 400", code, body)
			}
			code, body := do("POST", base, `[{"match": "^CREATE DATABASE nope", "action": "fail", "message": "admin says no", "times": 1},
				{"match": "slow", "action": "slow", "delay": "10ms"}]`)
			if code != http.StatusCreated {
				t.Fatalf("POST = %d %s", code, body)
			}
			var added []hivesandbox.FaultStatus
			if err := json.Unmarshal([]byte(body), &added); err != nil || len(added) != 2 {
				t.Fatalf("POST answer %s: %v", body, err)
			}

			cur := sb.cursor(t)
			cur.Exec(context.Background(), "CREATE DATABASE nope")
			if cur.Err == nil || !strings.Contains(hiveMessage(cur.Err), "admin says no") {
				t.Errorf("statement error = %v, want the admin fault", cur.Err)
			}

			_, body = do("GET", base, "")
			var listed []hivesandbox.FaultStatus
			if err := json.Unmarshal([]byte(body), &listed); err != nil {
				t.Fatal(err)
			}
			if len(listed) != 2 || listed[0].Used != 1 || listed[1].Fault.Delay.String() != "10ms" {
				t.Errorf("GET = %s", body)
			}
			if code, _ := do("DELETE", fmt.Sprintf("%s/%d", base, added[1].ID), ""); code != http.StatusNoContent {
				t.Errorf("DELETE one = %d", code)
			}
			if code, _ := do("DELETE", fmt.Sprintf("%s/%d", base, added[1].ID), ""); code != http.StatusNotFound {
				t.Errorf("DELETE again = %d, want 404", code)
			}
			if code, _ := do("DELETE", base, ""); code != http.StatusNoContent {
				t.Errorf("DELETE all = %d", code)
			}
			if _, body := do("GET", base, ""); strings.TrimSpace(body) != "[]" {
				t.Errorf("GET after clear = %s", body)
			}
		})
	}
}
