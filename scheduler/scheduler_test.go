package scheduler

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/cloudlog"
	"github.com/hivemerge/hivemerge/shared/merge"
)

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		wantErr    bool
	}{
		{"five_fields", "*/5 * * * *", false},
		{"descriptor", "@daily", false},
		{"every", "@every 90s", false},
		{"time_zone_prefix", "CRON_TZ=Europe/Berlin 0 2 * * *", false},
		{"bare_time_zone", "CRON_TZ=UTC", true},
		{"unknown_zone", "CRON_TZ=Mars/Base 0 2 * * *", true},
		{"empty", "  ", true},
		{"six_fields", "0 */5 * * * *", true},
		{"out_of_range", "61 * * * *", true},
		{"garbage", "every minute", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSpec(tc.spec)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseSpec(%q) error = %v, want error %v", tc.spec, err, tc.wantErr)
			}
		})
	}
}

func TestSlotOf(t *testing.T) {
	for _, tc := range []struct {
		name, spec, now, want string
	}{
		{"calendar_on_time", "*/5 * * * *", "2026-03-01T10:05:00.003Z", "2026-03-01T10:05:00Z"},
		{"calendar_late_start", "*/5 * * * *", "2026-03-01T10:07:59Z", "2026-03-01T10:05:00Z"},
		{"daily_in_zone", "CRON_TZ=Europe/Paris 0 3 * * *", "2026-07-01T01:00:02Z", "2026-07-01T01:00:00Z"},
		{"every_truncates", "@every 1m", "2026-03-01T10:05:41Z", "2026-03-01T10:05:00Z"},
		{"every_second", "@every 1s", "2026-03-01T10:05:41.9Z", "2026-03-01T10:05:41Z"},
		{"calendar_far_behind_falls_back", "@daily", "2026-03-01T10:05:41.9Z", "2026-03-01T10:05:41Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sched, err := ParseSpec(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := slotOf(sched, utc(t, tc.now)); !got.Equal(utc(t, tc.want)) {
				t.Errorf("slotOf(%s, %s) = %s, want %s", tc.spec, tc.now, got.UTC(), tc.want)
			}
		})
	}
}

func TestAddRejects(t *testing.T) {
	s := New(NewService(nil, openBolt(t), nil, ServiceConfig{}), slog.New(slog.DiscardHandler), time.UTC)
	if err := s.Add(JobCheckPending, "CRON_TZ=UTC"); err == nil {
		t.Error("Add accepted a spec that makes robfig/cron panic")
	}
	if err := s.Add("scan", "@daily"); err == nil {
		t.Error("Add accepted a job that is not registered")
	}
}

func TestRunUnknownJob(t *testing.T) {
	svc := NewService(nil, openBolt(t), nil, ServiceConfig{})
	_, err := svc.Run(t.Context(), "scan", time.Now(), "")
	if !errors.Is(err, merge.ErrNotFound) || !strings.Contains(err.Error(), "check-pending, retention") {
		t.Fatalf("Run(scan) = %v, want ErrNotFound listing check-pending, retention", err)
	}
}

// TestRunOutcomes checks what the run record says for a job that fails, outlives its timeout,
// or starts while another run of it is going in the same process.
func TestRunOutcomes(t *testing.T) {
	st := openBolt(t)
	svc := NewService(nil, st, nil, ServiceConfig{})
	svc.Register("fails", time.Minute, func(context.Context) (Outcome, error) {
		return Outcome{Counts: map[string]int64{"seen": 3}}, errors.New("store unavailable")
	})
	svc.Register("slow", time.Millisecond, func(ctx context.Context) (Outcome, error) {
		<-ctx.Done()
		return Outcome{}, ctx.Err()
	})
	entered, release := make(chan struct{}), make(chan struct{})
	svc.Register("busy", time.Minute, func(context.Context) (Outcome, error) {
		close(entered)
		<-release
		return Outcome{}, nil
	})
	ctx := t.Context()
	slot := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

	r, err := svc.Run(ctx, "fails", slot, "")
	if err != nil || r.Status != merge.RunFailed || r.Counts["seen"] != 3 || len(r.Errors) != 1 || r.Errors[0] != "store unavailable" {
		t.Errorf("failing job: %+v, %v", r, err)
	}
	r, err = svc.Run(ctx, "slow", slot, "")
	if err != nil || r.Status != merge.RunFailed || len(r.Errors) != 1 || !strings.Contains(r.Errors[0], "deadline exceeded") {
		t.Errorf("job past its timeout: %+v, %v", r, err)
	}

	done := make(chan *merge.Run)
	go func() {
		r, _ := svc.Run(ctx, "busy", slot, "")
		done <- r
	}()
	<-entered
	r, err = svc.Run(ctx, "busy", slot.Add(time.Minute), "api:otto")
	if err != nil || r.Status != merge.RunSkipped || r.Owner != "api:otto" || !strings.Contains(r.Summary, "still in progress") {
		t.Errorf("overlapping run: %+v, %v; want skipped", r, err)
	}
	close(release)
	if r := <-done; r.Status != merge.RunSucceeded {
		t.Errorf("first busy run: %+v", r)
	}
	stored, err := st.GetRun(ctx, merge.RunID("busy", slot.Add(time.Minute)))
	if err != nil || stored.Status != merge.RunSkipped {
		t.Errorf("stored skipped run: %+v, %v", stored, err)
	}
}

