package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{name: "starts_and_stops", env: map[string]string{}},
		{name: "time_zone_and_spec", env: map[string]string{"HIVEMERGE_SCHEDULE_TZ": "Europe/Berlin", "HIVEMERGE_SCHEDULE_CHECK_PENDING": "*/2 * * * *"}},
		{name: "bad_spec", env: map[string]string{"HIVEMERGE_SCHEDULE_CHECK_PENDING": "CRON_TZ=UTC"}, wantErr: "HIVEMERGE_SCHEDULE_CHECK_PENDING"},
		{name: "bad_zone", env: map[string]string{"HIVEMERGE_SCHEDULE_TZ": "Mars/Base"}, wantErr: "HIVEMERGE_SCHEDULE_TZ"},
		{name: "bad_store", env: map[string]string{"HIVEMERGE_STORE": "mysql"}, wantErr: "HIVEMERGE_STORE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "sub", "hivemerge.db")
			env := map[string]string{"HIVEMERGE_STORE": "bolt", "HIVEMERGE_BOLT_PATH": db}
			for k, v := range tc.env {
				env[k] = v
			}
			// A context that is already done: run must start, stop at once and clean up.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var out bytes.Buffer
			err := run(ctx, func(k string) string { return env[k] }, &out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("run() = %v, want an error mentioning %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`"message":"scheduler started"`, `"message":"scheduler stopping"`, `"severity":"INFO"`} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("log lacks %s:\n%s", want, out.String())
				}
			}
			if _, err := os.Stat(db); err != nil {
				t.Errorf("store not opened: %v", err)
			}
		})
	}
}
