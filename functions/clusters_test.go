package functions

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

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
