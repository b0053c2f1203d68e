// Package scripts_test runs the repository's scripts as a newcomer does, and checks what they
// say: `make demo` first of all.
package scripts_test

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// demo is one run of a script in its own process group, with its output collected.
type demo struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  strings.Builder
	more chan struct{} // closed and replaced at every line
	done chan struct{} // closed when the script has exited
	err  error
}

// script starts bash scripts/<name> with the demo's variables set to env; every variable the
// demo reads is given, so the caller's environment cannot send it to fixed ports.
func script(t *testing.T, name string, env map[string]string) *demo {
	t.Helper()
	cmd := exec.Command("bash", name)
	// The caller's configuration of hivemerge must not leak in (a GOOGLE_CLOUD_PROJECT would
	// select Firestore, say).
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HIVEMERGE_") && !strings.HasPrefix(kv, "FIRESTORE_") && !strings.HasPrefix(kv, "GOOGLE_CLOUD_PROJECT=") && !strings.HasPrefix(kv, "FUNCTION_TARGET=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for _, k := range []string{"PORT", "HOST", "HIVEMERGE_SANDBOX_ADDR", "HIVEMERGE_DEMO_DIR", "HIVEMERGE_DEMO_SCALE", "HIVEMERGE_API_TOKEN", "HIVEMERGE_BOLT_PATH"} {
		if v, ok := env[k]; ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		} else {
			cmd.Env = append(cmd.Env, k+"=")
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	d := &demo{cmd: cmd, more: make(chan struct{}), done: make(chan struct{})}
	// Whatever the test does, nothing the script started outlives it.
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
	})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			d.mu.Lock()
			d.out.WriteString(sc.Text() + "\n")
			close(d.more)
			d.more = make(chan struct{})
			d.mu.Unlock()
		}
		d.err = cmd.Wait()
		close(d.done)
	}()
	return d
}

func (d *demo) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.String()
}

// waitFor blocks until the output contains want, and fails if the script exits first.
func (d *demo) waitFor(t *testing.T, want string) string {
	t.Helper()
	deadline := time.After(15 * time.Minute) // a cold build on a busy machine; not a timing check
	for {
		d.mu.Lock()
		out, more := d.out.String(), d.more
		d.mu.Unlock()
		if strings.Contains(out, want) {
			return out
		}
		select {
		case <-more:
		case <-d.done:
			if out := d.output(); !strings.Contains(out, want) {
				t.Fatalf("the script exited (%v) without saying %q:\n%s", d.err, want, out)
			}
		case <-deadline:
			t.Fatalf("no %q yet:\n%s", want, d.output())
		}
	}
}

// exit waits for the script to end and returns its output and exit code.
func (d *demo) exit(t *testing.T) (string, int) {
	t.Helper()
	<-d.done
	var ee *exec.ExitError
	if d.err != nil && !errors.As(d.err, &ee) {
		t.Fatal(d.err)
	}
	return d.output(), d.cmd.ProcessState.ExitCode()
}

// stop ends a running demo as Ctrl-C would, and checks that it took its processes along.
func (d *demo) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-d.done
	if err := syscall.Kill(-d.cmd.Process.Pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("processes of the demo outlived it (kill: %v)", err)
	}
}

// freeEnv is a demo on free ports in its own directory.
func freeEnv(t *testing.T) map[string]string {
	return map[string]string{
		"PORT": "0", "HOST": "127.0.0.1", "HIVEMERGE_SANDBOX_ADDR": "127.0.0.1:0",
		"HIVEMERGE_DEMO_DIR": filepath.Join(t.TempDir(), "demo"),
	}
}

func with(env map[string]string, kv ...string) map[string]string {
	c := map[string]string{}
	for k, v := range env {
		c[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i]] = kv[i+1]
	}
	return c
}

