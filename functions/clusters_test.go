package functions

import (
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/sandboxtest"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// clusterKeys are the only fields a cluster response may carry. None is a secret.
var clusterKeys = []string{"auth", "created_at", "fs_default", "host", "id", "max_running_tasks", "name", "password_ref", "port", "tls", "transport", "updated_at", "username"}

func TestClusters(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b.open(t), nil)
			ldap := `{"id":"prod","name":"Production","host":"hive.example.internal","port":10001,"auth":"LDAP","username":"hivemerge","password_ref":"env:HIVE_PASSWORD","fs_default":"hdfs://nn:8020"}`

			r := e.do(t, "POST", "/api/v1/clusters", adminToken, ldap)
			if r.status != http.StatusCreated || r.header.Get("Location") != "/api/v1/clusters/prod" {
				t.Fatalf("create: %d %v %s", r.status, r.header, r.body)
			}
			checkClusterKeys(t, r.body)

			for _, c := range []struct{ name, body, want string }{
				{"a password is an unknown field", `{"id":"x","host":"h","password":"hunter2"}`, `unknown field \"password\"`},
				{"password_ref must be a reference", `{"id":"x","host":"h","auth":"LDAP","username":"u","password_ref":"hunter2"}`, "password_ref must be env:NAME"},
				{"password_ref file must be absolute", `{"id":"x","host":"h","password_ref":"file:pw.txt"}`, "password_ref must be"},
				{"server fields are not input", `{"id":"x","host":"h","created_at":"2024-01-01T00:00:00Z"}`, `unknown field \"created_at\"`},
				{"bad id", `{"id":"Prod!","host":"h"}`, "id must be"},
				{"bad host", `{"id":"x","host":"h;rm"}`, "host must be"},
				{"bad port", `{"id":"x","host":"h","port":70000}`, "port must be"},
				{"bad transport", `{"id":"x","host":"h","transport":"grpc"}`, "transport must be"},
				{"wrong type", `{"id":"x","host":"h","tls":"yes"}`, "tls must be a boolean"},
			} {
				r := e.do(t, "POST", "/api/v1/clusters/", adminToken, c.body)
				if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), c.want) {
					t.Errorf("%s: %d %s, want 400 with %q", c.name, r.status, r.body, c.want)
				}
				if strings.Contains(string(r.body), "hunter2") {
					t.Errorf("%s: the response repeats the password: %s", c.name, r.body)
				}
			}
			if r := e.do(t, "POST", "/api/v1/clusters", adminToken, ldap); r.status != http.StatusConflict {
				t.Errorf("duplicate: %d %s", r.status, r.body)
			}

			r = e.do(t, "GET", "/api/v1/clusters", viewerToken, nil)
			var list clustersBody
			r.json(t, &list)
			var ids []string
			for _, c := range list.Clusters {
				ids = append(ids, c.ID)
			}
			if r.status != http.StatusOK || strings.Join(ids, ",") != "demo,prod" {
				t.Errorf("list: %d %s", r.status, r.body)
			}
			var raw map[string][]json.RawMessage
			r.json(t, &raw)
			for _, c := range raw["clusters"] {
				checkClusterKeys(t, c)
			}

			r = e.do(t, "PUT", "/api/v1/clusters/prod", adminToken, `{"host":"hive2.example.internal","max_running_tasks":4}`)
			var updated merge.Cluster
			r.json(t, &updated)
			if r.status != http.StatusOK || updated.Host != "hive2.example.internal" || updated.MaxRunningTasks != 4 || updated.Auth != merge.AuthNone {
				t.Errorf("update: %d %s", r.status, r.body)
			}
			checkClusterKeys(t, r.body)
			if r := e.do(t, "PUT", "/api/v1/clusters/prod", adminToken, `{"id":"other","host":"h"}`); r.status != http.StatusBadRequest {
				t.Errorf("update with another id: %d %s", r.status, r.body)
			}
			if r := e.do(t, "PUT", "/api/v1/clusters/none", adminToken, `{"host":"h"}`); r.status != http.StatusNotFound {
				t.Errorf("update unknown: %d %s", r.status, r.body)
			}

			r = e.do(t, "GET", "/api/v1/clusters/prod", viewerToken, nil)
			var got merge.Cluster
			r.json(t, &got)
			if r.status != http.StatusOK || got.Host != "hive2.example.internal" {
				t.Errorf("get: %d %s", r.status, r.body)
			}

			// A cluster with an active task stays.
			if r := e.do(t, "POST", "/api/v1/tasks/", operatorToken, newcomerBody); r.status != http.StatusCreated {
				t.Fatalf("create task: %d %s", r.status, r.body)
			}
			if r := e.do(t, "DELETE", "/api/v1/clusters/demo", adminToken, nil); r.status != http.StatusConflict {
				t.Errorf("delete a busy cluster: %d %s", r.status, r.body)
			}
			if r := e.do(t, "GET", "/api/v1/clusters/demo", viewerToken, nil); r.status != http.StatusOK {
				t.Errorf("the busy cluster is gone after a refused delete: %d %s", r.status, r.body)
			}
			r = e.do(t, "DELETE", "/api/v1/clusters/prod", adminToken, nil)
			if r.status != http.StatusNoContent || len(r.body) != 0 {
				t.Errorf("delete: %d %s", r.status, r.body)
			}
			if r := e.do(t, "GET", "/api/v1/clusters/prod", viewerToken, nil); r.status != http.StatusNotFound {
				t.Errorf("get after delete: %d %s", r.status, r.body)
			}
		})
	}
}

