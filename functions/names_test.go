package functions

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// TestConcurrentCreatesNameCase: Hive names are case-insensitive, so parallel creates on case
// variants of one table are creates on one table: exactly one wins.
func TestConcurrentCreatesNameCase(t *testing.T) {
	const n = 64
	dbs := []string{"web", "WEB", "Web", "wEb"}
	tables := []string{"pageviews", "PageViews", "PAGEVIEWS", "pageViews"}
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
				body := fmt.Sprintf(`{"cluster_id":"demo","task_name":"t%d","database_name":%q,"table_name":%q}`, i, dbs[i%4], tables[(i/4)%4])
				wg.Go(func() {
					<-start
					statuses[i] = do(t, client, e.http.URL, "POST", "/api/v1/tasks/", operatorToken, body).status
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
			tasks := allTasks(t, e.store)
			if len(tasks) != 1 || tasks[0].Database != "web" || tasks[0].Table != "pageviews" {
				t.Fatalf("stored tasks = %v, want one on web.pageviews", tasks)
			}
			// Listing finds it under any spelling.
			r := e.do(t, "GET", "/api/v1/tasks/?database_name=WEB&table_name=PageViews", viewerToken, nil)
			var page merge.TaskPage
			r.json(t, &page)
			if r.status != http.StatusOK || len(page.Tasks) != 1 {
				t.Errorf("list by another spelling: %d %s", r.status, r.body)
			}
		})
	}
}

// TestCreateRawBodies sends bodies byte for byte: what encoding/json would silently accept
// (invalid UTF-8, duplicate keys) and what the limits refuse must be a 400 that says why.
func TestCreateRawBodies(t *testing.T) {
	body := func(tail string) string {
		return `{"cluster_id":"demo","task_name":"t","database_name":"db","table_name":"tb"` + tail + `}`
	}
	var keys []string
	for i := range merge.MaxPartitionKeys + 1 {
		keys = append(keys, fmt.Sprintf(`"k%d":"v"`, i))
	}
	cases := []struct {
		name string
		body string
		want string // a substring of the 400's message; "" means 201
	}{
		{"plain", body(``), ""},
		{"escaped non-ASCII", `{"cluster_id":"demo","task_name":"fusion \u00e9t\u00e9","database_name":"db","table_name":"tb2"}`, ""},
		{"same key in sibling objects", `{"cluster_id":"demo","task_name":"t","database_name":"db","table_name":"tb3","partition_filter":[{"dt":"1"},{"dt":"2"}]}`, ""},
		{"invalid UTF-8 in a value", body(`,"partition_filter":{"dt":"2024` + "\xff" + `"}`), "request body is not valid UTF-8"},
		{"invalid UTF-8 in the task name", `{"cluster_id":"demo","task_name":"a` + "\xc3\x28" + `","database_name":"db","table_name":"tb"}`, "not valid UTF-8"},
		{"truncated UTF-8 sequence", `{"cluster_id":"demo","task_name":"` + "\xe2\x82" + `","database_name":"db","table_name":"tb"}`, "not valid UTF-8"},
		{"unpaired surrogate escape", `{"cluster_id":"demo","task_name":"a\ud800b","database_name":"db","table_name":"tb"}`, "unpaired UTF-16 surrogate"},
		{"duplicate top-level key", `{"cluster_id":"demo","task_name":"t","database_name":"db","table_name":"a","table_name":"b"}`, "duplicate key table_name"},
		{"duplicate key in other case", `{"cluster_id":"demo","task_name":"t","database_name":"db","table_name":"a","TABLE_NAME":"b"}`, "duplicate key TABLE_NAME"},
		{"duplicate key in a partition spec", body(`,"partition_filter":{"dt":"1","dt":"2"}`), "duplicate key dt in partition_filter"},
		{"duplicate key in a listed spec", body(`,"partition_filter":[{"dt":"1"},{"hr":"1","hr":"2"}]`), "duplicate key hr in partition_filter[1]"},
		{"partition column in two cases", body(`,"partition_filter":{"dt":"1","DT":"2"}`), "duplicate key DT in partition_filter"},
		{"duplicate key deeper down", `{"cluster_id":"demo","x":[1,{"y":{"z":1,"Z":2}}]}`, "duplicate key Z in x[1].y"},
		{"duplicate key with odd characters", `{"cluster_id":"demo","a\u202e":1,"a\u202e":2}`, `duplicate key "a\u202e"`},
		{"too many partition columns", body(`,"partition_filter":{` + strings.Join(keys, ",") + `}`), "at most 32"},
		{"duplicate partition specs", body(`,"partition_filter":[{"dt":"1","hr":"0"},{"HR":"0","Dt":"1"}]`), "entries 0 and 1 are the same partition spec"},
		{"right-to-left override in the task name", `{"cluster_id":"demo","task_name":"merge \u202egnp","database_name":"db","table_name":"tb"}`, "task_name may not contain invisible or bidirectional formatting characters (U+202E)"},
		{"zero-width space in a partition value", body(`,"partition_filter":{"dt":"2024\u200b"}`), "partition value for dt may not contain invisible or bidirectional formatting characters (U+200B)"},
		{"line separator in the task name", `{"cluster_id":"demo","task_name":"a\u2028b","database_name":"db","table_name":"tb"}`, "U+2028"},
		{"byte order mark in the task name", "{\"cluster_id\":\"demo\",\"task_name\":\"\ufeffa\",\"database_name\":\"db\",\"table_name\":\"tb\"}", "U+FEFF"},
	}
	e := newEnv(t, openBolt(t), nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, "POST", "/api/v1/tasks/", operatorToken, c.body)
			if c.want == "" {
				if r.status != http.StatusCreated {
					t.Fatalf("status %d, want 201: %s", r.status, r.body)
				}
				return
			}
			var got struct {
				Error struct{ Code, Message string }
			}
			r.json(t, &got)
			if r.status != http.StatusBadRequest || got.Error.Code != "invalid_argument" || !strings.Contains(got.Error.Message, c.want) {
				t.Errorf("status %d, body %s; want 400 invalid_argument mentioning %q", r.status, r.body, c.want)
			}
		})
	}
}
