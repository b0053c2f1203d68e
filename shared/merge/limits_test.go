package merge

import (
	"errors"
	"testing"
	"time"
)

func TestParseTaskTimeout(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     time.Duration
		wantErr  bool
	}{
		{"empty is the default", "", DefaultTaskTimeout, false},
		{"minutes", "90m", 90 * time.Minute, false},
		{"lowest", "1m", time.Minute, false},
		{"highest", "720h", 30 * 24 * time.Hour, false},
		{"too short", "30s", 0, true},
		{"too long", "721h", 0, true},
		{"negative", "-1h", 0, true},
		{"not a duration", "6 hours", 0, true},
		{"bare number", "3600", 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseTaskTimeout(c.in)
			if c.wantErr {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("ParseTaskTimeout(%q) = %v, %v; want ErrInvalid", c.in, got, err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Errorf("ParseTaskTimeout(%q) = %v, %v; want %v", c.in, got, err, c.want)
			}
		})
	}
}

func TestDeadline(t *testing.T) {
	start := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		task    Task
		timeout time.Duration
		want    time.Time
	}{
		{"never started", Task{}, time.Hour, time.Time{}},
		{"configured", Task{StartedAt: start}, 90 * time.Minute, start.Add(90 * time.Minute)},
		{"zero is the default", Task{StartedAt: start}, 0, start.Add(DefaultTaskTimeout)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.task.Deadline(c.timeout); !got.Equal(c.want) {
				t.Errorf("Deadline(%v) = %v, want %v", c.timeout, got, c.want)
			}
		})
	}
}
