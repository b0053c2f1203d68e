package functions

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// TestPolicies drives the policy CRUD over HTTP on a real store: roles, defaults, validation
// errors that name the field, conflicts, updates, the standalone functions and deletion.
func TestPolicies(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	nightly := map[string]any{
		"name": "nightly-web", "clusters": []string{"demo"}, "databases": []string{"Web"}, "exclude": []string{"web.tmp_*"},
		"min_small_files": 100, "min_small_file_ratio": 0.5,
		"windows": []map[string]any{{"start": "CRON_TZ=Europe/Paris 0 1 * * *", "duration_minutes": 240}},
	}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k, v := range nightly {
			m[k] = v
		}
		m[k] = v
		return m
	}

	created := e.do(t, http.MethodPost, "/api/v1/policies", operatorToken, nightly)
	if created.status != http.StatusCreated || created.header.Get("Location") != "/api/v1/policies/nightly-web" {
		t.Fatalf("create: %d %s %v", created.status, created.body, created.header)
	}
	var p merge.Policy
	created.json(t, &p)
	if !p.Enabled || p.MaxTasksPerRun != merge.DefaultMaxTasksPerRun || p.Strategy != merge.StrategyAuto ||
		p.Databases[0] != "web" || p.UpdatedBy != "otto" || p.CreatedAt.IsZero() {
		t.Errorf("created policy = %+v, want defaults filled, patterns folded, updated_by otto", p)
	}

	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		wantStatus                int
		wantMsg                   string
	}{
		{"viewer_cannot_create", http.MethodPost, "/api/v1/policies", viewerToken, with("name", "other"), http.StatusForbidden, "operator"},
		{"duplicate", http.MethodPost, "/api/v1/policies", operatorToken, nightly, http.StatusConflict, "already exists"},
		{"ratio", http.MethodPost, "/api/v1/policies", operatorToken, with("min_small_file_ratio", 1.5), http.StatusBadRequest,
			"min_small_file_ratio must be between 0 and 1"},
		{"window_spec", http.MethodPost, "/api/v1/policies", operatorToken,
			with("windows", []map[string]any{{"start": "CRON_TZ=UTC", "duration_minutes": 60}}), http.StatusBadRequest, "windows[0].start"},
		{"window_every", http.MethodPost, "/api/v1/policies", operatorToken,
			with("windows", []map[string]any{{"start": "@every 1h", "duration_minutes": 60}}), http.StatusBadRequest, "windows[0].start"},
		{"exclude_pattern", http.MethodPost, "/api/v1/policies", operatorToken, with("exclude", []string{"web'; drop"}), http.StatusBadRequest, "exclude[0]"},
		{"strategy", http.MethodPost, "/api/v1/policies", operatorToken, with("strategy", "fastest"), http.StatusBadRequest, "strategy"},
		{"unknown_field", http.MethodPost, "/api/v1/policies", operatorToken, with("max_tasks", 3), http.StatusBadRequest, "max_tasks"},
		{"bad_name", http.MethodPost, "/api/v1/policies", operatorToken, with("name", "Nightly Web"), http.StatusBadRequest, "name must be"},
		{"get_missing", http.MethodGet, "/api/v1/policies/weekly", viewerToken, nil, http.StatusNotFound, "weekly"},
		{"put_name_mismatch", http.MethodPut, "/api/v1/policies/nightly-web", operatorToken, with("name", "other"), http.StatusBadRequest, "differs"},
		{"put_missing", http.MethodPut, "/api/v1/policies/weekly", operatorToken, with("name", "weekly"), http.StatusNotFound, "weekly"},
		{"viewer_cannot_delete", http.MethodDelete, "/api/v1/policies/nightly-web", viewerToken, nil, http.StatusForbidden, "operator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, tc.method, tc.path, tc.token, tc.body)
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tc.wantStatus, r.body)
			}
			var eb errorBody
			r.json(t, &eb)
			if !strings.Contains(eb.Error.Message, tc.wantMsg) {
				t.Errorf("message %q does not mention %q", eb.Error.Message, tc.wantMsg)
			}
		})
	}

	// An update replaces every field: what it leaves out takes the defaults again.
	upd := e.do(t, http.MethodPut, "/api/v1/policies/nightly-web", adminToken, map[string]any{"databases": []string{"sales"}, "dry_run": true})
	if upd.status != http.StatusOK {
		t.Fatalf("update: %d %s", upd.status, upd.body)
	}
	var u merge.Policy
	upd.json(t, &u)
	if u.Name != "nightly-web" || !u.DryRun || len(u.Windows) != 0 || u.MinSmallFiles != 0 || !u.CreatedAt.Equal(p.CreatedAt) || u.UpdatedBy != "ada" {
		t.Errorf("updated policy = %+v", u)
	}
	// The standalone functions take the name as ?name=.
	if r := e.do(t, http.MethodGet, "/GetPolicy?name=nightly-web", viewerToken, nil); r.status != http.StatusOK {
		t.Errorf("GetPolicy?name=: %d %s", r.status, r.body)
	}
	if r := e.do(t, http.MethodPost, "/CreatePolicy", operatorToken, with("name", "second")); r.status != http.StatusCreated {
		t.Errorf("CreatePolicy: %d %s", r.status, r.body)
	}
	var list policiesBody
	e.do(t, http.MethodGet, "/api/v1/policies/", viewerToken, nil).json(t, &list)
	if len(list.Policies) != 2 || list.Policies[0].Name != "nightly-web" || list.Policies[1].Name != "second" {
		t.Errorf("list = %+v", list.Policies)
	}
	if r := e.do(t, http.MethodDelete, "/api/v1/policies/nightly-web", operatorToken, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := e.do(t, http.MethodGet, "/api/v1/policies/nightly-web", viewerToken, nil); r.status != http.StatusNotFound {
		t.Errorf("get after delete: %d", r.status)
	}
}
