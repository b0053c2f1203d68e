package functions

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

func TestTaskLifecycle(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b.open(t), nil)

			r := e.do(t, "POST", "/api/v1/tasks/", operatorToken, newcomerBody)
			if r.status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			var created merge.Task
			r.json(t, &created)
			if created.ID == "" || created.Status != merge.StatusPending || created.Table != "orders" ||
				created.Strategy != merge.StrategySafeMerge || created.CreatedBy != "otto" {
				t.Fatalf("created task = %+v", created)
			}
			if loc := r.header.Get("Location"); loc != "/api/v1/tasks/"+created.ID {
				t.Errorf("Location = %q", loc)
			}

			r = e.do(t, "GET", "/api/v1/tasks/"+created.ID, viewerToken, nil)
			var got merge.Task
			r.json(t, &got)
			if r.status != http.StatusOK || got.ID != created.ID || !got.CreatedAt.Equal(created.CreatedAt) {
				t.Fatalf("get: %d %+v", r.status, got)
			}

			// A task on another table, to show that the filters filter.
			other := strings.Replace(newcomerBody, `"orders"`, `"customers"`, 1)
			if r := e.do(t, "POST", "/api/v1/tasks", operatorToken, other); r.status != http.StatusCreated {
				t.Fatalf("create other: %d %s", r.status, r.body)
			}
			listed := func(query string) []string {
				t.Helper()
				r := e.do(t, "GET", "/api/v1/tasks/?"+query, viewerToken, nil)
				if r.status != http.StatusOK {
					t.Fatalf("list %s: %d %s", query, r.status, r.body)
				}
				var page merge.TaskPage
				r.json(t, &page)
				var tables []string
				for _, task := range page.Tasks {
					tables = append(tables, task.Table)
				}
				sort.Strings(tables)
				return tables
			}
			for _, c := range []struct{ query, want string }{
				{"", "customers,orders"},
				{"status=pending", "customers,orders"},
				{"status=running", ""},
				{"table_name=orders", "orders"},
				{"status=pending&table_name=orders&database_name=sales&cluster_id=demo", "orders"},
				{"table_name=nothing", ""},
			} {
				if got := strings.Join(listed(c.query), ","); got != c.want {
					t.Errorf("list %q = %q, want %q", c.query, got, c.want)
				}
			}

			r = e.do(t, "POST", "/api/v1/tasks/"+created.ID+"/cancel", operatorToken, nil)
			var cancelled merge.Task
			r.json(t, &cancelled)
			if r.status != http.StatusOK || cancelled.Status != merge.StatusCancelled || cancelled.CancelledBy != "otto" {
				t.Fatalf("cancel: %d %s", r.status, r.body)
			}
			if got := strings.Join(listed("status=cancelled"), ","); got != "orders" {
				t.Errorf("cancelled tasks = %q", got)
			}

			r = e.do(t, "GET", "/api/v1/tasks/stats", viewerToken, nil)
			var st merge.TaskStats
			r.json(t, &st)
			if r.status != http.StatusOK || st.Total != 2 || st.ByStatus[merge.StatusCancelled] != 1 ||
				st.ByStatus[merge.StatusPending] != 1 || st.ByStatus[merge.StatusSuccess] != 0 {
				t.Errorf("stats: %d %s", r.status, r.body)
			}

			// The cancelled task released its table: the same request may be made again.
			if r := e.do(t, "POST", "/api/v1/tasks/", operatorToken, newcomerBody); r.status != http.StatusCreated {
				t.Errorf("create after cancel: %d %s", r.status, r.body)
			}
		})
	}
}

