package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/hiveql"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const token = "cli-test-token-0123456789"

var (
	// bin holds the built hivemerge and local commands.
	bin string
	// sandbox is a Hive sandbox the demo cluster of every server points at.
	sandbox *hivesandbox.Server
)

// TestMain builds the real binaries: the tests run hivemerge as a user does, against the real
// local server.
func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hivemerge-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = dir
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator), ".", "../local")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the commands:", err)
		return 1
	}
	sb, err := hivesandbox.Start(context.Background(), hivesandbox.Config{Addr: "127.0.0.1:0", Warehouse: filepath.Join(dir, "warehouse")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the sandbox:", err)
		return 1
	}
	defer sb.Close()
	sandbox = sb
	// Task creation checks the table on the cluster, so the tables the tests name exist.
	sess := sb.Warehouse().NewSession("test")
	stmts := []string{"CREATE DATABASE sales"}
	for _, t := range []string{"orders", "events", "clicks", "conflicts", "t", "waited_true", "waited_false", "followed", "interrupted", "merged", "previewed"} {
		stmts = append(stmts, "CREATE TABLE sales."+t+" (id INT, v STRING) PARTITIONED BY (dt STRING, hr STRING)")
	}
	for _, stmt := range stmts {
		if _, err := sess.Execute(context.Background(), stmt, hiveql.Events{}); err != nil {
			fmt.Fprintln(os.Stderr, "creating the tests' tables:", err)
			return 1
		}
	}
	return m.Run()
}

// startServer runs the local server on a free port with a fresh store and returns its URL.
func startServer(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "local"), "-port", "0")
	cmd.Env = []string{
		"HIVEMERGE_API_TOKEN=" + token,
		"HIVEMERGE_BOLT_PATH=" + filepath.Join(t.TempDir(), "hivemerge.db"),
		"HIVEMERGE_SCHEDULER=0",
		"HIVEMERGE_SANDBOX_ADDR=" + sandbox.Addr(),
		"HIVEMERGE_SANDBOX_WAREHOUSE=" + sandbox.Warehouse().Dir(),
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var line struct{ Message, URL string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "listening" {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return line.URL
		}
	}
	t.Fatalf("the local server did not start: %v", sc.Err())
	return ""
}

// result is one run of the command.
type result struct {
	stdout, stderr string
	code           int
}

// cli runs hivemerge against url with the test token in the environment; env adds variables.
func cli(t *testing.T, url string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "hivemerge"), args...)
	cmd.Env = append([]string{"HIVEMERGE_URL=" + url, "HIVEMERGE_API_TOKEN=" + token}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// createTask creates a task on table through the command and returns its id.
func createTask(t *testing.T, url, table string) string {
	t.Helper()
	r := cli(t, url, nil, "create", "--cluster", "demo", "--db", "sales", "--table", table, "--json")
	var task struct{ ID string }
	if err := json.Unmarshal([]byte(r.stdout), &task); r.code != 0 || err != nil || task.ID == "" {
		t.Fatalf("create: %+v", r)
	}
	return task.ID
}

var (
	idRe        = regexp.MustCompile(`\b[0-9a-f]{32}\b`)
	timeRe      = regexp.MustCompile(`\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z`)
	pageTokenRe = regexp.MustCompile(`--page-token \S+`)
	msRe        = regexp.MustCompile(`in \d+ ms`)
	clockRe     = regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d `)
	durationRe  = regexp.MustCompile(`"(latency_ms|duration_ms)":\d+|(latency|duration): +[0-9.]+(µs|ms|s)`)
)

// mask replaces what changes from run to run: ids, times, durations, page tokens and
// addresses (url and the others given as pairs of address and name). Placeholders are as
// wide as what they replace, where they fit, so that masked tables stay aligned.
func mask(s, url string, addrs ...string) string {
	_, sandboxPort, _ := strings.Cut(sandbox.Addr(), ":")
	// The warehouse is a temporary directory whose name varies in length, so its placeholder
	// has a fixed width; it only ends lines.
	s = strings.ReplaceAll(s, sandbox.Warehouse().Dir(), "<WAREHOUSE>")
	pairs := append([]string{url, "<URL>", sandbox.Addr(), "<SANDBOX>", `"port":` + sandboxPort, `"port":<SANDBOX_PORT>`}, addrs...)
	for i := 0; i+1 < len(pairs); i += 2 {
		s = strings.ReplaceAll(s, pairs[i], placeholder(pairs[i+1], len(pairs[i])))
	}
	s = pageTokenRe.ReplaceAllString(s, "--page-token <TOKEN>")
	s = idRe.ReplaceAllStringFunc(s, func(m string) string { return placeholder("<ID>", len(m)) })
	s = timeRe.ReplaceAllStringFunc(s, func(m string) string {
		if strings.Contains(m, ".") {
			return "<TIME>" // JSON's: fractions vary in length
		}
		return placeholder("<TIME>", len(m))
	})
	s = msRe.ReplaceAllString(s, "in <N> ms")
	s = clockRe.ReplaceAllString(s, "<HH:MM:SS> ")
	return durationRe.ReplaceAllStringFunc(s, func(m string) string {
		k, v, _ := strings.Cut(m, ":")
		if strings.HasPrefix(m, `"`) {
			return k + ":<N>"
		}
		spaces := v[:len(v)-len(strings.TrimLeft(v, " "))]
		return k + ":" + spaces + "<DURATION>"
	})
}

