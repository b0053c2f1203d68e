package functions

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/hivemerge/hivemerge/shared/cloudlog"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// TestRoutesMatchOpenAPI keeps the document honest: every routed operation is documented
// with its function name and role, and every documented one is routed.
func TestRoutesMatchOpenAPI(t *testing.T) {
	sp, err := parseSpec(openAPI)
	if err != nil {
		t.Fatal(err)
	}
	var routed []string
	for _, o := range operations() {
		routed = append(routed, o.method+" "+o.path)
		so, ok := sp.Paths[o.path][strings.ToLower(o.method)]
		if !ok {
			t.Errorf("%s is routed but not in openapi.json", o)
			continue
		}
		if o.fn != "" && so.OperationID != o.fn {
			t.Errorf("%s: operationId %q, but the function is %q", o, so.OperationID, o.fn)
		}
		if so.Role != o.role.String() {
			t.Errorf("%s: x-hivemerge-role %q, but the route needs %q", o, so.Role, o.role)
		}
		for _, name := range pathParams(o.path) {
			if !hasParam(sp, so, name, "path") {
				t.Errorf("%s: path parameter %s is not documented", o, name)
			}
		}
	}
	sort.Strings(routed)
	documented := specRoutes(sp)
	if !slices.Equal(routed, documented) {
		t.Errorf("routes and openapi.json differ\nrouted:     %v\ndocumented: %v", routed, documented)
	}
	golden(t, "routes.golden", []byte(strings.Join(routed, "\n")+"\n"))

	// Every $ref resolves.
	for _, ref := range regexp.MustCompile(`"\$ref": "#/components/(\w+)/(\w+)"`).FindAllStringSubmatch(string(openAPI), -1) {
		var found bool
		switch ref[1] {
		case "schemas":
			_, found = sp.Components.Schemas[ref[2]]
		case "responses":
			_, found = sp.Components.Responses[ref[2]]
		case "parameters":
			_, found = sp.Components.Parameters[ref[2]]
		}
		if !found {
			t.Errorf("unresolved $ref %s", ref[0])
		}
	}
}

func pathParams(path string) []string {
	var names []string
	for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(path, -1) {
		names = append(names, m[1])
	}
	return names
}

func hasParam(sp *spec, o specOperation, name, in string) bool {
	for _, p := range o.Parameters {
		if p.Ref != "" {
			p = sp.Components.Parameters[refName(p.Ref)]
		}
		if p.Name == name && p.In == in {
			return true
		}
	}
	return false
}

// TestOpenAPIQueryParameters checks that the documented query parameters are exactly the ones
// the handlers accept: an undocumented one would be refused as unknown.
func TestOpenAPIQueryParameters(t *testing.T) {
	sp, err := parseSpec(openAPI)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, openBolt(t), nil)
	id := idOf(t, e.do(t, "POST", "/api/v1/tasks/", operatorToken, newcomerBody))
	for path, ops := range sp.Paths {
		so, ok := ops["get"]
		if !ok || !strings.HasPrefix(path, "/api/") {
			continue
		}
		concrete := strings.ReplaceAll(path, "{id}", id)
		if strings.HasPrefix(path, "/api/v1/clusters/{id}") {
			concrete = strings.ReplaceAll(path, "{id}", "demo")
		}
		for _, p := range so.Parameters {
			if p.Ref != "" || p.In != "query" {
				continue
			}
			r := e.do(t, "GET", concrete+"?"+p.Name+"=", viewerToken, nil)
			if strings.Contains(string(r.body), "unknown query parameter") {
				t.Errorf("GET %s: documented parameter %s is refused: %s", path, p.Name, r.body)
			}
		}
		if r := e.do(t, "GET", concrete+"?undocumented=1", viewerToken, nil); r.status != http.StatusBadRequest {
			t.Errorf("GET %s?undocumented=1: %d", path, r.status)
		}
	}
}

