package functions

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/functions/console"
)

// TestConsoleBesideAPI: the API function serves the web console, so the deployed console
// calls an API on its own origin (no CORS, connect-src 'self'), under whatever prefix the
// platform puts before the function.
func TestConsoleBesideAPI(t *testing.T) {
	e := newEnv(t, openBolt(t), testAuth(t))
	api := e.srv.Handler()
	prefixed := http.NewServeMux()
	prefixed.Handle("/API/", http.StripPrefix("/API", api))
	for _, c := range []struct {
		name, method, path string
		h                  http.Handler
		status             int
		location, csp      string
		contains           string
	}{
		{"the console", "GET", "/console/", api, 200, "", console.CSP, "hivemerge"},
		{"a page of the console", "GET", "/console/index.html", api, 200, "", console.CSP, "hivemerge"},
		{"the console's directory without its slash", "GET", "/console", api, 302, "console/", "", ""},
		{"the root leads to the console", "GET", "/", api, 302, "console/", "", ""},
		{"below a prefix, relative to it", "GET", "/API/", prefixed, 302, "console/", "", ""},
		{"the console below a prefix", "GET", "/API/console/", prefixed, 200, "", console.CSP, "hivemerge"},
		{"the console takes no posts", "POST", "/console/", api, 405, "", console.CSP, "method not allowed"},
		{"the API is still there", "GET", "/api/v1/tasks/", api, 401, "", "", `"unauthenticated"`},
		{"beside it too", "GET", "/API/api/v1/tasks/", prefixed, 401, "", "", `"unauthenticated"`},
		{"only GET / is redirected", "POST", "/", api, 404, "", "", `"not_found"`},
		{"a path of neither", "GET", "/consoles", api, 404, "", "", `"not_found"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c.h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
			if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.contains) {
				t.Errorf("%s %s: %d %q, want %d containing %q", c.method, c.path, rec.Code, rec.Body.String(), c.status, c.contains)
			}
			if got := rec.Header().Get("Location"); got != c.location {
				t.Errorf("Location = %q, want %q", got, c.location)
			}
			if got := rec.Header().Get("Content-Security-Policy"); got != c.csp {
				t.Errorf("Content-Security-Policy = %q, want %q", got, c.csp)
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("Access-Control-Allow-Origin = %q: the console is same-origin, no other origin is allowed", got)
			}
		})
	}
}
