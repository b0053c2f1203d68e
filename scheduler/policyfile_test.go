package scheduler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadPolicyFile(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		wantNames  string
		wantErr    string
	}{
		{"yaml", "policies:\n  - name: a\n    databases: [web]\n  - name: b\n", "a,b", ""},
		{"json", `{"policies": [{"name": "a", "min_small_file_ratio": 0.3}]}`, "a", ""},
		{"empty", "", "", ""},
		{"unknown_policy_field", "policies:\n  - name: a\n    min_small_files_count: 3\n", "", `unknown field "min_small_files_count"`},
		{"unknown_top_level_key", "policy:\n  - name: a\n", "", "field policy not found"},
		{"wrong_type", "policies:\n  - name: a\n    min_small_files: lots\n", "", "policies[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "policies.yaml")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			ps, err := LoadPolicyFile(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadPolicyFile = %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range ps {
				names = append(names, p.Name)
				if !p.Enabled || p.MaxHealthScore != 100 {
					t.Errorf("policy %s did not take the defaults: %+v", p.Name, p)
				}
			}
			if got := strings.Join(names, ","); got != tc.wantNames {
				t.Errorf("names %q, want %q", got, tc.wantNames)
			}
		})
	}
}