func TestDocs(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	for _, path := range []string{"/docs", "/docs/"} {
		r := e.do(t, "GET", path, "", nil)
		page := string(r.body)
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %s", path, r.status, r.header)
		}
		for _, route := range routesOf(t) {
			method, p, _ := strings.Cut(route, " ")
			if !strings.Contains(page, method+"</span> "+p) {
				t.Errorf("%s does not show %s", path, route)
			}
		}
		if strings.Contains(page, "<script") || regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(page) {
			t.Errorf("%s loads something from elsewhere", path)
		}
	}
	r := e.do(t, "GET", "/docs/openapi.json", "", nil)
	var doc map[string]any
	r.json(t, &doc)
	if doc["openapi"] != "3.0.3" {
		t.Errorf("openapi.json: %v", doc["openapi"])
	}
}

func routesOf(t *testing.T) []string {
	var routes []string
	for _, o := range operations() {
		routes = append(routes, o.String())
	}
	return routes
}

// TestRequestLog checks the boundary's one line per request: Cloud Logging keys, the request
// id (the caller's when well formed, echoed back), and what happened.
func TestRequestLog(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	for _, c := range []struct {
		name, sentID string
		keep         bool
		method, path string
		token        string
		wantStatus   int
		wantSeverity string
		wantFunction string
	}{
		{"caller's id", "req-1234.abc", true, "GET", "/api/v1/tasks/", viewerToken, 200, "INFO", "API"},
		{"generated id", "", false, "GET", "/health", "", 200, "INFO", "API"},
		{"malformed id replaced", "bad id\"}", false, "GET", "/api/v1/tasks/", viewerToken, 200, "INFO", "API"},
		{"client error", "req-404", true, "GET", "/api/v1/tasks/nope", viewerToken, 404, "WARNING", "API"},
		{"unauthenticated", "req-401", true, "GET", "/api/v1/tasks/", "wrong-token-value", 401, "WARNING", "API"},
		{"function", "req-fn", true, "GET", "/ListTasks", viewerToken, 200, "INFO", "ListTasks"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(e.logs.logLines(t))
			r := e.do(t, c.method, c.path, c.token, nil, "X-Request-Id", c.sentID)
			id := r.header.Get("X-Request-Id")
			if c.keep && id != c.sentID || !c.keep && (id == "" || id == c.sentID) {
				t.Errorf("X-Request-Id = %q (sent %q)", id, c.sentID)
			}
			lines := e.logs.logLines(t)[before:]
			if len(lines) != 1 {
				t.Fatalf("%d log lines for one request, want 1: %v", len(lines), lines)
			}
			l := lines[0]
			want := map[string]any{"severity": c.wantSeverity, "message": "request", "request_id": id, "method": c.method,
				"path": strings.Split(c.path, "?")[0], "status": float64(c.wantStatus), "function": c.wantFunction}
			for k, v := range want {
				if l[k] != v {
					t.Errorf("log %s = %v, want %v (line %v)", k, l[k], v, l)
				}
			}
			for _, k := range []string{"time", "duration_ms"} {
				if _, ok := l[k]; !ok {
					t.Errorf("log line lacks %s: %v", k, l)
				}
			}
			if _, ok := l["level"]; ok {
				t.Errorf("log line has slog's level key; Cloud Logging reads severity: %v", l)
			}
			if c.wantStatus >= 400 && l["error"] == nil {
				t.Errorf("log line of a failure has no error: %v", l)
			}
			if strings.Contains(fmt.Sprint(l), "wrong-token-value") {
				t.Errorf("the token is in the log: %v", l)
			}
		})
	}
}