// placeholder is name widened with underscores to n bytes.
func placeholder(name string, n int) string {
	if len(name) >= n {
		return name
	}
	return name[:len(name)-1] + strings.Repeat("_", n-len(name)) + ">"
}

// golden compares got with testdata/name.golden, or writes it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// TestCommands runs each command against a real local server, in order, and compares its
// output and exit code with a golden file.
func TestCommands(t *testing.T) {
	url := startServer(t)
	// A cluster nobody listens on: its connection test fails at the connect stage.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr)
	ln.Close()

	var orders string // the id of the first task, known once it is created
	id := func() string { return orders }
	cases := []struct {
		name     string
		args     func() []string
		wantCode int
	}{
		{"help", static("help"), exitOK},
		{"help-create", static("create", "-h"), exitOK},
		{"no-command", static(), exitUsage},
		{"unknown-command", static("frobnicate"), exitUsage},
		{"clusters", static("clusters"), exitOK},
		{"clusters-json", static("clusters", "--json"), exitOK},
		{"clusters-get", static("clusters", "get", "demo"), exitOK},
		{"clusters-get-json", static("clusters", "get", "demo", "--json"), exitOK},
		{"clusters-get-missing", static("clusters", "get", "nope"), exitNotFound},
		{"clusters-add", static("clusters", "add", "--id", "down", "--host", "127.0.0.1", "--port", fmt.Sprint(closed.Port), "--auth", "NOSASL"), exitOK},
		{"clusters-add-conflict", static("clusters", "add", "--id", "down", "--host", "127.0.0.1"), exitConflict},
		{"clusters-add-invalid", static("clusters", "add", "--id", "Bad Id", "--host", "127.0.0.1"), exitRefused},
		{"clusters-add-missing-host", static("clusters", "add", "--id", "x"), exitUsage},
		{"clusters-test", static("clusters", "test", "demo"), exitOK},
		{"clusters-test-json", static("clusters", "test", "demo", "--json"), exitOK},
		{"clusters-test-fails", static("clusters", "test", "down"), exitFailed},
		{"clusters-rm", static("clusters", "rm", "down"), exitOK},
		{"tasks-empty", static("tasks"), exitOK},
		{"create", static("create", "--cluster", "demo", "--db", "sales", "--table", "orders", "--partition", "dt=2024-01-01,hr=00", "--partition", "dt=2024-01-01,hr=01", "--strategy", "safe_merge", "--target-size", "256MB", "--name", "orders hour 0 and 1"), exitOK},
		{"create-json", static("create", "--json", "--cluster", "demo", "--db", "sales", "--table", "events"), exitOK},
		{"create-conflict", static("create", "--cluster", "demo", "--db", "sales", "--table", "orders", "--partition", "dt=2024-01-01"), exitConflict},
		{"create-bad-size", static("create", "--cluster", "demo", "--db", "sales", "--table", "t", "--target-size", "huge"), exitUsage},
		{"create-bad-partition", static("create", "--cluster", "demo", "--db", "sales", "--table", "t", "--partition", "dt"), exitUsage},
		{"create-invalid", static("create", "--cluster", "demo", "--db", "sales", "--table", "t", "--strategy", "fastest"), exitRefused},
		{"tasks", static("tasks"), exitOK},
		{"tasks-json", static("tasks", "--json"), exitOK},
		{"tasks-page", static("tasks", "--limit", "1"), exitOK},
		{"tasks-all-json", static("tasks", "--limit", "1", "--all", "--json"), exitOK},
		{"tasks-filter", static("tasks", "--table", "events", "--status", "pending"), exitOK},
		{"tasks-bad-status", static("tasks", "--status", "done"), exitRefused},
		{"tasks-get", func() []string { return []string{"tasks", "get", id()} }, exitOK},
		{"tasks-get-json", func() []string { return []string{"tasks", "get", id(), "--json"} }, exitOK},
		{"tasks-get-missing", static("tasks", "get", "0123456789abcdef0123456789abcdef"), exitNotFound},
		{"tasks-stats", static("tasks", "stats"), exitOK},
		{"tasks-stats-json", static("tasks", "stats", "--json"), exitOK},
		{"logs", func() []string { return []string{"logs", id()} }, exitOK},
		{"logs-json", func() []string { return []string{"logs", id(), "--json"} }, exitOK},
		{"cancel", func() []string { return []string{"cancel", id()} }, exitOK},
		{"cancel-again", func() []string { return []string{"cancel", id()} }, exitOK},
		{"tasks-get-cancelled", func() []string { return []string{"tasks", "get", id()} }, exitOK},
		{"logs-follow-ended", func() []string { return []string{"logs", "--follow", id()} }, exitFailed},
		{"bad-flag", static("tasks", "--bogus"), exitUsage},
		{"missing-argument", static("tasks", "get"), exitUsage},
		// A server without the endpoint: below a path the server does not route, every
		// endpoint is missing, whichever the server has.
		{"preview-task", func() []string { return []string{"--url", url + "/older", "preview", id()} }, exitRefused},
		{"preview-table", static("--url", url+"/older", "preview", "--cluster", "demo", "--db", "sales", "--table", "orders", "--partition", "dt=2024-01-01", "--target-size", "1g"), exitRefused},
		{"rollback", func() []string { return []string{"--url", url + "/older", "rollback", id()} }, exitRefused},
		{"scan", static("--url", url+"/older", "scan", "demo", "--db", "sales"), exitRefused},
		{"tables", static("--url", url+"/older", "tables", "demo", "sales"), exitRefused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := c.args()
			r := cli(t, url, nil, args...)
			if c.name == "create" {
				if m := idRe.FindString(r.stdout); m != "" {
					orders = m
				}
			}
			got := fmt.Sprintf("$ hivemerge %s\nexit %d\n-- stdout --\n%s-- stderr --\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
			golden(t, c.name, mask(got, url, closed.String(), "<DOWN>", fmt.Sprint(closed.Port), "<DOWN_PORT>"))
			if r.code != c.wantCode {
				t.Errorf("exit code %d, want %d\n%s", r.code, c.wantCode, got)
			}
			if strings.Contains(got, token) {
				t.Errorf("the token appears in the output:\n%s", got)
			}
			if strings.HasSuffix(c.name, "json") && r.code == 0 && !json.Valid([]byte(r.stdout)) {
				t.Errorf("--json printed something that is not one JSON document:\n%s", r.stdout)
			}
		})
	}
}

