package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beltran/gohive"
)

func TestRun(t *testing.T) {
	faults := filepath.Join(t.TempDir(), "faults.json")
	if err := os.WriteFile(faults, []byte(`[{"match": "^DROP DATABASE", "action": "fail", "message": "no dropping in the demo"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr syncWriter
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{
			"-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0", "-warehouse", t.TempDir(),
			"-users", "demo:demo", "-faults", faults, "-log-level", "warn", "-max-statement-bytes", "4096",
		}, outW, &stderr)
		outW.Close()
	}()

	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the listening line: %v (stderr: %s)", err, stderr.String())
	}
	go io.Copy(io.Discard, outR)
	m := regexp.MustCompile(`binary=(\S+) http=(\S+) admin=(\S+)`).FindStringSubmatch(line)
	if m == nil || !strings.Contains(line, "not a Hive") {
		t.Fatalf("listening line = %q", line)
	}
	binary, admin := m[1], m[3]

	t.Run("SASL PLAIN with -users", func(t *testing.T) {
		host, port, _ := net.SplitHostPort(binary)
		p, _ := strconv.Atoi(port)
		cfg := gohive.NewConnectConfiguration()
		cfg.Username, cfg.Password = "demo", "demo"
		cfg.PollIntervalInMillis = 5
		cfg.SocketTimeout = 30 * time.Second
		conn, err := gohive.Connect(host, p, "NONE", cfg)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer conn.Close()
		cur := conn.Cursor()
		defer cur.Close()
		cur.Exec(ctx, "CREATE DATABASE keep")
		if cur.Err != nil {
			t.Fatal(cur.Err)
		}
		cur.Exec(ctx, "DROP DATABASE keep")
		if cur.Err == nil || !strings.Contains(hiveMessage(cur.Err), "no dropping in the demo") {
			t.Errorf("DROP DATABASE error = %v, want the fault from -faults", cur.Err)
		}
		cur.Exec(ctx, "SELECT '"+strings.Repeat("x", 5000)+"'")
		if cur.Err == nil || !strings.Contains(hiveMessage(cur.Err), "its limit is 4096 bytes") {
			t.Errorf("a 5,000-byte statement gave %v, want the -max-statement-bytes refusal", cur.Err)
		}
	})

	t.Run("admin lists the faults", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+admin+"/sandbox/faults", nil)
		req.SetBasicAuth("demo", "demo")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got []struct {
			ID    int `json:"id"`
			Used  int `json:"used"`
			Fault struct {
				Action string `json:"action"`
			} `json:"fault"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Fault.Action != "fail" || got[0].Used != 1 {
			t.Errorf("faults = %+v, want the one fail fault, used once", got)
		}
	})

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run returned %v after cancel, want nil", err)
	}
}

// startRun runs the command in the background and returns the binary address from its
// listening line, its standard output up to that line, its log and a function that stops it
// and returns run's error.
func startRun(t *testing.T, args ...string) (addr, stdout string, log *syncWriter, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	log = &syncWriter{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, outW, log)
		outW.Close()
	}()
	// The generator's summary, when it ran, comes before the listening line.
	out := &strings.Builder{}
	r := bufio.NewReader(outR)
	var m []string
	for m == nil {
		line, err := r.ReadString('\n')
		if err != nil {
			cancel()
			t.Fatalf("no listening line: %v; run: %v; stdout: %s; log: %s", err, <-done, out, log.String())
		}
		out.WriteString(line)
		m = regexp.MustCompile(`listening: binary=(\S+)`).FindStringSubmatch(line)
	}
	go io.Copy(io.Discard, outR)
	return m[1], out.String(), log, func() error {
		cancel()
		return <-done
	}
}

