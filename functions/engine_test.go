package functions

import (
	"net/http"
	"testing"
)

// TestMergeOperationsWithoutEngine: a server that runs no merges says so, after the role
// check, and a viewer may preview but not execute or roll back.
func TestMergeOperationsWithoutEngine(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	for _, c := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/api/v1/tasks/0123456789abcdef0123456789abcdef/preview", viewerToken, http.StatusServiceUnavailable},
		{"POST", "/api/v1/tables/demo/m/t/merge-preview", viewerToken, http.StatusServiceUnavailable},
		{"POST", "/api/v1/tasks/0123456789abcdef0123456789abcdef/execute", viewerToken, http.StatusForbidden},
		{"POST", "/api/v1/tasks/0123456789abcdef0123456789abcdef/rollback", viewerToken, http.StatusForbidden},
		{"POST", "/api/v1/tasks/0123456789abcdef0123456789abcdef/execute", operatorToken, http.StatusServiceUnavailable},
		{"POST", "/api/v1/tasks/0123456789abcdef0123456789abcdef/execute", "", http.StatusUnauthorized},
		{"POST", "/ExecuteTask?id=0123456789abcdef0123456789abcdef", operatorToken, http.StatusServiceUnavailable},
	} {
		t.Run(c.method+" "+c.path+" "+c.token, func(t *testing.T) {
			if r := e.do(t, c.method, c.path, c.token, nil); r.status != c.want {
				t.Errorf("%d %s, want %d", r.status, r.body, c.want)
			}
		})
	}
}