func static(args ...string) func() []string { return func() []string { return args } }

// TestExitCodes checks the codes scripts rely on for each way a request can fail.
func TestExitCodes(t *testing.T) {
	url := startServer(t)
	down := closedURL(t)
	// A server that accepts connections and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	cases := []struct {
		name      string
		url       string
		env       []string
		args      []string
		want      int
		wantInErr string
	}{
		{"ok", url, nil, []string{"tasks"}, exitOK, ""},
		{"below the API function's path", url + "/API/", nil, []string{"clusters", "get", "demo"}, exitOK, ""},
		{"bad flag", url, nil, []string{"tasks", "--limit", "many"}, exitUsage, "invalid value"},
		{"bad url", "ftp://x", nil, []string{"tasks"}, exitUsage, "not an http:// or https:// URL"},
		{"token over plain http", "http://192.0.2.1:8080", nil, []string{"tasks"}, exitUsage, "refusing to send the token over plain http"},
		{"invalid request", url, nil, []string{"tasks", "--status", "done"}, exitRefused, "400"},
		{"not found", url, nil, []string{"tasks", "get", "0123456789abcdef0123456789abcdef"}, exitNotFound, "404"},
		{"wrong token", url, nil, []string{"--token", "wrong", "tasks"}, exitAuth, "401"},
		{"no token", url, []string{"HIVEMERGE_API_TOKEN="}, []string{"tasks"}, exitAuth, "missing bearer token"},
		{"server down", down, nil, []string{"tasks"}, exitUnavailable, "connection refused"},
		{"no answer", "http://" + silent.Addr().String(), nil, []string{"--timeout", "300ms", "tasks"}, exitUnavailable, "no answer within 300ms"},
		{"unsupported endpoint", url + "/older", nil, []string{"tables", "demo", "sales"}, exitRefused, "does not support tables yet"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := cli(t, c.url, c.env, c.args...)
			if r.code != c.want || !strings.Contains(r.stderr, c.wantInErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, c.want, c.wantInErr)
			}
		})
	}
	// What may stand in front of the API: a gateway that fails with a page of HTML, and one
	// that redirects elsewhere, which must not receive the token.
	t.Run("gateway error", func(t *testing.T) {
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html><body>502 Bad Gateway</body></html>")
		}))
		defer gw.Close()
		r := cli(t, gw.URL, nil, "tasks")
		if r.code != exitUnavailable || !strings.Contains(r.stderr, "502 Bad Gateway") {
			t.Errorf("%+v, want exit %d with 502 Bad Gateway", r, exitUnavailable)
		}
	})
	t.Run("redirect not followed", func(t *testing.T) {
		tokens := make(chan string, 1)
		elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tokens <- r.Header.Get("Authorization")
		}))
		defer elsewhere.Close()
		gw := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/api/v1/tasks/", http.StatusTemporaryRedirect))
		defer gw.Close()
		r := cli(t, gw.URL, nil, "tasks")
		if r.code != exitRefused || !strings.Contains(r.stderr, "307") {
			t.Errorf("%+v, want exit %d with 307", r, exitRefused)
		}
		select {
		case got := <-tokens:
			t.Errorf("the redirect was followed, with Authorization %q", got)
		default:
		}
	})
	t.Run("conflict", func(t *testing.T) {
		createTask(t, url, "conflicts")
		r := cli(t, url, nil, "create", "--cluster", "demo", "--db", "sales", "--table", "conflicts")
		if r.code != exitConflict || !strings.Contains(r.stderr, "409") {
			t.Errorf("second create: %+v, want exit %d with 409", r, exitConflict)
		}
	})
}

