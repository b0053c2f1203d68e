package scheduler

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
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

// A job that panics once must keep its schedule: with the chain in the wrong order the panic
// would leave it marked running and every later run would be skipped.
func TestPanickingJobKeepsItsSchedule(t *testing.T) {
	s := New(slog.New(slog.NewTextHandler(io.Discard, nil)), time.UTC)
	ran := make(chan int, 10)
	runs := 0
	if err := s.Add("flaky", "@every 1s", func(context.Context) error {
		runs++
		ran <- runs
		if runs == 1 {
			panic("first run fails")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer s.Stop(context.Background())
	deadline := time.After(30 * time.Second)
	for want := 1; want <= 2; want++ {
		select {
		case got := <-ran:
			if got != want {
				t.Fatalf("run %d reported %d", want, got)
			}
		case <-deadline:
			t.Fatalf("run %d never happened: the job stopped after its panic", want)
		}
	}
}

func TestAddRejectsBadSpec(t *testing.T) {
	s := New(slog.New(slog.NewTextHandler(io.Discard, nil)), time.UTC)
	if err := s.Add("x", "CRON_TZ=UTC", func(context.Context) error { return nil }); err == nil {
		t.Fatal("Add accepted a spec that makes robfig/cron panic")
	}
}
