package gcf

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestBuildRefusesAnonymous(t *testing.T) {
	t.Setenv("HIVEMERGE_STORE", "bolt")
	t.Setenv("HIVEMERGE_BOLT_PATH", filepath.Join(t.TempDir(), "db"))
	t.Setenv("HIVEMERGE_ALLOW_ANONYMOUS", "admin")
	if _, err := build(); err == nil || !strings.Contains(err.Error(), "HIVEMERGE_ALLOW_ANONYMOUS") {
		t.Fatalf("build() error = %v, want a refusal of anonymous access", err)
	}
}