// closedURL is the URL of a port nobody listens on.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// following starts logs --follow on a task and returns once it follows. wait waits for it to
// exit and returns its exit code and everything it wrote on stderr.
func following(t *testing.T, url, id string) (cmd *exec.Cmd, wait func() (int, string)) {
	t.Helper()
	cmd = exec.Command(filepath.Join(bin, "hivemerge"), "logs", "--follow", "--interval", "20ms", id)
	cmd.Env = []string{"HIVEMERGE_URL=" + url, "HIVEMERGE_API_TOKEN=" + token}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	rd := bufio.NewReader(stderr)
	line, err := rd.ReadString('\n')
	if err != nil || !strings.Contains(line, "following the log of task "+id) {
		t.Fatalf("logs --follow said %q, %v", line, err)
	}
	return cmd, func() (int, string) {
		rest, _ := io.ReadAll(rd) // until the process exits and closes stderr
		_ = cmd.Wait()
		return cmd.ProcessState.ExitCode(), line + string(rest)
	}
}

func TestLogsFollowEndsWhenTheTaskIsCancelled(t *testing.T) {
	url := startServer(t)
	id := createTask(t, url, "followed")
	_, wait := following(t, url, id)
	if r := cli(t, url, nil, "cancel", id); r.code != 0 {
		t.Fatalf("cancel: %+v", r)
	}
	code, stderr := wait()
	if code != exitFailed {
		t.Errorf("logs --follow exited %d, want %d; stderr %q", code, exitFailed, stderr)
	}
	if !strings.Contains(stderr, "task "+id+" was cancelled by api") {
		t.Errorf("stderr %q does not say the task was cancelled", stderr)
	}
}