func TestRunGenerate(t *testing.T) {
	warehouse := t.TempDir()
	args := []string{"-addr", "127.0.0.1:0", "-warehouse", warehouse, "-generate", "-seed", "7", "-databases", "sales", "-scale", "1"}

	addr, stdout, _, stop := startRun(t, args...)
	// The summary names what matters to a newcomer, and is kept beside the catalog.
	for _, want := range []string{"seed 7, scale 1%", "4 tables", "partitions", "files", "worst partition: sales.order_items dt=2024-01-01/hr=0 (25 files)", "delimited text"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	marker, err := os.ReadFile(filepath.Join(warehouse, "generated.txt"))
	if err != nil || !strings.Contains(stdout, string(marker)) {
		t.Errorf("marker %q (%v), want the summary", marker, err)
	}
	if _, err := os.Stat(filepath.Join(warehouse, "warehouse", "sales.db", "orders")); err != nil {
		t.Errorf("the layout is not <warehouse>/warehouse/sales.db: %v", err)
	}
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	cfg := gohive.NewConnectConfiguration()
	cfg.PollIntervalInMillis = 5
	cfg.SocketTimeout = 30 * time.Second
	conn, err := gohive.Connect(host, p, "NOSASL", cfg)
	if err != nil {
		t.Fatal(err)
	}
	cur := conn.Cursor()
	cur.Exec(context.Background(), "SHOW TABLES IN sales")
	var tables []string
	for cur.Err == nil && cur.HasMore(context.Background()) {
		var name string
		cur.FetchOne(context.Background(), &name)
		if cur.Err == nil {
			tables = append(tables, name)
		}
	}
	if cur.Err != nil {
		t.Fatal(cur.Err)
	}
	cur.Close()
	conn.Close()
	if len(tables) != 4 {
		t.Errorf("generated tables = %q, want 4", tables)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// A generated warehouse is served as it is, even when its tables are gone.
	if err := os.Remove(filepath.Join(warehouse, "metastore.json")); err != nil {
		t.Fatal(err)
	}
	_, stdout, log, stop := startRun(t, args...)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "already generated") || strings.Contains(stdout, "generated in") {
		t.Errorf("second run did not keep the warehouse:\n%s\n%s", stdout, log.String())
	}

	// Without the marker, a warehouse with tables (a user's) is left alone too.
	other := t.TempDir()
	addr, _, _, stop = startRun(t, "-addr", "127.0.0.1:0", "-warehouse", other)
	execHive(t, addr, "CREATE TABLE mine (x int)")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	_, _, log, stop = startRun(t, "-addr", "127.0.0.1:0", "-warehouse", other, "-generate")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "already has tables") {
		t.Errorf("a user's warehouse was not left alone:\n%s", log.String())
	}
}

// execHive runs one statement on the sandbox at addr.
func execHive(t *testing.T, addr, stmt string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	cfg := gohive.NewConnectConfiguration()
	cfg.SocketTimeout = 30 * time.Second
	conn, err := gohive.Connect(host, p, "NOSASL", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cur := conn.Cursor()
	defer cur.Close()
	cur.Exec(context.Background(), stmt)
	if cur.Err != nil {
		t.Fatalf("%s: %v", stmt, cur.Err)
	}
}

func TestRunFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no warehouse", args: nil, want: "-warehouse is required"},
		{name: "bad users", args: []string{"-warehouse", "x", "-users", "nocolon"}, want: "not user:password"},
		{name: "cert without key", args: []string{"-warehouse", "x", "-tls-cert", "c.pem"}, want: "go together"},
		{name: "missing faults file", args: []string{"-warehouse", "x", "-faults", "/nonexistent/f.json"}, want: "-faults"},
		{name: "stray argument", args: []string{"-warehouse", "x", "extra"}, want: "unexpected arguments"},
		{name: "zero scale", args: []string{"-warehouse", "x", "-generate", "-scale", "0"}, want: "-scale must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

// hiveMessage is the Hive error text of a gohive error: a gohive.HiveError's Error() shows
// only the TStatus pointers, its Message has the text.
func hiveMessage(err error) string {
	var he gohive.HiveError
	if errors.As(err, &he) {
		return he.Message
	}
	return err.Error()
}

// syncWriter lets the server's logger and the test share a buffer.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestDirList(t *testing.T) {
	tests := []struct {
		name string
		sets []string
		want []string
	}{
		{name: "one", sets: []string{"/a"}, want: []string{"/a"}},
		{name: "repeated", sets: []string{"/a", "/b"}, want: []string{"/a", "/b"}},
		{name: "comma-separated with blanks", sets: []string{"/a, /b,,", "/c"}, want: []string{"/a", "/b", "/c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d dirList
			for _, s := range tt.sets {
				if err := d.Set(s); err != nil {
					t.Fatal(err)
				}
			}
			if strings.Join(d, "|") != strings.Join(tt.want, "|") {
				t.Errorf("dirList = %q, want %q", d, tt.want)
			}
		})
	}
}