func TestCreateConflict(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	for _, c := range []struct {
		name       string
		first, two string
		want       int
	}{
		{"same table", `{}`, `{}`, http.StatusConflict},
		{"whole table over a partition", `{"dt":"1"}`, ``, http.StatusConflict},
		{"same partition", `{"dt":"2"}`, `{"dt":"2","hr":"00"}`, http.StatusConflict},
		{"other partition", `{"dt":"3"}`, `{"dt":"4"}`, http.StatusCreated},
	} {
		t.Run(c.name, func(t *testing.T) {
			table := strings.ReplaceAll(c.name, " ", "_")
			body := func(filter string) string {
				if filter == "" || filter == "{}" {
					return fmt.Sprintf(`{"cluster_id":"demo","task_name":"x","database_name":"db","table_name":%q}`, table)
				}
				return fmt.Sprintf(`{"cluster_id":"demo","task_name":"x","database_name":"db","table_name":%q,"partition_filter":%s}`, table, filter)
			}
			if r := e.do(t, "POST", "/api/v1/tasks/", operatorToken, body(c.first)); r.status != http.StatusCreated {
				t.Fatalf("first: %d %s", r.status, r.body)
			}
			r := e.do(t, "POST", "/api/v1/tasks/", operatorToken, body(c.two))
			if r.status != c.want {
				t.Fatalf("second: %d %s, want %d", r.status, r.body, c.want)
			}
			if c.want == http.StatusConflict && !strings.Contains(string(r.body), `"code":"conflict"`) {
				t.Errorf("conflict body: %s", r.body)
			}
		})
	}
}

