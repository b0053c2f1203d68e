package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/hivesandbox/sandboxtest"
)

const token = "demo-admin-token"

// server is a run() in the background.
type server struct {
	url  string
	done chan error
	stop context.CancelFunc
	logs *logBuffer // what it logged after "listening"
}

// logBuffer collects a server's log while it runs.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// setLimits changes the server's limits for one test.
func setLimits(t *testing.T, change func(*serverLimits)) {
	old := limits
	change(&limits)
	t.Cleanup(func() { limits = old })
}

// start runs the local server on a free port and waits for its "listening" line.
func start(t *testing.T, env map[string]string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	s := &server{done: make(chan error, 1), stop: cancel, logs: &logBuffer{}}
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
	go func() { _, _ = io.Copy(s.logs, pr) }()
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
		{"root leads to the console", "GET", "/", "", nil, 200, "<title>hivemerge console</title>"},
		{"console", "GET", "/console/", "", nil, 200, "<title>hivemerge console</title>"},
		{"console without its slash", "GET", "/console", "", nil, 200, "<title>hivemerge console</title>"},
		{"console below the API function", "GET", "/API/console/", "", nil, 200, "<title>hivemerge console</title>"},
		{"API function's root leads to its console", "GET", "/API/", "", nil, 200, "<title>hivemerge console</title>"},
		{"only GET / is redirected", "POST", "/", "", auth, 404, `"not_found"`},
		{"API function at /API", "GET", "/API", "", nil, 200, "<h1>hivemerge API</h1>"},
		{"API function below /API/ as deployed", "GET", "/API/api/v1/tasks/?status=pending", "", auth, 200, `"table_name":"orders"`},
		{"API function's health", "GET", "/API/health", "", nil, 200, `"ok"`},
		{"API function's unknown path", "GET", "/API/nope", "", nil, 404, `"no such path: /nope"`},
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
	if status, body := request(t, "GET", s.url+"/api/v1/tasks/", "", auth...); status != 200 || strings.Count(body, `"id"`) != 1 ||
		!strings.Contains(body, `"table_name":"orders"`) {
		t.Errorf("after restart: %d %s", status, body)
	}
	if status, body := request(t, "GET", s.url+"/api/v1/clusters", "", auth...); status != 200 || strings.Count(body, `"id"`) != 1 ||
		!strings.Contains(body, `"id":"demo"`) {
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
			t.Errorf("anonymous read: %d %s, want 200", status, body)
		}
		newcomer := `{"cluster_id":"demo","task_name":"t1","database_name":"sales","table_name":"orders"}`
		if status, body := request(t, "POST", s.url+"/api/v1/tasks/", newcomer, "Content-Type", "application/json"); status != 403 {
			t.Errorf("anonymous create: %d %s, want 403: a viewer may not write", status, body)
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
	sb := sandboxtest.Start(t)
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

// dial opens a raw connection to s, for clients no well-behaved library would be.
func (s *server) dial(t *testing.T) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestRunLimits(t *testing.T) {
	setLimits(t, func(l *serverLimits) { l.read = 200 * time.Millisecond })
	s := start(t, map[string]string{"HIVEMERGE_API_TOKEN": token, "HIVEMERGE_BOLT_PATH": filepath.Join(t.TempDir(), "db"), "HIVEMERGE_SCHEDULER": "0"})

	t.Run("slow body", func(t *testing.T) {
		conn := s.dial(t)
		fmt.Fprintf(conn, "POST /api/v1/tasks/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", token)
		// The client trickles its body faster than any idle timeout would notice, until the
		// server hangs up.
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := conn.Write([]byte(" ")); err != nil {
						return
					}
				}
			}
		}()
		// A guard only: the server must hang up long before.
		if err := conn.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
			t.Fatal(err)
		}
		_, err := io.Copy(io.Discard, conn)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal("the server still holds the connection of a client sending its body a byte at a time")
		}
		// io.Copy ends without error at EOF; a reset is the server hanging up on bytes in flight.
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("reading: %v", err)
		}
	})
	t.Run("large headers", func(t *testing.T) {
		if status, body := request(t, "GET", s.url+"/health", "", "X-Padding", strings.Repeat("a", 100<<10)); status != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("%d %s, want 431", status, body)
		}
	})
}

// TestRunShutdownHungClient stops the server while a client holds a request open: once the
// grace period is over the server drops the client, and run still succeeds.
func TestRunShutdownHungClient(t *testing.T) {
	setLimits(t, func(l *serverLimits) { l.shutdown = 100 * time.Millisecond })
	s := start(t, map[string]string{"HIVEMERGE_API_TOKEN": token, "HIVEMERGE_BOLT_PATH": filepath.Join(t.TempDir(), "db"), "HIVEMERGE_SCHEDULER": "0"})
	conn := s.dial(t)
	fmt.Fprintf(conn, "POST /api/v1/tasks/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n", token)
	// The server asks for the body when the handler starts reading it: the request is in
	// flight, and the client never sends the body.
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("got %q, %v; want 100 Continue", line, err)
	}
	s.shutdown(t)
	if !strings.Contains(s.logs.String(), "closed the connections left") {
		t.Errorf("no log line says the server dropped the hung client:\n%s", s.logs)
	}
}