func checkClusterKeys(t *testing.T, body []byte) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("cluster %s: %v", body, err)
	}
	for k := range m {
		if !slices.Contains(clusterKeys, k) {
			t.Errorf("cluster response has field %q", k)
		}
		if strings.Contains(strings.ToLower(k), "password") && k != "password_ref" || strings.Contains(strings.ToLower(k), "secret") {
			t.Errorf("cluster response has a secret-looking field %q", k)
		}
	}
}

// Passwords of the sandbox's user; no response may contain either.
const (
	hivePassword  = "hive-pw-0123456789"
	wrongPassword = "wrong-pw-0123456789"
)

func TestTestClusterConnection(t *testing.T) {
	nosasl := sandboxtest.Start(t)
	ldap := sandboxtest.Start(t, func(c *hivesandbox.Config) { c.Users = map[string]string{"alice": hivePassword} })
	t.Setenv("HIVEMERGE_SECRET_FUNCTIONS_HIVE_PASSWORD", hivePassword)
	t.Setenv("HIVEMERGE_SECRET_FUNCTIONS_WRONG_PASSWORD", wrongPassword)
	secretDir := t.TempDir()
	t.Setenv("HIVEMERGE_SECRET_DIRS", secretDir)
	pwFile := filepath.Join(secretDir, "hive-password")
	if err := os.WriteFile(pwFile, []byte(hivePassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	clusters := []clusterBody{
		{ID: "nosasl", Host: nosasl.Host, Port: nosasl.Port, Auth: merge.AuthNoSASL},
		{ID: "ldap-env", Host: ldap.Host, Port: ldap.Port, Auth: merge.AuthLDAP, Username: "alice", PasswordRef: "env:HIVEMERGE_SECRET_FUNCTIONS_HIVE_PASSWORD"},
		{ID: "ldap-file", Host: ldap.Host, Port: ldap.Port, Auth: merge.AuthLDAP, Username: "alice", PasswordRef: "file:" + pwFile},
		{ID: "ldap-wrong", Host: ldap.Host, Port: ldap.Port, Auth: merge.AuthLDAP, Username: "alice", PasswordRef: "env:HIVEMERGE_SECRET_FUNCTIONS_WRONG_PASSWORD"},
		{ID: "dead", Host: "127.0.0.1", Port: deadPort(t), Auth: merge.AuthNoSASL},
	}

	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t), nil)
			for _, c := range clusters {
				if r := e.do(t, "POST", "/api/v1/clusters", adminToken, c); r.status != http.StatusCreated {
					t.Fatalf("register %s: %d %s", c.ID, r.status, r.body)
				}
			}
			for _, c := range []struct {
				name, method, path, token string
				body                      any
				status                    int
				// ok and stage are checked on 200s; code on errors.
				ok    bool
				stage merge.Stage
				code  string
			}{
				{name: "NOSASL", method: "POST", path: "/api/v1/clusters/nosasl/test", token: adminToken, status: 200, ok: true, stage: merge.StageQuery},
				{name: "LDAP, password from env:", method: "POST", path: "/api/v1/clusters/ldap-env/test", token: adminToken, status: 200, ok: true, stage: merge.StageQuery},
				{name: "LDAP, password from file:", method: "POST", path: "/api/v1/clusters/ldap-file/test", token: adminToken, status: 200, ok: true, stage: merge.StageQuery},
				{name: "wrong password", method: "POST", path: "/api/v1/clusters/ldap-wrong/test", token: adminToken, status: 200, stage: merge.StageAuthenticate},
				{name: "nothing listens", method: "POST", path: "/api/v1/clusters/dead/test", token: adminToken, status: 200, stage: merge.StageConnect},
				{name: "empty object body", method: "POST", path: "/api/v1/clusters/nosasl/test", token: adminToken, body: `{}`, status: 200, ok: true, stage: merge.StageQuery},
				{name: "standalone function", method: "POST", path: "/TestClusterConnection?id=ldap-env", token: adminToken, status: 200, ok: true, stage: merge.StageQuery},
				{name: "standalone, wrong password", method: "POST", path: "/TestClusterConnection?id=ldap-wrong", token: adminToken, status: 200, stage: merge.StageAuthenticate},
				{name: "unknown cluster", method: "POST", path: "/api/v1/clusters/nope/test", token: adminToken, status: 404, code: "not_found"},
				{name: "standalone, unknown cluster", method: "POST", path: "/TestClusterConnection?id=nope", token: adminToken, status: 404, code: "not_found"},
				{name: "standalone without id", method: "POST", path: "/TestClusterConnection", token: adminToken, status: 400, code: "invalid_argument"},
				{name: "body with fields", method: "POST", path: "/api/v1/clusters/nosasl/test", token: adminToken, body: `{"password":"x"}`, status: 400, code: "invalid_argument"},
				{name: "unknown query parameter", method: "POST", path: "/api/v1/clusters/nosasl/test?timeout=1", token: adminToken, status: 400, code: "invalid_argument"},
				{name: "viewer", method: "POST", path: "/api/v1/clusters/ldap-env/test", token: viewerToken, status: 403, code: "permission_denied"},
				{name: "operator", method: "POST", path: "/api/v1/clusters/ldap-env/test", token: operatorToken, status: 403, code: "permission_denied"},
				{name: "standalone, operator", method: "POST", path: "/TestClusterConnection?id=ldap-env", token: operatorToken, status: 403, code: "permission_denied"},
				{name: "no token", method: "POST", path: "/api/v1/clusters/ldap-env/test", status: 401, code: "unauthenticated"},
				{name: "GET", method: "GET", path: "/api/v1/clusters/nosasl/test", token: adminToken, status: 405, code: "method_not_allowed"},
			} {
				t.Run(c.name, func(t *testing.T) {
					r := e.do(t, c.method, c.path, c.token, c.body)
					for _, pw := range []string{hivePassword, wrongPassword} {
						if strings.Contains(string(r.body), pw) {
							t.Errorf("the response contains a password: %s", r.body)
						}
					}
					if r.status != c.status {
						t.Fatalf("%d %s, want %d", r.status, r.body, c.status)
					}
					if c.status != http.StatusOK {
						var eb errorBody
						r.json(t, &eb)
						if eb.Error.Code != c.code {
							t.Errorf("code %q, want %q: %s", eb.Error.Code, c.code, r.body)
						}
						return
					}
					var got merge.ConnectionTest
					r.json(t, &got)
					if got.OK != c.ok || got.Stage != c.stage || got.Message == "" || got.TestedAt.IsZero() {
						t.Errorf("got %s, want ok=%v at stage %s with a message", r.body, c.ok, c.stage)
					}
					var keys map[string]any
					r.json(t, &keys)
					if got, want := slices.Sorted(maps.Keys(keys)), connectionTestKeys; !slices.Equal(got, want) {
						t.Errorf("keys %v, want %v", got, want)
					}
				})
			}
		})
	}
}

