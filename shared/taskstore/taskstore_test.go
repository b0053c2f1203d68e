package taskstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKind(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    string
		wantErr bool
	}{
		{name: "default_is_bolt", env: nil, want: "bolt"},
		{name: "project_means_firestore", env: map[string]string{"GOOGLE_CLOUD_PROJECT": "p"}, want: "firestore"},
		{name: "emulator_means_firestore", env: map[string]string{"FIRESTORE_EMULATOR_HOST": "127.0.0.1:8081"}, want: "firestore"},
		{name: "explicit_bolt_wins", env: map[string]string{"HIVEMERGE_STORE": "bolt", "GOOGLE_CLOUD_PROJECT": "p"}, want: "bolt"},
		{name: "unknown", env: map[string]string{"HIVEMERGE_STORE": "mysql"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Kind(func(k string) string { return tc.env[k] })
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("Kind() = %q, %v; want %q (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestOpenBolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "hivemerge.db")
	env := map[string]string{"HIVEMERGE_STORE": "bolt", "HIVEMERGE_BOLT_PATH": path}
	st, err := Open(t.Context(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("bolt file not created: %v", err)
	}
	// The embedded store admits one process: a second open must fail clearly, not hang.
	if _, err := Open(t.Context(), func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open = %v, want an error saying the file is in use", err)
	}
}