// waitFor polls cond until it holds or 30 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func listRuns(t *testing.T, st merge.RunStore, job string) []*merge.Run {
	t.Helper()
	page, err := st.ListRuns(context.Background(), merge.RunFilter{Job: job, Limit: merge.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	return page.Runs
}

// syncBuffer is a log written by jobs while the test reads it.
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

// A job that panics is logged, its run recorded as failed, and its schedule goes on: with
// the chain in the wrong order the panic would leave it marked running and every later run
// would be skipped.
func TestPanickingJobKeepsItsSchedule(t *testing.T) {
	st := openBolt(t)
	logs := &syncBuffer{}
	log := cloudlog.New(logs, slog.LevelInfo)
	svc := NewService(nil, st, log, ServiceConfig{})
	var calls atomic.Int32
	svc.Register("flaky", time.Minute, func(context.Context) (Outcome, error) {
		if calls.Add(1) == 1 {
			panic("first run fails")
		}
		return Outcome{}, nil
	})
	s := New(svc, log, time.UTC)
	if err := s.Add("flaky", "@every 1s"); err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { _ = s.Stop(context.Background()) })

	waitFor(t, "a run after the panicking one", func() bool {
		runs := listRuns(t, st, "flaky")
		return len(runs) >= 2 && runs[0].Status == merge.RunSucceeded
	})
	runs := listRuns(t, st, "flaky")
	first := runs[len(runs)-1]
	if first.Status != merge.RunFailed || len(first.Errors) != 1 || first.Errors[0] != "panic: first run fails" {
		t.Errorf("first run: %+v, want failed with the panic", first)
	}
	if !strings.Contains(logs.String(), `"message":"job panicked"`) || !strings.Contains(logs.String(), "first run fails") {
		t.Errorf("the panic was not logged:\n%s", logs)
	}
}

// A run longer than its interval is not stacked: while it blocks, cron skips the activations
// that come due, no second run starts and no record appears; once it is released, the next
// activation runs again.
func TestLongRunIsSkippedNotStacked(t *testing.T) {
	st := openBolt(t)
	logs := &syncBuffer{}
	log := cloudlog.New(logs, slog.LevelInfo)
	svc := NewService(nil, st, log, ServiceConfig{})
	release := make(chan struct{})
	var calls atomic.Int32
	svc.Register("long", time.Hour, func(ctx context.Context) (Outcome, error) {
		if calls.Add(1) == 1 {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return Outcome{}, nil
	})
	s := New(svc, log, time.UTC)
	if err := s.Add("long", "@every 1s"); err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { _ = s.Stop(context.Background()) })

	waitFor(t, "the first run to start", func() bool { return len(listRuns(t, st, "long")) == 1 })
	waitFor(t, "cron to skip two activations", func() bool {
		return strings.Count(logs.String(), "job run skipped: its previous run is still going") >= 2
	})
	runs := listRuns(t, st, "long")
	if len(runs) != 1 || runs[0].Status != merge.RunRunning || calls.Load() != 1 {
		t.Fatalf("while the first run blocks: %d records (%+v), %d calls; want 1 running record and 1 call", len(runs), runs, calls.Load())
	}
	close(release)
	waitFor(t, "a run after the long one", func() bool {
		runs := listRuns(t, st, "long")
		return len(runs) >= 2 && runs[len(runs)-1].Status == merge.RunSucceeded && runs[0].Status == merge.RunSucceeded
	})
}

// TestStopWaitsForRunningJobs stops a scheduler while a job runs: the job's context is
// cancelled, and Stop returns only after the run ended and its record says so.
func TestStopWaitsForRunningJobs(t *testing.T) {
	st := openBolt(t)
	svc := NewService(nil, st, nil, ServiceConfig{})
	svc.Register("waits", time.Hour, func(ctx context.Context) (Outcome, error) {
		<-ctx.Done()
		return Outcome{Summary: "stopped"}, ctx.Err()
	})
	s := New(svc, slog.New(slog.DiscardHandler), time.UTC)
	if err := s.Add("waits", "@every 1s"); err != nil {
		t.Fatal(err)
	}
	s.Start()
	waitFor(t, "the run to start", func() bool { return len(listRuns(t, st, "waits")) == 1 })
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	runs := listRuns(t, st, "waits")
	if len(runs) != 1 || runs[0].Status != merge.RunFailed || runs[0].Summary != "stopped" || !strings.Contains(runs[0].Errors[0], "context canceled") {
		t.Fatalf("after Stop: %+v, want one failed run ended by the cancelled context", runs)
	}
}