func TestInterrupt(t *testing.T) {
	url := startServer(t)
	id := createTask(t, url, "interrupted")
	cmd, wait := following(t, url, id)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code, stderr := wait(); code != exitInterrupted || !strings.Contains(stderr, "hivemerge: interrupted") {
		t.Errorf("exit %d after Ctrl-C, stderr %q; want %d, interrupted", code, stderr, exitInterrupted)
	}
}

// TestTokenNeverShown runs commands that print help, errors and data, with the token from
// the flag and from the environment, and looks for it in everything they wrote.
func TestTokenNeverShown(t *testing.T) {
	url := startServer(t)
	const secret = "never-show-this-token-42"
	runs := [][]string{
		{"help"},
		{"-h"},
		{"tasks", "-h"},
		{"clusters", "add", "-h"},
		{"--token", secret, "tasks", "-h"},
		{"--token", secret, "tasks"},
		{"--token", secret, "--url", "http://192.0.2.1", "tasks"},
		{"--token", secret, "--url", "http://user:" + secret + "@127.0.0.1:1", "tasks"},
		{"--token", secret, "--url", closedURL(t), "tasks"},
		{"--token", secret, "clusters", "get", "demo"},
		{"--token", secret + " x", "tasks"},
		{"tasks", "--bogus"},
	}
	for _, args := range runs {
		for _, env := range [][]string{nil, {"HIVEMERGE_API_TOKEN=" + secret}} {
			r := cli(t, url, env, args...)
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Errorf("hivemerge %q (env %q) showed the token:\n%s%s", args, env, r.stdout, r.stderr)
			}
		}
	}
}

