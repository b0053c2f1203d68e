package functions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/functions"
	"github.com/hivemerge/hivemerge/shared/app"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/sandboxtest"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// TestMergeMultiKeyPartitionsOverHTTP runs a merge of a table partitioned by a date and an
// int through the server as a deployed function wires it (app.Open in sync mode, a bolt
// store, the sandbox through gohive): create, preview, execute and roll back over HTTP, with
// the table checked through gohive. The task selects one date, so two of the three
// partitions are merged.
func TestMergeMultiKeyPartitionsOverHTTP(t *testing.T) {
	ctx := context.Background()
	quiet := sandboxtest.Logger(t)
	sb := sandboxtest.Start(t)
	client := sb.Client(t, hive.Config{Name: "check"})
	sb.Exec(t, client, "CREATE DATABASE m", "CREATE TABLE m.t (id bigint, msg string) PARTITIONED BY (d date, h int) STORED AS TEXTFILE")
	parts := []map[string]string{{"d": "2024-01-01", "h": "0"}, {"d": "2024-01-01", "h": "13"}, {"d": "2024-01-02", "h": "0"}}
	for _, part := range parts {
		sb.AppendFiles(t, "m", "t", part, 6, func(i int) [][]string {
			return [][]string{{strconv.Itoa(i), "a"}, {strconv.Itoa(i + 100), "b"}}
		})
	}

	env := map[string]string{"HIVEMERGE_STORE": "bolt", "HIVEMERGE_BOLT_PATH": filepath.Join(t.TempDir(), "tasks.db")}
	a, err := app.Open(ctx, func(k string) string { return env[k] }, quiet, app.Options{Mode: app.ModeSync, Owner: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if _, err := a.Service.CreateCluster(ctx, merge.Cluster{ID: "wh", Host: sb.Host, Port: sb.Port, Auth: merge.AuthNoSASL, FSDefault: "file://" + sb.Dir}); err != nil {
		t.Fatal(err)
	}
	const token = "operator-token-0123456789"
	auth, err := functions.NewAuthenticator(functions.AuthConfig{Tokens: []functions.Token{{Name: "otto", Role: "operator", Token: token}}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(functions.NewServer(a.Service, auth, quiet).WithEngine(a.Engine).Handler())
	t.Cleanup(hs.Close)
	call := func(method, path, body string, want int, v any) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, hs.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %s: %v", method, path, b, err)
		}
	}
	before := tableState(t, client)

	var task merge.Task
	call("POST", "/api/v1/tasks", fmt.Sprintf(`{"cluster_id":"wh","task_name":"multi","database_name":"m","table_name":"t","merge_strategy":"auto","partition_filter":[{"d":"2024-01-01"}],"target_file_size_bytes":%d}`, merge.MinTargetFileSize), http.StatusCreated, &task)
	var pv merge.Preview
	call("GET", "/api/v1/tasks/"+task.ID+"/preview", "", http.StatusOK, &pv)
	var names []string
	for _, pp := range pv.Partitions {
		names = append(names, pp.Partition)
	}
	if pv.Strategy != merge.StrategySafeMerge || strings.Join(names, ",") != "d=2024-01-01/h=0,d=2024-01-01/h=13" {
		t.Fatalf("preview: %s of %v", pv.Strategy, names)
	}

	var done merge.Task
	call("POST", "/api/v1/tasks/"+task.ID+"/execute", "", http.StatusAccepted, &done)
	if done.Status != merge.StatusSuccess || done.Stats.FilesBefore != 12 || done.Stats.RowsValidated != 24 {
		t.Fatalf("execute: %s %+v: %s", done.Status, done.Stats, done.Error)
	}
	after := tableState(t, client)
	for _, name := range []string{"d=2024-01-01/h=0", "d=2024-01-01/h=13", "d=2024-01-02/h=0"} {
		moved := after[name].Location != before[name].Location
		if after[name].Rows != before[name].Rows || moved != strings.HasPrefix(name, "d=2024-01-01") {
			t.Errorf("partition %s: before %+v, after %+v", name, before[name], after[name])
		}
	}

	var back merge.Task
	call("POST", "/api/v1/tasks/"+task.ID+"/rollback", "", http.StatusOK, &back)
	if back.Checkpoint == nil || back.Checkpoint.RolledBackBy != "otto" {
		t.Errorf("rollback: %+v", back.Checkpoint)
	}
	if got := tableState(t, client); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("after the rollback %v, want %v", got, before)
	}
}

// tableState is m.t's rows and location per partition, read through gohive.
func tableState(t *testing.T, c *hive.Client) map[string]sandboxtest.Partition {
	t.Helper()
	out := map[string]sandboxtest.Partition{}
	for _, p := range sandboxtest.Partitions(t, c, "m", "t") {
		out[p.Name] = p
	}
	return out
}