func TestCreatePartitionFilter(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	for i, c := range []struct {
		name, filter string
		want         []merge.PartitionSpec
	}{
		{"one spec", `{"dt":"2024-01-01","hr":"00"}`, []merge.PartitionSpec{{"dt": "2024-01-01", "hr": "00"}}},
		{"list", `[{"dt":"2024-01-01"},{"dt":"2024-01-02"}]`, []merge.PartitionSpec{{"dt": "2024-01-01"}, {"dt": "2024-01-02"}}},
		{"integers become decimal text", `{"year":2024,"shard":-3,"zero":0}`, []merge.PartitionSpec{{"year": "2024", "shard": "-3", "zero": "0"}}},
		{"null is no filter", `null`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"cluster_id":"demo","task_name":"x","database_name":"db","table_name":"t%d","partition_filter":%s}`, i, c.filter)
			r := e.do(t, "POST", "/api/v1/tasks/", operatorToken, body)
			if r.status != http.StatusCreated {
				t.Fatalf("%d %s", r.status, r.body)
			}
			got, err := e.store.GetTask(t.Context(), idOf(t, r))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got.Partitions) != fmt.Sprint(c.want) {
				t.Errorf("stored partitions = %v, want %v", got.Partitions, c.want)
			}
		})
	}
}

func idOf(tb testing.TB, r response) string {
	tb.Helper()
	var task merge.Task
	r.json(tb, &task)
	return task.ID
}

// TestCreateInvalid sends bad bodies: each must be a 400 that says what is wrong, and leave
// the store empty. The error bodies are golden.
func TestCreateInvalid(t *testing.T) {
	valid := map[string]any{"cluster_id": "demo", "task_name": "t1", "database_name": "sales", "table_name": "orders"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k, v := range valid {
			m[k] = v
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	big := with("task_name", strings.Repeat("x", 1<<20))
	// extra is a Content-Type to send, or a query string when it starts with "?".
	cases := []struct {
		name  string
		body  any
		extra string
	}{
		{"invalid JSON", `{"cluster_id":"demo",`, ""},
		{"not JSON at all", `cluster_id=demo`, ""},
		{"empty body", ``, ""},
		{"array body", `[]`, ""},
		{"trailing data", newcomerBody + `{}`, ""},
		{"trailing garbage", newcomerBody + ` x`, ""},
		{"unknown field", with("table", "orders"), ""},
		{"password field", with("password", "hunter2"), ""},
		{"wrong type", with("table_name", 7), ""},
		{"wrong type for size", with("target_file_size_bytes", "big"), ""},
		{"missing cluster_id", with("cluster_id", nil), ""},
		{"missing task_name", with("task_name", nil), ""},
		{"blank task_name", with("task_name", "  "), ""},
		{"missing database_name", with("database_name", nil), ""},
		{"empty table_name", with("table_name", ""), ""},
		{"table with backtick", with("table_name", "ord`ers"), ""},
		{"table with quote", with("table_name", "ord'ers"), ""},
		{"table with double quote", with("table_name", `ord"ers`), ""},
		{"table with semicolon", with("table_name", "orders;drop"), ""},
		{"table with space", with("table_name", "or ders"), ""},
		{"table with dot", with("table_name", "sales.orders"), ""},
		{"table with variable", with("table_name", "${hiveconf:x}"), ""},
		{"database with dot", with("database_name", "a.b"), ""},
		{"cluster with semicolon", with("cluster_id", "demo;"), ""},
		{"unregistered cluster", with("cluster_id", "nowhere"), ""},
		{"partition column with space", with("partition_filter", map[string]any{"d t": "1"}), ""},
		{"partition value with quote", with("partition_filter", map[string]any{"dt": "2024'"}), ""},
		{"partition value with double quote", with("partition_filter", map[string]any{"dt": `2024"`}), ""},
		{"partition value with backslash", with("partition_filter", map[string]any{"dt": `2024\`}), ""},
		{"partition value with backtick", with("partition_filter", map[string]any{"dt": "2024`"}), ""},
		{"partition value with newline", with("partition_filter", map[string]any{"dt": "2024\n"}), ""},
		{"partition value with NUL", with("partition_filter", map[string]any{"dt": "2024\x00"}), ""},
		{"partition value with variable", with("partition_filter", map[string]any{"dt": "${env:HOME}"}), ""},
		{"partition value float", with("partition_filter", map[string]any{"dt": 1.5}), ""},
		{"partition value exponent", `{"cluster_id":"demo","task_name":"t","database_name":"d","table_name":"t","partition_filter":{"dt":1e3}}`, ""},
		{"partition value bool", with("partition_filter", map[string]any{"dt": true}), ""},
		{"partition value null", with("partition_filter", map[string]any{"dt": nil}), ""},
		{"partition value object", with("partition_filter", map[string]any{"dt": map[string]any{}}), ""},
		{"partition column twice", `{"cluster_id":"demo","task_name":"t","database_name":"d","table_name":"t","partition_filter":{"dt":"1","dt":"2"}}`, ""},
		{"partition filter empty object", with("partition_filter", map[string]any{}), ""},
		{"partition filter empty list", with("partition_filter", []any{}), ""},
		{"partition filter string", with("partition_filter", "dt=1"), ""},
		{"partition filter list of strings", with("partition_filter", []any{"dt=1"}), ""},
		{"unknown strategy", with("merge_strategy", "fastest"), ""},
		{"negative target size", with("target_file_size_bytes", -1), ""},
		{"tiny target size", with("target_file_size_bytes", 1000), ""},
		{"body over 1 MiB", big, ""},
		{"text/plain", newcomerBody, "text/plain"},
		{"multipart", newcomerBody, "multipart/form-data; boundary=x"},
		{"unknown query parameter", newcomerBody, "?dry_run=1"},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b.open(t), nil)
			var out strings.Builder
			for _, c := range cases {
				path, header := "/api/v1/tasks/", []string{}
				switch {
				case strings.HasPrefix(c.extra, "?"):
					path += c.extra
				case c.extra != "":
					header = []string{"Content-Type", c.extra}
				}
				r := e.do(t, "POST", path, operatorToken, c.body, header...)
				if r.status != http.StatusBadRequest {
					t.Errorf("%s: status %d, want 400: %s", c.name, r.status, r.body)
				}
				if !strings.Contains(string(r.body), `"code":"invalid_argument"`) {
					t.Errorf("%s: body %s", c.name, r.body)
				}
				fmt.Fprintf(&out, "%s\n%d %s\n", c.name, r.status, r.body)
			}
			if tasks := allTasks(t, e.store); len(tasks) != 0 {
				t.Errorf("the store holds %d tasks after bad requests, want 0", len(tasks))
			}
			golden(t, "create_errors.golden", []byte(out.String()))
		})
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	for _, c := range []struct{ name, method, path string }{
		{"get", "GET", "/api/v1/tasks/0123456789abcdef0123456789abcdef"},
		{"get id with odd characters", "GET", "/api/v1/tasks/" + url.PathEscape("x y;z")},
		{"cancel", "POST", "/api/v1/tasks/0123456789abcdef0123456789abcdef/cancel"},
		{"logs", "GET", "/api/v1/tasks/0123456789abcdef0123456789abcdef/logs"},
		{"function GetTask", "GET", "/GetTask?id=0123456789abcdef0123456789abcdef"},
		{"cluster", "GET", "/api/v1/clusters/nowhere"},
		{"unknown path", "GET", "/api/v2/tasks"},
		{"below a task", "GET", "/api/v1/tasks/abc/nothing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, c.method, c.path, adminToken, nil)
			if r.status != http.StatusNotFound || !strings.Contains(string(r.body), `"code":"not_found"`) {
				t.Errorf("%d %s, want 404 not_found", r.status, r.body)
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	for _, c := range []struct{ method, path, allow string }{
		{"DELETE", "/api/v1/tasks/", "GET, HEAD, POST"},
		{"PUT", "/api/v1/tasks", "GET, HEAD, POST"},
		{"POST", "/api/v1/tasks/stats", "GET, HEAD"},
		{"DELETE", "/api/v1/tasks/abc", "GET, HEAD"},
		{"GET", "/api/v1/tasks/abc/cancel", "POST"},
		{"PATCH", "/api/v1/clusters/demo", "GET, HEAD, PUT, DELETE"},
		{"POST", "/health", "GET, HEAD"},
		{"GET", "/CreateTask", "POST"},
		{"POST", "/GetTask?id=abc", "GET, HEAD"},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			r := e.do(t, c.method, c.path, adminToken, nil)
			if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != c.allow ||
				!strings.Contains(string(r.body), `"code":"method_not_allowed"`) {
				t.Errorf("%d Allow=%q %s, want 405 Allow=%q", r.status, r.header.Get("Allow"), r.body, c.allow)
			}
		})
	}
}

func TestListPagination(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	for i := range 5 {
		body := strings.Replace(newcomerBody, `"orders"`, fmt.Sprintf(`"orders_%d"`, i), 1)
		if r := e.do(t, "POST", "/api/v1/tasks/", operatorToken, body); r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	seen := map[string]bool{}
	token, pages := "", 0
	for {
		q := url.Values{"limit": {"2"}}
		if token != "" {
			q.Set("page_token", token)
		}
		r := e.do(t, "GET", "/api/v1/tasks/?"+q.Encode(), viewerToken, nil)
		var page merge.TaskPage
		r.json(t, &page)
		pages++
		for _, task := range page.Tasks {
			seen[task.ID] = true
		}
		if page.NextPageToken == "" {
			break
		}
		token = page.NextPageToken
	}
	if len(seen) != 5 || pages != 3 {
		t.Errorf("saw %d tasks in %d pages, want 5 in 3", len(seen), pages)
	}
	for _, q := range []string{"limit=0x", "limit=-1", "limit=100000", "status=done", "table_name=a.b", "limit=1&limit=2", "sort=asc"} {
		if r := e.do(t, "GET", "/api/v1/tasks/?"+q, viewerToken, nil); r.status != http.StatusBadRequest {
			t.Errorf("list ?%s: %d %s, want 400", q, r.status, r.body)
		}
	}
}

func TestTaskLogs(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	id := idOf(t, e.do(t, "POST", "/api/v1/tasks/", operatorToken, newcomerBody))
	if err := e.svc.Log(t.Context(), id,
		merge.LogEntry{Message: "planned", Step: "plan"},
		merge.LogEntry{Message: "merging", SQL: "ALTER TABLE `sales`.`orders` CONCATENATE"},
		merge.LogEntry{Message: "done", Level: merge.LevelWarn}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, query string
		want        string
		next        int64
	}{
		// The first entry is the creation, by the operator's token.
		{"all", "", "created by otto,planned,merging,done", 4},
		{"after", "after=2", "merging,done", 4},
		{"limit", "limit=1", "created by otto", 1},
		{"nothing newer", "after=4", "", 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/tasks/" + id + "/logs?" + c.query, "/TaskLogs?id=" + id + "&" + c.query} {
				r := e.do(t, "GET", path, viewerToken, nil)
				var got logsBody
				r.json(t, &got)
				var msgs []string
				for _, l := range got.Logs {
					msgs = append(msgs, l.Message)
				}
				if r.status != http.StatusOK || strings.Join(msgs, ",") != c.want || got.NextAfter != c.next {
					t.Errorf("%s: %d %s", path, r.status, r.body)
				}
			}
		})
	}
	if r := e.do(t, "GET", "/api/v1/tasks/"+id+"/logs?after=-1", viewerToken, nil); r.status != http.StatusBadRequest {
		t.Errorf("negative after: %d", r.status)
	}
}

// TestConcurrentCreates sends 64 creates for one table at once over HTTP: the store's
// overlap check must let exactly one through.
func TestConcurrentCreates(t *testing.T) {
	const n = 64
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b.open(t), nil)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
			defer client.CloseIdleConnections()
			statuses := make([]int, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					statuses[i] = do(t, client, e.http.URL, "POST", "/api/v1/tasks/", operatorToken, newcomerBody).status
				})
			}
			close(start)
			wg.Wait()
			counts := map[int]int{}
			for _, s := range statuses {
				counts[s]++
			}
			if counts[http.StatusCreated] != 1 || counts[http.StatusConflict] != n-1 {
				t.Errorf("statuses = %v, want one 201 and %d 409", counts, n-1)
			}
			if tasks := allTasks(t, e.store); len(tasks) != 1 {
				t.Errorf("%d tasks stored, want 1", len(tasks))
			}
		})
	}
}

