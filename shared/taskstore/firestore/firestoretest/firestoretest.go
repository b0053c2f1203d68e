// Package firestoretest runs the Firestore emulator for the tests of one test binary.
//
// A package whose tests need Firestore calls Main from its TestMain and then, in each test,
// NewClient (or Emulator and Clear) with a project ID of its own, so that packages tested in
// parallel do not see each other's documents:
//
//	func TestMain(m *testing.M) { firestoretest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		client := firestoretest.NewClient(t, "hivemerge-test-api")
//		...
//	}
//
// When FIRESTORE_EMULATOR_HOST is set, that emulator is used. Otherwise the first test that
// asks for one starts `gcloud emulators firestore start` on a free local port, and Main stops
// it when the tests are done. Without gcloud the tests skip, unless CI=true, where they fail.
package firestoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
)

// EnvHost is the variable the Firestore client reads to talk to an emulator.
const EnvHost = "FIRESTORE_EMULATOR_HOST"

// StartTimeout bounds how long starting the emulator may take; the JVM is slow on small
// machines.
const StartTimeout = 90 * time.Second

var (
	mainCalled bool
	once       sync.Once
	host       string
	startErr   error
	proc       *exec.Cmd
	exited     chan struct{}
	output     syncBuffer
)

// Main runs the tests of m and stops the emulator if one of them started it. Call it from
// TestMain; it does not return.
func Main(m *testing.M) {
	mainCalled = true
	code := m.Run()
	if proc != nil {
		stop(host, proc)
	}
	os.Exit(code)
}

// Emulator returns the emulator's host:port, starting it on first use, and sets
// FIRESTORE_EMULATOR_HOST so that firestore.NewClient connects to it. Without gcloud the test
// is skipped, or fails when the environment variable CI is "true".
func Emulator(tb testing.TB) string {
	tb.Helper()
	once.Do(func() {
		if h := os.Getenv(EnvHost); h != "" {
			host = h
			return
		}
		if !mainCalled {
			startErr = errors.New("firestoretest.Main must run the tests (call it from TestMain) so that the emulator is stopped afterwards")
			return
		}
		host, proc, startErr = start()
		if startErr == nil {
			startErr = os.Setenv(EnvHost, host)
		}
	})
	switch {
	case startErr == nil:
		return host
	case errors.Is(startErr, exec.ErrNotFound) && os.Getenv("CI") != "true":
		tb.Skipf("Firestore emulator not available: %v", startErr)
	default:
		tb.Fatalf("Firestore emulator: %v", startErr)
	}
	return ""
}

// Clear deletes every document of projectID's default database on the emulator.
func Clear(tb testing.TB, projectID string) {
	tb.Helper()
	h := Emulator(tb)
	u := fmt.Sprintf("http://%s/emulator/v1/projects/%s/databases/(default)/documents", h, url.PathEscape(projectID))
	req, err := http.NewRequest(http.MethodDelete, u, nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("clear Firestore emulator project %s: %v", projectID, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("clear Firestore emulator project %s: %s", projectID, resp.Status)
	}
}

// NewClient clears projectID on the emulator and returns a client for it, closed when the
// test ends. projectID must be a valid GCP project ID, one per test package.
func NewClient(tb testing.TB, projectID string) *firestore.Client {
	tb.Helper()
	Clear(tb, projectID)
	c, err := firestore.NewClient(context.Background(), projectID)
	if err != nil {
		tb.Fatalf("firestore client: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func start() (string, *exec.Cmd, error) {
	gcloud, err := exec.LookPath("gcloud")
	if err != nil {
		return "", nil, err
	}
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	h := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := command(gcloud, "--quiet", "emulators", "firestore", "start", "--host-port="+h)
	cmd.Env = append(cmd.Env, "CLOUDSDK_CORE_DISABLE_PROMPTS=1")
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start gcloud: %w", err)
	}
	exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	deadline := time.Now().Add(StartTimeout)
	client := &http.Client{Timeout: time.Second}
	for {
		if resp, err := client.Get("http://" + h + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return h, cmd, nil
			}
		}
		select {
		case <-exited:
			return "", nil, fmt.Errorf("the emulator exited before answering on %s:\n%s", h, output.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			killGroup(cmd, exited)
			return "", nil, fmt.Errorf("the emulator did not answer on %s within %s:\n%s", h, StartTimeout, output.String())
		}
	}
}

// stop asks the emulator to shut down and kills its process group if it does not.
func stop(h string, cmd *exec.Cmd) {
	client := &http.Client{Timeout: 5 * time.Second}
	if resp, err := client.Post("http://"+h+"/shutdown", "text/plain", nil); err == nil {
		resp.Body.Close()
	}
	// gcloud exits once the JVM has; bound the wait, then kill whatever is left.
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		killGroup(cmd, exited)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects the emulator's output for error messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