func TestParseSize(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		err  bool
	}{
		{"256MB", 256 << 20, false},
		{"256mib", 256 << 20, false},
		{"256M", 256 << 20, false},
		{"1.5GB", 3 << 29, false},
		{"1g", 1 << 30, false},
		{"64KB", 64 << 10, false},
		{"2TB", 2 << 40, false},
		{"134217728", 134217728, false},
		{"100b", 100, false},
		{" 512 MB ", 512 << 20, false},
		{"", 0, true},
		{"huge", 0, true},
		{"-1MB", 0, true},
		{"1e30GB", 0, true},
		{"MB", 0, true},
		{"NaN", 0, true},
	}
	for _, c := range cases {
		got, err := parseSize(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	cases := []struct {
		in   int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.00 KiB"},
		{1536, "1.50 KiB"},
		{256 << 20, "256 MiB"},
		{15 << 29, "7.50 GiB"},
		{12 << 40, "12.0 TiB"},
		{1000 << 20, "0.98 GiB"},
		{999 << 20, "999 MiB"},
	}
	for _, c := range cases {
		if got := humanBytes(c.in); got != c.want {
			t.Errorf("humanBytes(%d) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestScanAndTables drives the discovery endpoints end to end.
func TestScanAndTables(t *testing.T) {
	url := startServer(t)
	r := cli(t, url, nil, "scan", "demo", "--interval", "20ms")
	if r.code != exitOK || !strings.Contains(r.stdout, "status:        succeeded") || !strings.Contains(r.stdout, "scope:         the whole cluster") {
		t.Errorf("scan demo: %+v, want a succeeded scan of the whole cluster", r)
	}
	r = cli(t, url, nil, "scan", "demo", "--db", "nope", "--interval", "20ms")
	if r.code != exitFailed || !strings.Contains(r.stderr, "failed") || !strings.Contains(r.stdout, "scope:         database nope") {
		t.Errorf("scan of a missing database: %+v, want exit %d and the failure", r, exitFailed)
	}
	r = cli(t, url, nil, "scan", "demo", "--db", "default", "--no-wait", "--json")
	var scan struct {
		ScanID string `json:"scan_id"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &scan); r.code != exitOK || err != nil || scan.ScanID == "" {
		t.Errorf("scan --no-wait --json: %+v, want the scan started", r)
	}
	r = cli(t, url, nil, "tables", "demo", "default")
	if r.code != exitOK || !strings.Contains(r.stdout, "no tables measured in demo.default") {
		t.Errorf("tables of an empty database: %+v", r)
	}
	r = cli(t, url, nil, "tables", "demo", "default", "--json")
	if r.code != exitOK || !json.Valid([]byte(r.stdout)) {
		t.Errorf("tables --json: %+v, want one JSON document", r)
	}
	r = cli(t, url, nil, "scan", "nope")
	if r.code != exitNotFound {
		t.Errorf("scan of an unknown cluster: %+v, want exit %d", r, exitNotFound)
	}
}

// TestMergeWait merges a partition of small files with merge --wait: the command follows the
// task to its end and prints the files before and after.
func TestMergeWait(t *testing.T) {
	url := startServer(t)
	part := map[string]string{"dt": "2024-01-01", "hr": "00"}
	for i := range 5 {
		if _, err := sandbox.Warehouse().AppendFile(context.Background(), "sales", "merged", part, [][]string{{strconv.Itoa(i), "v"}}); err != nil {
			t.Fatal(err)
		}
	}
	r := cli(t, url, nil, "merge", "--cluster", "demo", "--db", "sales", "--table", "merged", "--strategy", "safe_merge", "--wait")
	if r.code != exitOK || !regexp.MustCompile(`success: files 5 → 1\b`).MatchString(r.stdout) {
		t.Errorf("merge --wait: %+v, want exit 0 and files 5 → 1", r)
	}
}

// TestPreviewTable previews a table's merge against the real server: the request must be the
// merge-preview body the API accepts.
func TestPreviewTable(t *testing.T) {
	url := startServer(t)
	part := map[string]string{"dt": "2024-01-03", "hr": "00"}
	for i := range 3 {
		if _, err := sandbox.Warehouse().AppendFile(context.Background(), "sales", "previewed", part, [][]string{{strconv.Itoa(i), "v"}}); err != nil {
			t.Fatal(err)
		}
	}
	r := cli(t, url, nil, "preview", "--cluster", "demo", "--db", "sales", "--table", "previewed", "--partition", "dt=2024-01-03,hr=00", "--strategy", "safe_merge", "--json")
	if r.code != exitOK || !strings.Contains(r.stdout, `"files_before":3`) || !strings.Contains(r.stdout, `"strategy":"safe_merge"`) {
		t.Errorf("preview: %+v, want exit 0 and a safe_merge preview of 3 files", r)
	}
}