// TestStandaloneFunctions calls each operation as its own function, the way Cloud Functions
// deploys them: any path, the id as ?id=.
func TestStandaloneFunctions(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	var names []string
	for _, f := range e.srv.Functions() {
		names = append(names, f.Name)
	}
	golden(t, "functions.golden", []byte(strings.Join(names, "\n")+"\n"))

	fn := func(name string) *httpFunction { return &httpFunction{t: t, e: e, name: name} }
	r := fn("CreateTask").do("POST", "", operatorToken, newcomerBody)
	if r.status != http.StatusCreated {
		t.Fatalf("CreateTask: %d %s", r.status, r.body)
	}
	id := idOf(t, r)
	for _, c := range []struct {
		fn, method, query, token string
		body                     any
		want                     int
	}{
		{"GetTask", "GET", "id=" + id, viewerToken, nil, 200},
		{"GetTask", "GET", "", viewerToken, nil, 400},
		{"GetTask", "GET", "id=" + id + "&x=1", viewerToken, nil, 400},
		{"ListTasks", "GET", "status=pending", viewerToken, nil, 200},
		{"TaskStats", "GET", "", viewerToken, nil, 200},
		{"TaskLogs", "GET", "id=" + id, viewerToken, nil, 200},
		{"CancelTask", "POST", "id=" + id, viewerToken, nil, 403},
		{"CancelTask", "POST", "id=" + id, operatorToken, nil, 200},
		{"CancelTask", "POST", "", operatorToken, nil, 400},
		{"ListClusters", "GET", "", viewerToken, nil, 200},
		{"GetCluster", "GET", "id=demo", viewerToken, nil, 200},
		{"CreateCluster", "POST", "", adminToken, `{"id":"c2","host":"hive.example"}`, 201},
		{"UpdateCluster", "PUT", "", adminToken, `{"id":"c2","host":"hive2.example"}`, 200},
		{"UpdateCluster", "PUT", "id=c2", adminToken, `{"host":"hive3.example"}`, 200},
		{"UpdateCluster", "PUT", "id=c2", adminToken, `{"id":"c3","host":"hive3.example"}`, 400},
		{"UpdateCluster", "PUT", "", adminToken, `{"host":"hive3.example"}`, 400},
		{"DeleteCluster", "DELETE", "id=c2", adminToken, nil, 204},
		{"API", "GET", "", "", nil, 404},
	} {
		r := fn(c.fn).do(c.method, c.query, c.token, c.body)
		if r.status != c.want {
			t.Errorf("%s %s?%s: %d %s, want %d", c.method, c.fn, c.query, r.status, r.body, c.want)
		}
	}
	if task, err := e.store.GetTask(t.Context(), id); err != nil || task.Status != merge.StatusCancelled || task.CancelledBy != "otto" {
		t.Errorf("after CancelTask: %+v, %v", task, err)
	}
}

