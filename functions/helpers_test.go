package functions

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hivemerge/hivemerge/scheduler"
	"github.com/hivemerge/hivemerge/shared/cloudlog"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/secretref"
	"github.com/hivemerge/hivemerge/shared/taskstore"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
	"github.com/hivemerge/hivemerge/shared/taskstore/firestore/firestoretest"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestMain(m *testing.M) { firestoretest.Main(m) }

// backend opens an empty store of one kind for one test.
type backend struct {
	name string
	open func(tb testing.TB) taskstore.Store
}

// backends are the real stores every HTTP behaviour is checked on.
var backends = []backend{
	{"bolt", openBolt},
	{"firestore", openFirestoreEmulator},
}

func openBolt(tb testing.TB) taskstore.Store {
	st, err := bolt.Open(filepath.Join(tb.TempDir(), "hivemerge.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// projectID returns a Firestore project ID of the test's own, so tests may run in parallel
// on one emulator without seeing each other's documents.
func projectID() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "hm-functions-" + hex.EncodeToString(b[:])
}

// Tokens of the test principals, one per role.
const (
	viewerToken   = "viewer-token-0123456789"
	operatorToken = "operator-token-0123456789"
	adminToken    = "admin-token-0123456789"
)

func testAuth(tb testing.TB) *Authenticator {
	a, err := NewAuthenticator(AuthConfig{Tokens: []Token{
		{Name: "vera", Role: "viewer", Token: viewerToken},
		{Name: "otto", Role: "operator", Token: operatorToken},
		{Name: "ada", Role: "admin", Token: adminToken},
	}})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// env is a Server over a real store, served on loopback by a real http.Server.
type env struct {
	store taskstore.Store
	svc   *merge.Service
	srv   *Server
	http  *httptest.Server
	logs  *syncBuffer
}

// newEnv serves a new Server over st with the test tokens and a registered "demo" cluster.
func newEnv(tb testing.TB, st taskstore.Store, auth *Authenticator) *env {
	tb.Helper()
	if auth == nil {
		auth = testAuth(tb)
	}
	svc := merge.NewService(st, st).WithProber(&hive.Prober{}, secretref.New(nil))
	if _, err := svc.CreateCluster(tb.Context(), merge.Cluster{ID: "demo", Host: "127.0.0.1", Auth: merge.AuthNoSASL}); err != nil {
		tb.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := cloudlog.New(logs, slog.LevelDebug)
	srv := NewServer(svc, auth, logger).WithScheduling(Scheduling{
		Policies: merge.NewPolicies(st, scheduler.Windows{}),
		Jobs:     scheduler.NewService(svc, st, logger, scheduler.ServiceConfig{Owner: "test"}),
	})
	mux := http.NewServeMux()
	for _, f := range srv.Functions() {
		mux.Handle("/"+f.Name, f.Handler)
	}
	mux.Handle("/", srv.Handler())
	hs := httptest.NewServer(mux)
	tb.Cleanup(hs.Close)
	return &env{store: st, svc: svc, srv: srv, http: hs, logs: logs}
}

// response is what a test looks at.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		tb.Fatalf("response body %q: %v", r.body, err)
	}
}

// do sends a request with a bearer token (none when empty) and a body (none when nil; a
// string is sent as is, anything else as JSON).
func (e *env) do(tb testing.TB, method, path, token string, body any, header ...string) response {
	tb.Helper()
	return do(tb, e.http.Client(), e.http.URL, method, path, token, body, header...)
}

func do(tb testing.TB, c *http.Client, base, method, path, token string, body any, header ...string) response {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(tb.Context(), method, base+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1] // the client sends req.Host, not a Host header
			continue
		}
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// allTasks lists every stored task, straight from the store.
func allTasks(tb testing.TB, st taskstore.Store) []*merge.Task {
	tb.Helper()
	page, err := st.ListTasks(tb.Context(), merge.TaskFilter{Limit: merge.MaxListLimit})
	if err != nil {
		tb.Fatal(err)
	}
	return page.Tasks
}

// newcomerBody is the README's first request.
const newcomerBody = `{"cluster_id":"demo","task_name":"t1","database_name":"sales","table_name":"orders","merge_strategy":"safe_merge"}`

// golden compares got with testdata/name, or rewrites the file under -update.
func golden(tb testing.TB, name string, got []byte) {
	tb.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("%s differs from the golden file (run go test -update if the change is intended)\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// syncBuffer is a log sink tests read while servers write to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// logLines decodes every JSON log line written so far.
func (s *syncBuffer) logLines(tb testing.TB) []map[string]any {
	tb.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			tb.Fatalf("log line %q is not JSON: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}
