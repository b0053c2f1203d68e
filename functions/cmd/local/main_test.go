package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/hivesandbox"
)

const token = "demo-admin-token"

// server is a run() in the background.
type server struct {
	url  string
	done chan error
	stop context.CancelFunc
}

// start runs the local server on a free port and waits for its "listening" line.
func start(t *testing.T, env map[string]string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	s := &server{done: make(chan error, 1), stop: cancel}
	go func() {
		err := run(ctx, []string{"local", "-port", "0"}, func(k string) string { return env[k] }, pw)
		pw.CloseWithError(io.EOF)
		s.done <- err
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		var line struct {
			Message, Severity, URL string
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		if line.Message == "listening" {
			s.url = line.URL
			break
		}
	}
	if s.url == "" {
		cancel()
		t.Fatalf("the server did not start: %v", <-s.done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

func (s *server) shutdown(t *testing.T) {
	t.Helper()
	s.stop()
	if err := <-s.done; err != nil {
		t.Errorf("run returned %v after shutdown, want nil", err)
	}
	s.done <- nil // for Cleanup
}

func request(t *testing.T, method, url, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "nested", "dir", "hivemerge.db")
	env := map[string]string{
		"HIVEMERGE_API_TOKEN":         token,
		"HIVEMERGE_BOLT_PATH":         db,
		"HIVEMERGE_SANDBOX_WAREHOUSE": filepath.Join(dir, "warehouse"),
	}
	s := start(t, env)
	auth := []string{"Authorization", "Bearer " + token}
	// Exactly the README's command: curl -d sends application/x-www-form-urlencoded.
	newcomer := `{"cluster_id":"demo","task_name":"t1","database_name":"sales","table_name":"orders","merge_strategy":"safe_merge"}`
	form := append([]string{"Content-Type", "application/x-www-form-urlencoded"}, auth...)

	for _, c := range []struct {
		name, method, path, body string
		header                   []string
		want                     int
		contains                 string
	}{
		{"health", "GET", "/health", "", nil, 200, `"ok"`},
		{"docs", "GET", "/docs", "", nil, 200, "<h1>hivemerge API</h1>"},
		{"spec", "GET", "/docs/openapi.json", "", nil, 200, `"openapi"`},
		{"demo cluster", "GET", "/api/v1/clusters/demo", "", auth, 200, `"fs_default":"file://` + filepath.ToSlash(dir) + `/warehouse"`},
		{"newcomer's create", "POST", "/api/v1/tasks/", newcomer, form, 201, `"status":"pending"`},
		{"again is a conflict", "POST", "/api/v1/tasks/", newcomer, form, 409, `"code":"conflict"`},
		{"list", "GET", "/api/v1/tasks/?status=pending", "", auth, 200, `"table_name":"orders"`},
		{"function at /Name", "GET", "/ListTasks?table_name=orders", "", auth, 200, `"created_by":"api"`},
		{"function path is exact", "GET", "/ListTasks/x", "", auth, 404, `"not_found"`},
		{"stats", "GET", "/TaskStats", "", auth, 200, `"pending":1`},
		{"no token", "GET", "/api/v1/tasks/", "", nil, 401, `"unauthenticated"`},
		{"unknown path", "GET", "/nope", "", nil, 404, `"not_found"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := request(t, c.method, s.url+c.path, c.body, c.header...)
			if status != c.want || !strings.Contains(body, c.contains) {
				t.Errorf("%s %s: %d %s, want %d containing %s", c.method, c.path, status, body, c.want, c.contains)
			}
		})
	}
	s.shutdown(t)

	// The store outlives the process: a restart sees the task and keeps the demo cluster.
	s = start(t, env)
	if status, body := request(t, "GET", s.url+"/api/v1/tasks/", "", auth...); status != 200 || strings.Count(body, `"id"`) != 1 {
		t.Errorf("after restart: %d %s", status, body)
	}
	if status, body := request(t, "GET", s.url+"/api/v1/clusters", "", auth...); status != 200 || strings.Count(body, `"id"`) != 1 {
		t.Errorf("clusters after restart: %d %s", status, body)
	}
}

func TestRunOptions(t *testing.T) {
	t.Run("no demo cluster", func(t *testing.T) {
		s := start(t, map[string]string{"HIVEMERGE_API_TOKEN": token, "HIVEMERGE_BOLT_PATH": filepath.Join(t.TempDir(), "db"), "HIVEMERGE_DEMO_CLUSTER": "0"})
		if status, body := request(t, "GET", s.url+"/api/v1/clusters", "", "Authorization", "Bearer "+token); status != 200 || body != "{\"clusters\":[]}\n" {
			t.Errorf("%d %s", status, body)
		}
	})
	t.Run("anonymous viewer on loopback", func(t *testing.T) {
		s := start(t, map[string]string{"HIVEMERGE_ALLOW_ANONYMOUS": "viewer", "HIVEMERGE_BOLT_PATH": filepath.Join(t.TempDir(), "db")})
		if status, body := request(t, "GET", s.url+"/api/v1/tasks/", ""); status != 200 {
			t.Errorf("%d %s", status, body)
		}
	})
	t.Run("one function target", func(t *testing.T) {
		s := start(t, map[string]string{"HIVEMERGE_API_TOKEN": token, "HIVEMERGE_BOLT_PATH": filepath.Join(t.TempDir(), "db"), "FUNCTION_TARGET": "TaskStats"})
		if status, body := request(t, "GET", s.url+"/", "", "Authorization", "Bearer "+token); status != 200 || !strings.Contains(body, `"by_status"`) {
			t.Errorf("%d %s", status, body)
		}
	})
}

func TestRunRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"anonymous on all interfaces", map[string]string{"HIVEMERGE_ALLOW_ANONYMOUS": "admin", "HOST": "0.0.0.0"}, nil, "only allowed on a loopback address"},
		{"anonymous on a flag address", map[string]string{"HIVEMERGE_ALLOW_ANONYMOUS": "viewer"}, []string{"-host", "192.0.2.1"}, "only allowed on a loopback address"},
		{"bad store", map[string]string{"HIVEMERGE_STORE": "mysql"}, nil, "use firestore or bolt"},
		{"bad log level", map[string]string{"HIVEMERGE_LOG_LEVEL": "loud"}, nil, "log level"},
		{"bad tokens", map[string]string{"HIVEMERGE_TOKENS": "x"}, nil, "HIVEMERGE_TOKENS"},
		{"bad sandbox address", map[string]string{"HIVEMERGE_SANDBOX_ADDR": "nowhere"}, nil, "HIVEMERGE_SANDBOX_ADDR"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.env["HIVEMERGE_BOLT_PATH"] == "" {
				c.env["HIVEMERGE_BOLT_PATH"] = filepath.Join(t.TempDir(), "db")
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			err := run(ctx, append([]string{"local", "-port", "0"}, c.args...), func(k string) string { return c.env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("run = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestRunDemoConnection follows the demo: the demo cluster points at HIVEMERGE_SANDBOX_ADDR,
// and testing its connection reaches the sandbox listening there.
func TestRunDemoConnection(t *testing.T) {
	sb, err := hivesandbox.Start(context.Background(), hivesandbox.Config{Addr: "127.0.0.1:0", Warehouse: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	s := start(t, map[string]string{
		"HIVEMERGE_API_TOKEN":    token,
		"HIVEMERGE_BOLT_PATH":    filepath.Join(t.TempDir(), "db"),
		"HIVEMERGE_SANDBOX_ADDR": sb.Addr(),
	})
	for _, path := range []string{"/api/v1/clusters/demo/test", "/TestClusterConnection?id=demo"} {
		status, body := request(t, "POST", s.url+path, "", "Authorization", "Bearer "+token)
		var got struct {
			OK      bool
			Stage   string
			Message string
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil || status != 200 || !got.OK || got.Stage != "query" ||
			!strings.Contains(got.Message, "connected to "+sb.Addr()) {
			t.Errorf("POST %s: %d %s, want ok at stage query", path, status, body)
		}
	}
}