// connectionTestKeys are the fields of a connection test result.
var connectionTestKeys = []string{"cluster_id", "databases", "duration_ms", "latency_ms", "message", "ok", "stage", "tested_at"}

// deadPort returns a loopback port nothing listens on: one just released.
func deadPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	n, _ := strconv.Atoi(port)
	return n
}

// TestClusterPasswordRef shows where a cluster's password lives to admins only: it names a
// secret an admin manages, and is of no use to a viewer or an operator.
func TestClusterPasswordRef(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	const ref = "env:HIVE_PASSWORD"
	if r := e.do(t, "POST", "/api/v1/clusters", adminToken, `{"id":"prod","host":"hive.example","auth":"LDAP","username":"u","password_ref":"`+ref+`"}`); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	for _, c := range []struct {
		name, token string
		want        bool
	}{
		{"viewer", viewerToken, false},
		{"operator", operatorToken, false},
		{"admin", adminToken, true},
	} {
		for _, path := range []string{"/api/v1/clusters", "/api/v1/clusters/prod", "/ListClusters", "/GetCluster?id=prod"} {
			t.Run(c.name+" "+path, func(t *testing.T) {
				r := e.do(t, "GET", path, c.token, nil)
				if r.status != http.StatusOK || !strings.Contains(string(r.body), `"username":"u"`) {
					t.Fatalf("%d %s", r.status, r.body)
				}
				if got := strings.Contains(string(r.body), ref); got != c.want {
					t.Errorf("password_ref shown: %v, want %v: %s", got, c.want, r.body)
				}
				if !c.want && strings.Contains(string(r.body), "password_ref") {
					t.Errorf("the response names password_ref: %s", r.body)
				}
			})
		}
	}
}
