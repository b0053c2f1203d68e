package cloudlog

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name         string
		level        slog.Level
		wantSeverity string
	}{
		{"debug", slog.LevelDebug, "DEBUG"},
		{"info", slog.LevelInfo, "INFO"},
		{"warn", slog.LevelWarn, "WARNING"},
		{"error", slog.LevelError, "ERROR"},
		{"above_error", slog.LevelError + 4, "ERROR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			New(&buf, slog.LevelDebug).Log(t.Context(), tc.level, "hello", "task_id", "t1")
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("not one JSON record: %q", buf.String())
			}
			if rec["severity"] != tc.wantSeverity || rec["message"] != "hello" || rec["task_id"] != "t1" {
				t.Fatalf("record = %v", rec)
			}
			if _, ok := rec["level"]; ok {
				t.Fatalf("record keeps slog's level key: %v", rec)
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{"", slog.LevelInfo, false},
		{"debug", slog.LevelDebug, false},
		{"WARN", slog.LevelWarn, false},
		{"error", slog.LevelError, false},
		{"loud", 0, true},
	} {
		t.Run("level_"+tc.in, func(t *testing.T) {
			got, err := ParseLevel(tc.in)
			if (err != nil) != tc.wantErr || (err == nil && got != tc.want) {
				t.Fatalf("ParseLevel(%q) = %v, %v", tc.in, got, err)
			}
		})
	}
}
