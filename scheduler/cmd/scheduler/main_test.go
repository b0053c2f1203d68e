package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
	"github.com/hivemerge/hivemerge/shared/taskstore/firestore"
	"github.com/hivemerge/hivemerge/shared/taskstore/firestore/firestoretest"
)

func TestMain(m *testing.M) { firestoretest.Main(m) }

// TestRunRequeuesExpiredTask runs the daemon against the Firestore emulator with a job spec
// that fires every second. A task whose worker died (its lease expired an hour ago) must be
// put back to pending by the daemon's CheckPending job; then run must stop cleanly when its
// context ends.
func TestRunRequeuesExpiredTask(t *testing.T) {
	host := firestoretest.Emulator(t)
	project := projectID()
	st := firestore.New(firestoretest.NewClient(t, project))
	// The seeding service lives an hour in the past, so the lease it grants is long expired for
	// the daemon, which reads the real clock.
	svc := merge.NewService(st, st).WithClock(func() time.Time { return time.Now().Add(-time.Hour) })
	ctx := t.Context()
	if _, err := svc.CreateCluster(ctx, merge.Cluster{ID: "demo", Host: "127.0.0.1", Auth: merge.AuthNoSASL}); err != nil {
		t.Fatal(err)
	}
	task, err := svc.CreateTask(ctx, merge.CreateTaskRequest{ClusterID: "demo", Name: "t1", Database: "sales",
		Table: "orders", Strategy: merge.StrategySafeMerge})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Claim(ctx, task.ID, "dead-worker", time.Minute); err != nil {
		t.Fatal(err)
	}

	env := map[string]string{
		"HIVEMERGE_STORE":                  "firestore",
		"GOOGLE_CLOUD_PROJECT":             project,
		firestoretest.EnvHost:              host,
		"HIVEMERGE_SCHEDULE_CHECK_PENDING": "@every 1s",
	}
	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	out := &syncBuffer{}
	done, exited := make(chan error, 1), make(chan struct{})
	go func() {
		done <- run(runCtx, func(k string) string { return env[k] }, out)
		close(exited)
	}()
	// A failed test still stops the daemon before its store goes away.
	t.Cleanup(func() {
		stop()
		select {
		case <-exited:
		case <-time.After(stopTimeout + 10*time.Second):
		}
	})

	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := st.GetTask(ctx, task.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The job is done once it has logged: stopping earlier would cancel its last call.
		if got.Status == merge.StatusPending && strings.Contains(out.String(), `"requeued":1`) {
			if got.LeaseOwner != "" {
				t.Errorf("requeued task still leased to %q", got.LeaseOwner)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s after 30s, and no run logged its requeue: the daemon's job never requeued it\n%s", got.Status, out)
		}
		select {
		case err := <-done:
			t.Fatalf("run returned before requeueing the task: %v\n%s", err, out)
		case <-time.After(100 * time.Millisecond):
		}
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run() = %v after its context ended, want nil\n%s", err, out)
		}
	case <-time.After(stopTimeout + 10*time.Second):
		t.Fatalf("run did not return after its context ended\n%s", out)
	}
	var requeued, stopping bool
	for _, l := range logLines(t, out.String()) {
		switch l["message"] {
		case "job finished":
			requeued = requeued || (l["job"] == "check-pending" && l["requeued"] == float64(1))
		case "scheduler stopping":
			stopping = true
		}
	}
	if !requeued || !stopping {
		t.Errorf("log lacks the job's requeue of 1 task (%v) or the stop (%v):\n%s", requeued, stopping, out)
	}
}

// TestRunStartsAndStops gives run a context that is already done: it must open the store,
// log its configuration, stop and return nil.
func TestRunStartsAndStops(t *testing.T) {
	for _, tc := range []struct {
		name         string
		env          map[string]string
		wantSpec     string
		wantTimeZone string
	}{
		{name: "defaults", env: map[string]string{}, wantSpec: "@every 1m", wantTimeZone: "UTC"},
		{name: "time_zone_and_spec", env: map[string]string{"HIVEMERGE_SCHEDULE_TZ": "Europe/Berlin", "HIVEMERGE_SCHEDULE_CHECK_PENDING": "*/2 * * * *"},
			wantSpec: "*/2 * * * *", wantTimeZone: "Europe/Berlin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "sub", "hivemerge.db")
			env := map[string]string{"HIVEMERGE_STORE": "bolt", "HIVEMERGE_BOLT_PATH": db}
			for k, v := range tc.env {
				env[k] = v
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var out bytes.Buffer
			if err := run(ctx, func(k string) string { return env[k] }, &out); err != nil {
				t.Fatal(err)
			}
			var started, stopping bool
			for _, l := range logLines(t, out.String()) {
				switch l["message"] {
				case "scheduler started":
					started = l["severity"] == "INFO" && l["check_pending"] == tc.wantSpec && l["time_zone"] == tc.wantTimeZone
				case "scheduler stopping":
					stopping = true
				}
			}
			if !started || !stopping {
				t.Errorf("log lacks an INFO start with check_pending %q and time_zone %q (%v), or the stop (%v):\n%s",
					tc.wantSpec, tc.wantTimeZone, started, stopping, out.String())
			}
			if _, err := os.Stat(db); err != nil {
				t.Errorf("store not opened: %v", err)
			}
		})
	}
}