type httpFunction struct {
	t    *testing.T
	e    *env
	name string
}

func (f *httpFunction) do(method, query, token string, body any) response {
	f.t.Helper()
	path := "/" + f.name
	if query != "" {
		path += "?" + query
	}
	return f.e.do(f.t, method, path, token, body)
}

// TestTaskJSON pins the task's wire format: the API's snake_case names.
func TestTaskJSON(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	r := e.do(t, "POST", "/api/v1/tasks/", operatorToken, `{"cluster_id":"demo","task_name":"t1","database_name":"sales","table_name":"orders","partition_filter":{"dt":"2024-01-01"},"target_file_size_bytes":134217728}`)
	var m map[string]any
	r.json(t, &m)
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	golden(t, "task_keys.golden", []byte(strings.Join(keys, "\n")+"\n"))
	if m["merge_strategy"] != "auto" || m["target_file_size_bytes"] != json.Number("134217728") && m["target_file_size_bytes"] != float64(134217728) {
		t.Errorf("defaults: %v", m)
	}
}

// TestLongIDEchoCapped sends ids and paths of 100 KB: the error names them, shortened.
func TestLongIDEchoCapped(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	long := strings.Repeat("a", 100<<10)
	for _, c := range []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"task", "GET", "/api/v1/tasks/" + long, nil, 404},
		{"task logs", "GET", "/api/v1/tasks/" + long + "/logs", nil, 404},
		{"cancel", "POST", "/api/v1/tasks/" + long + "/cancel", nil, 404},
		{"function GetTask", "GET", "/GetTask?id=" + long, nil, 404},
		{"cluster", "GET", "/api/v1/clusters/" + long, nil, 404},
		{"delete a cluster", "DELETE", "/api/v1/clusters/" + long, nil, 404},
		{"body's id", "PUT", "/api/v1/clusters/demo", `{"id":"` + long + `","host":"h"}`, 400},
		{"unknown path", "GET", "/api/v1/" + long, nil, 404},
		{"unknown path outside the API", "GET", "/" + long, nil, 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, c.method, c.path, adminToken, c.body)
			if r.status != c.want || len(r.body) > 512 || !strings.Contains(string(r.body), "aaaa...") {
				t.Errorf("%d %.600s (%d bytes), want %d naming the start of the id or path and ...", r.status, r.body, len(r.body), c.want)
			}
		})
	}
}

