package main

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
)

// TestDispatchRespectsPolicyCap: ten pending tasks of a policy with max_running_per_cluster 2,
// one per partition of a table on the sandbox, all finish without an execute request, and no
// listing of the store while they run shows more than two running. The cluster itself allows
// ten and the server has four workers, so only the policy's cap holds them back.
func TestDispatchRespectsPolicyCap(t *testing.T) {
	d := startDemo(t)
	ctx := context.Background()
	d.sb.Exec(t, d.client,
		"CREATE DATABASE IF NOT EXISTS m",
		"CREATE TABLE m.events (id bigint, msg string) PARTITIONED BY (dt string) STORED AS TEXTFILE",
	)
	var dts []string
	for day := 1; day <= 10; day++ {
		dt := fmt.Sprintf("2024-01-%02d", day)
		dts = append(dts, dt)
		d.sb.AppendFiles(t, "m", "events", map[string]string{"dt": dt}, 3, func(i int) [][]string {
			id := strconv.Itoa(day*10 + i)
			return [][]string{{id, "value-" + id}}
		})
	}

	st, err := bolt.Open(d.env["HIVEMERGE_BOLT_PATH"])
	if err != nil {
		t.Fatal(err)
	}
	svc := merge.NewService(st, st)
	if _, err := svc.CreateCluster(ctx, merge.Cluster{ID: "demo", Host: "127.0.0.1", Port: d.sb.Port, Transport: merge.TransportBinary,
		Auth: merge.AuthNoSASL, FSDefault: "file://" + d.sb.Dir, MaxRunningTasks: 10}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreatePolicy(ctx, &merge.Policy{Name: "nightly", Enabled: true, MaxRunningPerCluster: 2, MaxTasksPerRun: 10,
		Strategy: merge.StrategySafeMerge}); err != nil {
		t.Fatal(err)
	}
	for _, dt := range dts {
		if _, err := svc.CreateTask(ctx, merge.CreateTaskRequest{ClusterID: "demo", Name: "nightly: m.events " + dt, Database: "m", Table: "events",
			Partitions: []merge.PartitionSpec{{"dt": dt}}, Strategy: merge.StrategySafeMerge, CreatedBy: merge.CreatedByPolicy("nightly")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	d.env["HIVEMERGE_WORKERS"] = "4"
	s := start(t, d.env)
	deadline := time.Now().Add(2 * time.Minute)
	most := 0
	for {
		var page merge.TaskPage
		if status := api(t, s.url, "GET", "/api/v1/tasks/?limit=100", "", &page); status != 200 {
			t.Fatalf("list tasks: %d", status)
		}
		running, done := 0, 0
		for _, task := range page.Tasks {
			switch {
			case task.Status == merge.StatusRunning:
				running++
			case task.Status == merge.StatusSuccess:
				done++
			case !task.Status.Active():
				t.Fatalf("task %s ended %s: %s", task.ID, task.Status, task.Error)
			}
		}
		most = max(most, running)
		if len(page.Tasks) != 10 {
			t.Fatalf("%d tasks listed, want 10", len(page.Tasks))
		}
		if done == 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 10 tasks finished after 2 minutes", done)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if most > 2 {
		t.Errorf("%d tasks ran at once, want at most the policy's 2", most)
	}
	if most == 0 {
		t.Errorf("no listing caught a task running")
	}
}