// TestErrorTable pins the mapping from error kinds to HTTP, and that only messages meant for
// users reach them.
func TestErrorTable(t *testing.T) {
	for _, c := range []struct {
		name       string
		err        error
		wantStatus int
		wantBody   string
	}{
		{"invalid", merge.Errorf(merge.ErrInvalid, "table_name is required"), 400, `{"error":{"code":"invalid_argument","message":"table_name is required"}}`},
		{"unauthenticated", merge.Errorf(merge.ErrUnauthenticated, "missing bearer token"), 401, `{"error":{"code":"unauthenticated","message":"missing bearer token"}}`},
		{"forbidden", merge.Errorf(merge.ErrForbidden, "no"), 403, `{"error":{"code":"permission_denied","message":"no"}}`},
		{"not found, wrapped", fmt.Errorf("handler: %w", merge.Errorf(merge.ErrNotFound, "task x not found")), 404, `{"error":{"code":"not_found","message":"task x not found"}}`},
		{"method", merge.Errorf(errMethodNotAllowed, "use GET"), 405, `{"error":{"code":"method_not_allowed","message":"use GET"}}`},
		{"conflict", merge.Errorf(merge.ErrConflict, "busy"), 409, `{"error":{"code":"conflict","message":"busy"}}`},
		{"backend not found hides its text", fmt.Errorf("firestore: rpc NotFound projects/p/databases/d: %w", merge.ErrNotFound), 404, `{"error":{"code":"not_found","message":"not found"}}`},
		{"unavailable hides its text", fmt.Errorf("bolt: open /srv/secret/path: %w", merge.ErrUnavailable), 503, `{"error":{"code":"unavailable","message":"a backend is unavailable; retry later"}}`},
		{"refusal says why", fmt.Errorf("engine: %w", &merge.Refusal{Rule: "iceberg", Reason: "m.ice is an Iceberg table"}), 400, `{"error":{"code":"invalid_argument","message":"m.ice is an Iceberg table"}}`},
		{"anything else is internal", errors.New("dial tcp 10.0.0.7:10000: connection refused"), 500, `{"error":{"code":"internal","message":"internal error"}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := classify(c.err)
			b, _ := json.Marshal(body)
			if status != c.wantStatus || string(b) != c.wantBody {
				t.Errorf("classify = %d %s, want %d %s", status, b, c.wantStatus, c.wantBody)
			}
		})
	}
}

// TestStoreUnavailable closes the store under a running server: the caller gets a 503 with
// the generic message and nothing of the backend's error, and the request's one log line, at
// ERROR, carries the backend's error in full.
func TestStoreUnavailable(t *testing.T) {
	st := openBolt(t)
	e := newEnv(t, st, nil)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	before := len(e.logs.logLines(t))
	r := e.do(t, "GET", "/api/v1/tasks/", viewerToken, nil)

	const wantBody = `{"error":{"code":"unavailable","message":"a backend is unavailable; retry later"}}`
	if r.status != http.StatusServiceUnavailable || strings.TrimSpace(string(r.body)) != wantBody {
		t.Errorf("response = %d %s, want 503 %s", r.status, r.body, wantBody)
	}
	detail := bolterrors.ErrDatabaseNotOpen.Error()
	for _, internal := range []string{detail, "bolt"} {
		if strings.Contains(string(r.body), internal) {
			t.Errorf("response body leaks %q: %s", internal, r.body)
		}
	}

	lines := e.logs.logLines(t)[before:]
	if len(lines) != 1 {
		t.Fatalf("%d log lines for one request, want 1: %v", len(lines), lines)
	}
	l := lines[0]
	if l["severity"] != "ERROR" || l["status"] != float64(http.StatusServiceUnavailable) {
		t.Errorf("log line severity %v status %v, want ERROR 503: %v", l["severity"], l["status"], l)
	}
	if msg, _ := l["error"].(string); !strings.Contains(msg, detail) {
		t.Errorf("log line error = %q, want the backend's %q", msg, detail)
	}
	if n := strings.Count(e.logs.String(), detail); n != 1 {
		t.Errorf("the backend's error is logged %d times, want once:\n%s", n, e.logs.String())
	}
}

// TestBoundaryPanic checks that a handler's panic becomes a generic 500 and one ERROR line
// with the detail.
func TestBoundaryPanic(t *testing.T) {
	logs := &syncBuffer{}
	s := NewServer(nil, nil, cloudlog.New(logs, slog.LevelInfo))
	h := s.boundary("Boom", func(w http.ResponseWriter, r *http.Request) error { panic("boom at /srv/secret") })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("%d %s, want a generic 500", rec.Code, rec.Body)
	}
	lines := logs.logLines(t)
	if len(lines) != 1 || lines[0]["severity"] != "ERROR" || !strings.Contains(fmt.Sprint(lines[0]["error"]), "boom at /srv/secret") {
		t.Errorf("log = %v, want one ERROR line with the panic", lines)
	}
}