// TestDemo runs `make demo` at full scale as a newcomer would, a second demo beside it,
// demo-reset during and after it, and a restart that reuses the warehouse.
func TestDemo(t *testing.T) {
	env := freeEnv(t)
	dir := env["HIVEMERGE_DEMO_DIR"]
	first := script(t, "demo.sh", env)
	out := first.waitFor(t, "Ctrl-C stops the demo")
	for _, want := range []string{
		"demo: building the Hive sandbox and the local server (the first build compiles every dependency",
		"demo: generating the demo warehouse in " + dir + "/warehouse, once",
		"hivemerge demo is ready",
		"Admin token  : demo-admin-token",
		"a sandbox, not a Hive",
		"delimited text",
		"HIVEMERGE_DEMO_DIR=" + dir + " make demo-reset",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo did not say %q:\n%s", want, out)
		}
	}
	// The README's figures: tens of thousands of files, partitions of thousands.
	m := regexp.MustCompile(`(\d+) partitions, (\d+) files, .*worst partition: \S+ \S+ \((\d+) files\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no warehouse summary in:\n%s", out)
	}
	if files, _ := strconv.Atoi(m[2]); files < 20_000 || files > 50_000 {
		t.Errorf("the demo warehouse has %d files, want 20,000 to 50,000", files)
	}
	if worst, _ := strconv.Atoi(m[3]); worst < 2000 {
		t.Errorf("the worst partition has %d files, want 2,000 or more", worst)
	}
	if _, err := os.Stat(filepath.Join(dir, "warehouse", "sales.db", "orders")); err != nil {
		t.Errorf("the warehouse is not at <demo dir>/warehouse/sales.db: %v", err)
	}
	// The banner comes once the server answers: its URL works at once, / leads to the console.
	url := regexp.MustCompile(`API docs     : (http://\S+)/docs`).FindStringSubmatch(out)
	if url == nil {
		t.Fatalf("no docs URL in the banner:\n%s", out)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(url[1] + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The redirect is relative, so that a prefix in front of the server keeps working.
	if loc, err := resp.Location(); err != nil || resp.StatusCode != http.StatusFound || loc.Path != "/console/" {
		t.Errorf("GET / = %d to %q, want a redirect to /console/", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !strings.Contains(out, "Console      : "+url[1]+"/console/") {
		t.Errorf("the banner does not name the console at %s/console/:\n%s", url[1], out)
	}

	pid := strconv.Itoa(first.cmd.Process.Pid)
	t.Run("a second demo names the first", func(t *testing.T) {
		out, code := script(t, "demo.sh", env).exit(t)
		if code == 0 || !strings.Contains(out, "another demo is running on "+dir+" (PID "+pid+")") || !strings.Contains(out, "kill "+pid) {
			t.Errorf("second demo exited %d:\n%s", code, out)
		}
	})
	t.Run("demo-reset refuses while it runs", func(t *testing.T) {
		out, code := script(t, "demo-reset.sh", env).exit(t)
		if code == 0 || !strings.Contains(out, "a demo is running on "+dir+" (PID "+pid+")") {
			t.Errorf("demo-reset exited %d:\n%s", code, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "metastore.json")); err != nil {
			t.Errorf("demo-reset removed the running demo's state: %v", err)
		}
	})
	first.stop(t)

	t.Run("a second start reuses the warehouse", func(t *testing.T) {
		again := script(t, "demo.sh", env)
		out := again.waitFor(t, "Ctrl-C stops the demo")
		if strings.Contains(out, "generating") || !strings.Contains(out, m[0]) {
			t.Errorf("the second start did not reuse the warehouse:\n%s", out)
		}
		again.stop(t)
	})
	t.Run("demo-reset deletes the state", func(t *testing.T) {
		out, code := script(t, "demo-reset.sh", env).exit(t)
		if _, err := os.Stat(dir); code != 0 || !os.IsNotExist(err) || !strings.Contains(out, "deleted "+dir) {
			t.Errorf("demo-reset exited %d (%v):\n%s", code, err, out)
		}
	})
}

// TestDemoFailures checks that a demo that cannot start says why and what to change.
func TestDemoFailures(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, busyPort, _ := net.SplitHostPort(busy.Addr().String())
	// A port bound but not listening passes the script's check, so the server finds it taken
	// only when it starts: the script reads the cause from its log.
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	bound := strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
	env := freeEnv(t)
	for _, c := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"server port in use", with(env, "PORT", busyPort), []string{"port " + busyPort + " on 127.0.0.1 is in use", "set PORT to a free one"}},
		{"sandbox address in use", with(env, "HIVEMERGE_SANDBOX_ADDR", busy.Addr().String()), []string{busy.Addr().String() + " is in use", "set HIVEMERGE_SANDBOX_ADDR to a free one"}},
		{"server port taken once started", with(env, "PORT", bound, "HIVEMERGE_DEMO_SCALE", "1"), []string{"port " + bound + " on 127.0.0.1 is in use", "set PORT to a free one"}},
		{"sandbox exits", with(env, "HIVEMERGE_SANDBOX_ADDR", "127.0.0.1:99999", "HIVEMERGE_DEMO_SCALE", "1"), []string{"demo: the sandbox exited; the last lines of", "listen tcp: address 99999: invalid port"}},
		{"not the demo's directory", with(env, "HIVEMERGE_DEMO_DIR", t.TempDir()+"/.."), []string{"was not made by the demo"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, code := script(t, "demo.sh", c.env).exit(t)
			for _, w := range c.want {
				if code == 0 || !strings.Contains(out, w) {
					t.Errorf("exit %d, output lacks %q:\n%s", code, w, out)
				}
			}
			if strings.Contains(out, "is ready") {
				t.Errorf("the banner came although the demo failed:\n%s", out)
			}
		})
	}
}

// TestDemoResetRefusesOtherDirectories keeps demo-reset from deleting what the demo did not make.
func TestDemoResetRefusesOtherDirectories(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "keep")
	if err := os.WriteFile(keep, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := script(t, "demo-reset.sh", map[string]string{"HIVEMERGE_DEMO_DIR": dir}).exit(t)
	if _, err := os.Stat(keep); code == 0 || err != nil || !strings.Contains(out, "was not made by the demo; not deleting it") {
		t.Errorf("demo-reset exited %d (%v):\n%s", code, err, out)
	}
	out, code = script(t, "demo-reset.sh", map[string]string{"HIVEMERGE_DEMO_DIR": filepath.Join(dir, "none")}).exit(t)
	if code != 0 || !strings.Contains(out, "nothing to reset") {
		t.Errorf("demo-reset of a missing directory exited %d:\n%s", code, out)
	}
}
