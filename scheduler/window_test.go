package scheduler

import (
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

func utc(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func TestCheckWindowStart(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		wantErr    bool
	}{
		{"five_fields_utc", "0 1 * * *", false},
		{"zone_prefix", "CRON_TZ=Europe/Paris 0 1 * * 1-5", false},
		{"descriptor", "@daily", false},
		{"zone_and_descriptor", "CRON_TZ=America/New_York @weekly", false},
		{"every_refused", "@every 1h", true},
		{"bare_zone", "CRON_TZ=UTC", true},
		{"unknown_zone", "CRON_TZ=Mars/Base 0 1 * * *", true},
		{"garbage", "at night", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Windows{}.CheckWindowStart(tc.spec)
			if (err != nil) != tc.wantErr {
				t.Fatalf("CheckWindowStart(%q) = %v, want error %v", tc.spec, err, tc.wantErr)
			}
		})
	}
}

// TestInWindow covers windows in Europe/Paris across both daylight-saving changes of 2026
// (29 March 02:00 CET becomes 03:00 CEST; 25 October 03:00 CEST becomes 02:00 CET).
func TestInWindow(t *testing.T) {
	paris1am := []merge.Window{{Start: "CRON_TZ=Europe/Paris 0 1 * * *", DurationMinutes: 240}}
	paris230 := []merge.Window{{Start: "CRON_TZ=Europe/Paris 30 2 * * *", DurationMinutes: 30}}
	for _, tc := range []struct {
		name     string
		windows  []merge.Window
		now      string
		wantOpen bool
		wantNext string // empty: zero
	}{
		{"no_windows_always_open", nil, "2026-03-01T12:00:00Z", true, ""},
		{"winter_before_open", paris1am, "2026-03-01T23:59:59Z", false, "2026-03-02T00:00:00Z"},
		{"winter_at_open", paris1am, "2026-03-02T00:00:00Z", true, "2026-03-02T04:00:00Z"},
		{"winter_last_second", paris1am, "2026-03-02T03:59:59Z", true, "2026-03-02T04:00:00Z"},
		{"winter_at_close", paris1am, "2026-03-02T04:00:00Z", false, "2026-03-03T00:00:00Z"},
		// 01:00 CET on the spring-forward night is 00:00 UTC; 240 elapsed minutes end at
		// 04:00 UTC, which the wall clock shows as 06:00 CEST.
		{"spring_forward_open_late", paris1am, "2026-03-29T03:30:00Z", true, "2026-03-29T04:00:00Z"},
		{"spring_forward_closed", paris1am, "2026-03-29T04:00:00Z", false, "2026-03-29T23:00:00Z"},
		{"summer_opens_an_hour_earlier_in_utc", paris1am, "2026-03-29T23:00:00Z", true, "2026-03-30T03:00:00Z"},
		// 02:30 does not exist on 29 March in Paris: no window that night.
		{"skipped_wall_time_no_window", paris230, "2026-03-29T00:45:00Z", false, "2026-03-30T00:30:00Z"},
		{"skipped_wall_time_next_day", paris230, "2026-03-30T00:45:00Z", true, "2026-03-30T01:00:00Z"},
		// 02:30 happens twice on 25 October: at 00:30 UTC (CEST) and 01:30 UTC (CET).
		{"repeated_wall_time_first", paris230, "2026-10-25T00:40:00Z", true, "2026-10-25T01:00:00Z"},
		{"repeated_wall_time_between", paris230, "2026-10-25T01:10:00Z", false, "2026-10-25T01:30:00Z"},
		{"repeated_wall_time_second", paris230, "2026-10-25T01:40:00Z", true, "2026-10-25T02:00:00Z"},
		{"fall_back_long_window", paris1am, "2026-10-25T02:59:59Z", true, "2026-10-25T03:00:00Z"},
		{"two_windows_earliest_opening", []merge.Window{
			{Start: "0 22 * * *", DurationMinutes: 60}, {Start: "0 20 * * *", DurationMinutes: 60},
		}, "2026-05-01T12:00:00Z", false, "2026-05-01T20:00:00Z"},
		{"overlapping_windows_latest_close", []merge.Window{
			{Start: "0 20 * * *", DurationMinutes: 120}, {Start: "0 21 * * *", DurationMinutes: 120},
		}, "2026-05-01T21:30:00Z", true, "2026-05-01T23:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &merge.Policy{Windows: tc.windows}
			open, next := InWindow(p, utc(t, tc.now))
			var want time.Time
			if tc.wantNext != "" {
				want = utc(t, tc.wantNext)
			}
			if open != tc.wantOpen || !next.Equal(want) {
				t.Errorf("InWindow(%s) = %v, %v; want %v, %v", tc.now, open, next.UTC(), tc.wantOpen, want)
			}
		})
	}
}