// TestPageTokens checks that a page token continues the listing it came from, on any
// instance of the API, and nothing else: not another filter, not an altered token.
func TestPageTokens(t *testing.T) {
	st := openBolt(t)
	e := newEnv(t, st, nil)
	for i := range 5 {
		body := strings.Replace(newcomerBody, `"orders"`, fmt.Sprintf(`"orders_%d"`, i), 1)
		if r := e.do(t, "POST", "/api/v1/tasks/", operatorToken, body); r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	// serve is another instance over the same store: a function's instances share the
	// configuration, not memory.
	serve := func(auth *Authenticator) string {
		hs := httptest.NewServer(NewServer(e.svc, auth, nil).Handler())
		t.Cleanup(hs.Close)
		return hs.URL
	}
	list := func(base string, q url.Values) (response, merge.TaskPage) {
		r := do(t, http.DefaultClient, base, "GET", "/api/v1/tasks/?"+q.Encode(), viewerToken, nil)
		var page merge.TaskPage
		if r.status == http.StatusOK {
			r.json(t, &page)
		}
		return r, page
	}
	pending := url.Values{"status": {"pending"}, "limit": {"2"}}
	_, first := list(e.http.URL, pending)
	if first.NextPageToken == "" {
		t.Fatal("no next page")
	}

	t.Run("genuine token pages on every instance", func(t *testing.T) {
		seen := map[string]bool{}
		bases := []string{e.http.URL, serve(testAuth(t))}
		q, pages := pending, 0
		for {
			r, page := list(bases[pages%2], q)
			if r.status != http.StatusOK {
				t.Fatalf("page %d: %d %s", pages, r.status, r.body)
			}
			pages++
			for _, task := range page.Tasks {
				seen[task.ID] = true
			}
			if page.NextPageToken == "" {
				break
			}
			q = url.Values{"status": {"pending"}, "limit": {"2"}, "page_token": {page.NextPageToken}}
		}
		if len(seen) != 5 || pages != 3 {
			t.Errorf("saw %d tasks in %d pages, want 5 in 3", len(seen), pages)
		}
	})

	raw, err := st.ListTasks(t.Context(), merge.TaskFilter{Status: merge.StatusPending, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewAuthenticator(AuthConfig{Tokens: []Token{{Name: "vera", Role: "viewer", Token: viewerToken}}})
	if err != nil {
		t.Fatal(err)
	}
	_, foreign := list(serve(other), pending)
	tok := first.NextPageToken
	flip := func(i int) string {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for _, c := range []struct {
		name  string
		query url.Values
	}{
		{"another status", url.Values{"status": {"running"}, "page_token": {tok}}},
		{"the filter dropped", url.Values{"page_token": {tok}}},
		{"a filter added", url.Values{"status": {"pending"}, "table_name": {"orders_0"}, "page_token": {tok}}},
		{"the cursor altered", url.Values{"status": {"pending"}, "page_token": {flip(len(tok) - 2)}}},
		{"the MAC altered", url.Values{"status": {"pending"}, "page_token": {flip(10)}}},
		{"truncated", url.Values{"status": {"pending"}, "page_token": {tok[:20]}}},
		{"the store's own cursor", url.Values{"status": {"pending"}, "page_token": {raw.NextPageToken}}},
		{"another deployment's token", url.Values{"status": {"pending"}, "page_token": {foreign.NextPageToken}}},
		{"not base64", url.Values{"status": {"pending"}, "page_token": {"not a token!"}}},
		{"too long", url.Values{"status": {"pending"}, "page_token": {strings.Repeat("A", 4096)}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, _ := list(e.http.URL, c.query)
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "page_token is not valid for this query") {
				t.Errorf("%d %s, want 400: page_token is not valid for this query", r.status, r.body)
			}
		})
	}
	t.Run("names spelt in another case", func(t *testing.T) {
		_, upper := list(e.http.URL, url.Values{"database_name": {"SALES"}, "limit": {"2"}})
		if upper.NextPageToken == "" {
			t.Fatal("no next page")
		}
		r, page := list(e.http.URL, url.Values{"database_name": {"sales"}, "limit": {"3"}, "page_token": {upper.NextPageToken}})
		if r.status != http.StatusOK || len(page.Tasks) != 3 {
			t.Errorf("%d %s, want the 3 remaining tasks", r.status, r.body)
		}
	})
	t.Run("another page size", func(t *testing.T) {
		if r, page := list(e.http.URL, url.Values{"status": {"pending"}, "limit": {"3"}, "page_token": {tok}}); r.status != http.StatusOK || len(page.Tasks) != 3 {
			t.Errorf("%d %s, want the 3 remaining tasks", r.status, r.body)
		}
	})
}
