package gcf

import (
	"net/http"
	"net/http/httptest"
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

// TestBuildRegistersDispatchWhenRemote: a function that hands tasks to ExecuteTask (the API
// and RunSchedulerJob, HIVEMERGE_EXECUTE_MODE=remote) runs the dispatch and resume-requeued
// jobs Cloud Scheduler calls; ExecuteTask itself (sync) has no such jobs.
func TestBuildRegistersDispatchWhenRemote(t *testing.T) {
	const token = "admin-token-0123456789"
	for _, c := range []struct {
		mode string
		want int
	}{
		{"remote", http.StatusOK},
		{"sync", http.StatusNotFound},
	} {
		t.Run(c.mode, func(t *testing.T) {
			t.Setenv("HIVEMERGE_STORE", "bolt")
			t.Setenv("HIVEMERGE_BOLT_PATH", filepath.Join(t.TempDir(), "db"))
			t.Setenv("HIVEMERGE_API_TOKEN", token)
			t.Setenv("HIVEMERGE_EXECUTE_MODE", c.mode)
			t.Setenv("HIVEMERGE_FUNCTION_URLS", `{"ExecuteTask":"https://europe-west1-p.cloudfunctions.net/hm-execute-task"}`)
			srv, err := build()
			if err != nil {
				t.Fatal(err)
			}
			var run http.Handler
			for _, f := range srv.Functions() {
				if f.Name == "RunSchedulerJob" {
					run = f.Handler
				}
			}
			for _, job := range []string{"dispatch", "resume-requeued"} {
				req := httptest.NewRequest(http.MethodPost, "/?name="+job, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				w := httptest.NewRecorder()
				run.ServeHTTP(w, req)
				if w.Code != c.want {
					t.Errorf("run %s: %d %s, want %d", job, w.Code, w.Body, c.want)
				}
			}
		})
	}
}