// TestRunStoresPolicyFile starts the daemon with a policies file: its policies are in the
// store afterwards, with the file's values and the defaults of what it leaves out.
func TestRunStoresPolicyFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hivemerge.db")
	env := map[string]string{"HIVEMERGE_STORE": "bolt", "HIVEMERGE_BOLT_PATH": db, "HIVEMERGE_POLICIES_FILE": "testdata/policies.yaml"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, out) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), `"message":"scheduler started"`) {
		select {
		case err := <-done:
			t.Fatalf("run returned before starting: %v\n%s", err, out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon never started\n%s", out)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), `"message":"policies stored"`) {
		t.Errorf("the daemon did not log the policies it stored:\n%s", out)
	}
	st, err := bolt.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ps, err := st.ListPolicies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Name != "nightly-web" || ps[1].Name != "weekly-sales" {
		t.Fatalf("stored policies: %+v", ps)
	}
	web := ps[0]
	if web.MinSmallFiles != 100 || web.Windows[0].Start != "CRON_TZ=Europe/Paris 0 1 * * *" || web.Windows[0].DurationMinutes != 240 ||
		!web.Enabled || web.MaxTasksPerRun != merge.DefaultMaxTasksPerRun || web.UpdatedBy != "file:testdata/policies.yaml" {
		t.Errorf("nightly-web = %+v", web)
	}
	if !ps[1].DryRun || ps[1].Enabled {
		t.Errorf("weekly-sales = %+v, want a disabled dry run", ps[1])
	}
}

// TestRunRejectsBadConfig checks that run refuses a bad environment with an error naming the
// variable at fault.
func TestRunRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{name: "bad_spec", env: map[string]string{"HIVEMERGE_SCHEDULE_CHECK_PENDING": "CRON_TZ=UTC"}, wantErr: "HIVEMERGE_SCHEDULE_CHECK_PENDING"},
		{name: "bad_zone", env: map[string]string{"HIVEMERGE_SCHEDULE_TZ": "Mars/Base"}, wantErr: "HIVEMERGE_SCHEDULE_TZ"},
		{name: "bad_store", env: map[string]string{"HIVEMERGE_STORE": "mysql"}, wantErr: "HIVEMERGE_STORE"},
		{name: "bad_log_level", env: map[string]string{"HIVEMERGE_LOG_LEVEL": "loud"}, wantErr: "HIVEMERGE_LOG_LEVEL"},
		{name: "bad_retention_spec", env: map[string]string{"HIVEMERGE_SCHEDULE_RETENTION": "@every"}, wantErr: "HIVEMERGE_SCHEDULE_RETENTION"},
		{name: "bad_run_retention", env: map[string]string{"HIVEMERGE_RUN_RETENTION": "-3d"}, wantErr: "HIVEMERGE_RUN_RETENTION"},
		{name: "missing_policies_file", env: map[string]string{"HIVEMERGE_POLICIES_FILE": "/nonexistent/policies.yaml"}, wantErr: "HIVEMERGE_POLICIES_FILE"},
		{name: "invalid_policy", env: map[string]string{"HIVEMERGE_POLICIES_FILE": "testdata/bad-ratio.yaml"},
			wantErr: "policies[1]: min_small_file_ratio must be between 0 and 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"HIVEMERGE_STORE": "bolt", "HIVEMERGE_BOLT_PATH": filepath.Join(t.TempDir(), "hivemerge.db")}
			for k, v := range tc.env {
				env[k] = v
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			err := run(ctx, func(k string) string { return env[k] }, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("run() = %v, want an error mentioning %s", err, tc.wantErr)
			}
		})
	}
}

// projectID returns a Firestore project ID of the test's own on the shared emulator.
func projectID() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "hm-scheduler-" + hex.EncodeToString(b[:])
}

func logLines(tb testing.TB, out string) []map[string]any {
	tb.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
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

// syncBuffer is the daemon's stdout, written by its jobs while the test runs.
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
