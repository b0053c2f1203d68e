package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/sandboxtest"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// demo is a sandbox with a warehouse, a gohive client on it, and the environment that points
// the local server's demo cluster at it.
type demo struct {
	sb     *sandboxtest.Sandbox
	client *hive.Client
	env    map[string]string
}

func startDemo(t *testing.T) *demo {
	t.Helper()
	sb := sandboxtest.Start(t)
	client := sb.Client(t, hive.Config{Name: "test", PollInterval: 5 * time.Millisecond})
	return &demo{sb: sb, client: client, env: map[string]string{
		"HIVEMERGE_STORE":                  "bolt",
		"HIVEMERGE_BOLT_PATH":              filepath.Join(t.TempDir(), "hivemerge.db"),
		"HIVEMERGE_API_TOKEN":              token,
		"HIVEMERGE_SANDBOX_ADDR":           sb.Addr(),
		"HIVEMERGE_SANDBOX_WAREHOUSE":      sb.Dir,
		"HIVEMERGE_TASK_LEASE":             "3s",
		"HIVEMERGE_SCHEDULE_CHECK_PENDING": "@every 1s",
	}}
}

// table creates m.<name>, partitioned by dt, with files small files of 3 rows in each of two
// partitions.
func (d *demo) table(t *testing.T, name string, files int) {
	t.Helper()
	d.sb.Exec(t, d.client,
		"CREATE DATABASE IF NOT EXISTS m",
		"CREATE TABLE m."+name+" (id bigint, msg string) PARTITIONED BY (dt string) STORED AS TEXTFILE",
	)
	for _, dt := range []string{"2024-01-01", "2024-01-02"} {
		d.sb.AppendFiles(t, "m", name, map[string]string{"dt": dt}, files, func(i int) [][]string {
			var rows [][]string
			for r := range 3 {
				id := strconv.Itoa(i*10 + r)
				rows = append(rows, []string{id, "value-" + dt + "-" + id})
			}
			return rows
		})
	}
}

// tableState is what a user checks of a table: each partition's location, row count and
// checksum.
type tableState map[string]struct {
	location string
	sum      hive.Checksum
}

func (d *demo) state(t *testing.T, name string) tableState {
	t.Helper()
	s := tableState{}
	for _, p := range sandboxtest.Partitions(t, d.client, "m", name) {
		s[p.Name] = struct {
			location string
			sum      hive.Checksum
		}{p.Location, p.Rows}
	}
	return s
}

func sameRows(t *testing.T, what string, got, want tableState) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d partitions, want %d", what, len(got), len(want))
	}
	for name, w := range want {
		if got[name].sum != w.sum {
			t.Errorf("%s: partition %s rows %+v, want %+v", what, name, got[name].sum, w.sum)
		}
	}
}

// dataFiles counts the files under a location as Hive reads them: names starting with '.'
// or '_' are not data.
func dataFiles(t *testing.T, location string) int64 {
	t.Helper()
	l, err := fsys.ParseLocation(location)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	err = filepath.WalkDir(l.Path, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != l.Path && (strings.HasPrefix(e.Name(), ".") || strings.HasPrefix(e.Name(), "_")) {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !e.IsDir() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// tablesIn lists the tables of database m: a merge's temporary tables must not stay.
func (d *demo) tablesIn(t *testing.T) []string {
	t.Helper()
	res, err := d.client.Query(context.Background(), "SHOW TABLES IN m", nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res.Strings() {
		out = append(out, r[0])
	}
	return out
}

// api calls the server as curl would and decodes a JSON answer into out (when not nil).
func api(t *testing.T, base, method, path, body string, out any) int {
	t.Helper()
	status, resp := request(t, method, base+path, body, "Authorization", "Bearer "+token, "Content-Type", "application/json")
	if out != nil && status < 300 {
		if err := json.Unmarshal([]byte(resp), out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, resp)
		}
	}
	if status >= 300 {
		t.Logf("%s %s: %d %s", method, path, status, resp)
	}
	return status
}

func createTask(t *testing.T, base, table string) *merge.Task {
	t.Helper()
	var task merge.Task
	body := fmt.Sprintf(`{"cluster_id":"demo","task_name":"merge %s","database_name":"m","table_name":%q}`, table, table)
	if status := api(t, base, "POST", "/api/v1/tasks/", body, &task); status != 201 {
		t.Fatalf("create task: %d", status)
	}
	return &task
}

// wait polls the task until it is no longer active.
func wait(t *testing.T, base, id string) *merge.Task {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var task merge.Task
		if status := api(t, base, "GET", "/api/v1/tasks/"+id, "", &task); status != 200 {
			t.Fatalf("get task: %d", status)
		}
		if !task.Status.Active() {
			return &task
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s still %s at %s after 2 minutes", id, task.Status, task.Step)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func logsOf(t *testing.T, base, id string) []merge.LogEntry {
	t.Helper()
	var page struct {
		Entries []merge.LogEntry `json:"logs"`
	}
	if status := api(t, base, "GET", "/api/v1/tasks/"+id+"/logs?limit=1000", "", &page); status != 200 {
		t.Fatalf("logs: %d", status)
	}
	return page.Entries
}

// TestMergeWalkThrough is the README's walk-through: create, preview, execute, watch, logs,
// rollback, all over HTTP against the local server and its demo cluster.
func TestMergeWalkThrough(t *testing.T) {
	d := startDemo(t)
	d.table(t, "events", 12)
	before := d.state(t, "events")
	s := start(t, d.env)

	task := createTask(t, s.url, "events")
	var pv merge.Preview
	if status := api(t, s.url, "GET", "/api/v1/tasks/"+task.ID+"/preview", "", &pv); status != 200 {
		t.Fatalf("preview: %d", status)
	}
	if len(pv.Partitions) != 2 {
		t.Fatalf("preview has %d partitions, want 2: %+v", len(pv.Partitions), pv)
	}
	for _, p := range pv.Partitions {
		if onDisk := dataFiles(t, p.Location); p.FilesBefore != onDisk || p.FilesBefore != 12 {
			t.Errorf("preview of %s: files_before %d, %d on disk, want 12", p.Partition, p.FilesBefore, onDisk)
		}
		if p.Skipped || len(p.Statements) == 0 {
			t.Errorf("preview of %s skips it or runs nothing: %+v", p.Partition, p)
		}
	}

	var one merge.Preview
	if status := api(t, s.url, "POST", "/api/v1/tables/demo/m/events/merge-preview", `{"partitions":[{"dt":"2024-01-02"}]}`, &one); status != 200 {
		t.Fatalf("merge-preview: %d", status)
	}
	if len(one.Partitions) != 1 || one.Partitions[0].Partition != "dt=2024-01-02" || one.Partitions[0].FilesBefore != 12 {
		t.Errorf("merge-preview of dt=2024-01-02: %+v", one.Partitions)
	}

	var started merge.Task
	if status := api(t, s.url, "POST", "/api/v1/tasks/"+task.ID+"/execute", "", &started); status != 202 {
		t.Fatalf("execute: %d", status)
	}
	done := wait(t, s.url, task.ID)
	if done.Status != merge.StatusSuccess {
		t.Fatalf("task ended %s: %s", done.Status, done.Error)
	}
	after := d.state(t, "events")
	sameRows(t, "after the merge", after, before)
	for name, p := range after {
		if p.location == before[name].location {
			t.Errorf("partition %s still at %s after the merge", name, p.location)
		}
		if n := dataFiles(t, p.location); n >= 12 {
			t.Errorf("partition %s has %d files after the merge, want fewer than 12", name, n)
		}
	}

	logs := logsOf(t, s.url, task.ID)
	var statements int
	for _, l := range logs {
		if l.SQL != "" {
			statements++
			if l.Step == "" {
				t.Errorf("statement logged without its step: %+v", l)
			}
		}
	}
	if statements < len(pv.Partitions[0].Statements) {
		t.Errorf("the log shows %d statements, want at least the %d the preview listed", statements, len(pv.Partitions[0].Statements))
	}

	var rolled merge.Task
	if status := api(t, s.url, "POST", "/api/v1/tasks/"+task.ID+"/rollback", "", &rolled); status != 200 {
		t.Fatalf("rollback: %d", status)
	}
	back := d.state(t, "events")
	sameRows(t, "after the rollback", back, before)
	for name, p := range back {
		if p.location != before[name].location {
			t.Errorf("partition %s at %s after the rollback, want %s", name, p.location, before[name].location)
		}
	}
	if got := d.tablesIn(t); len(got) != 1 {
		t.Errorf("tables in m: %v, want only events", got)
	}
	// A finished task is not executed again.
	if status := api(t, s.url, "POST", "/api/v1/tasks/"+task.ID+"/execute", "", nil); status != 409 {
		t.Errorf("execute of a finished task: %d, want 409", status)
	}
}

// TestConcurrentExecute: 50 execute calls on one task run it once.
func TestConcurrentExecute(t *testing.T) {
	d := startDemo(t)
	d.table(t, "events", 4)
	before := d.state(t, "events")
	s := start(t, d.env)
	task := createTask(t, s.url, "events")

	var wg sync.WaitGroup
	statuses := make([]int, 50)
	for i := range statuses {
		wg.Go(func() { statuses[i] = api(t, s.url, "POST", "/api/v1/tasks/"+task.ID+"/execute", "", nil) })
	}
	wg.Wait()
	for i, st := range statuses {
		// A call that arrives after the merge finished is told so.
		if st != 202 && st != 409 {
			t.Errorf("call %d: %d, want 202 (or 409 once finished)", i, st)
		}
	}
	done := wait(t, s.url, task.ID)
	if done.Status != merge.StatusSuccess || done.Attempt != 1 {
		t.Fatalf("task ended %s after %d attempts (%s), want success after 1", done.Status, done.Attempt, done.Error)
	}
	claims := 0
	for _, l := range logsOf(t, s.url, task.ID) {
		if strings.HasPrefix(l.Message, "claimed by ") {
			claims++
		}
	}
	if claims != 1 {
		t.Errorf("the task was claimed %d times, want once", claims)
	}
	sameRows(t, "after the merge", d.state(t, "events"), before)
}

// TestExecuteWithinTheRequest: in sync mode, as a deployed ExecuteTask runs, the answer is
// the finished task.
func TestExecuteWithinTheRequest(t *testing.T) {
	d := startDemo(t)
	d.table(t, "events", 4)
	before := d.state(t, "events")
	d.env["HIVEMERGE_EXECUTE_MODE"] = "sync"
	s := start(t, d.env)
	task := createTask(t, s.url, "events")
	var done merge.Task
	if status := api(t, s.url, "POST", "/api/v1/tasks/"+task.ID+"/execute", "", &done); status != 202 {
		t.Fatalf("execute: %d", status)
	}
	if done.Status != merge.StatusSuccess {
		t.Fatalf("execute answered the task %s (%s), want it finished with success", done.Status, done.Error)
	}
	sameRows(t, "after the merge", d.state(t, "events"), before)
}

// TestCancelMidStatement: a cancel while Hive runs the merge's rewrite stops it, and the
// table is as it was.
func TestCancelMidStatement(t *testing.T) {
	d := startDemo(t)
	d.table(t, "events", 4)
	before := d.state(t, "events")
	fired := make(chan struct{}, 1)
	d.sb.Inject(hivesandbox.Fault{Match: `^\s*INSERT`, Action: hivesandbox.FaultHang, Fired: fired})
	s := start(t, d.env)
	task := createTask(t, s.url, "events")
	if status := api(t, s.url, "POST", "/api/v1/tasks/"+task.ID+"/execute", "", nil); status != 202 {
		t.Fatalf("execute: %d", status)
	}
	select {
	case <-fired:
	case <-time.After(time.Minute):
		t.Fatal("the merge never reached its INSERT")
	}
	if status := api(t, s.url, "POST", "/api/v1/tasks/"+task.ID+"/cancel", "", nil); status != 200 {
		t.Fatalf("cancel: %d", status)
	}
	done := wait(t, s.url, task.ID)
	if done.Status != merge.StatusCancelled {
		t.Fatalf("task ended %s (%s), want cancelled", done.Status, done.Error)
	}
	after := d.state(t, "events")
	sameRows(t, "after the cancel", after, before)
	for name, p := range after {
		if p.location != before[name].location {
			t.Errorf("partition %s at %s after the cancel, want %s", name, p.location, before[name].location)
		}
	}
	if got := d.tablesIn(t); len(got) != 1 {
		t.Errorf("tables in m: %v, want only events", got)
	}
}

// TestCreateTaskChecksTheTable: the cluster is asked before a task is stored.
func TestCreateTaskChecksTheTable(t *testing.T) {
	d := startDemo(t)
	d.table(t, "events", 1)
	if err := d.client.Exec(context.Background(), "CREATE TABLE m.ice (id bigint) STORED AS PARQUET TBLPROPERTIES ('table_type'='ICEBERG')", nil); err != nil {
		t.Fatal(err)
	}
	s := start(t, d.env)
	for _, c := range []struct {
		name, body, want string
	}{
		{"missing table", `{"cluster_id":"demo","task_name":"t","database_name":"m","table_name":"nope"}`, "does not exist"},
		{"iceberg", `{"cluster_id":"demo","task_name":"t","database_name":"m","table_name":"ice"}`, "iceberg"},
		{"unknown partition key", `{"cluster_id":"demo","task_name":"t","database_name":"m","table_name":"events","partition_filter":{"hr":"00"}}`, "hr"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := request(t, "POST", s.url+"/api/v1/tasks/", c.body, "Authorization", "Bearer "+token, "Content-Type", "application/json")
			if status != 400 || !strings.Contains(strings.ToLower(body), c.want) {
				t.Errorf("create: %d %s, want 400 saying %q", status, body, c.want)
			}
		})
	}
}

// TestCreateTaskWhileHiveIsDown: a task on a cluster that does not answer is stored, and its
// log says the table is checked when it runs.
func TestCreateTaskWhileHiveIsDown(t *testing.T) {
	d := startDemo(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d.env["HIVEMERGE_SANDBOX_ADDR"] = ln.Addr().String()
	ln.Close() // nothing listens there now
	s := start(t, d.env)
	task := createTask(t, s.url, "events")
	found := false
	for _, l := range logsOf(t, s.url, task.ID) {
		found = found || strings.Contains(l.Message, "checked again when the task runs")
	}
	if !found {
		t.Errorf("the task's log does not say its table was not checked: %+v", logsOf(t, s.url, task.ID))
	}
}

// TestKilledServerResumes builds the local server, kills it with SIGKILL while Hive runs the
// merge's rewrite, and starts it again on the same store: the merge ends, every row is there
// and nothing temporary is visible.
func TestKilledServerResumes(t *testing.T) {
	// -short skips it on a laptop; CI runs it whatever the flags.
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("builds the local server")
	}
	bin := filepath.Join(t.TempDir(), "local")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	d := startDemo(t)
	d.table(t, "events", 6)
	before := d.state(t, "events")
	fired := make(chan struct{}, 1)
	d.sb.Inject(hivesandbox.Fault{Match: `^\s*INSERT`, Action: hivesandbox.FaultHang, Times: 1, Fired: fired})

	first := startBinary(t, bin, d.env)
	task := createTask(t, first.url, "events")
	if status := api(t, first.url, "POST", "/api/v1/tasks/"+task.ID+"/execute", "", nil); status != 202 {
		t.Fatalf("execute: %d", status)
	}
	select {
	case <-fired:
	case <-time.After(time.Minute):
		t.Fatal("the merge never reached its INSERT")
	}
	first.kill(t)

	second := startBinary(t, bin, d.env)
	done := wait(t, second.url, task.ID)
	if done.Status != merge.StatusSuccess && (done.Status != merge.StatusFailed || done.Error == "") {
		t.Fatalf("task ended %s (%q), want success or failed with a message", done.Status, done.Error)
	}
	if done.Attempt < 2 {
		t.Errorf("attempt %d, want the restarted server's run to be a later attempt", done.Attempt)
	}
	sameRows(t, "after the restart", d.state(t, "events"), before)
	if got := d.tablesIn(t); len(got) != 1 {
		t.Errorf("tables in m: %v, want only events", got)
	}
}

type process struct {
	url string
	cmd *exec.Cmd
}

func startBinary(t *testing.T, bin string, env map[string]string) *process {
	t.Helper()
	cmd := exec.Command(bin, "-port", "0")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var line struct{ Message, URL string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "listening" {
			p.url = line.URL
			break
		}
	}
	if p.url == "" {
		t.Fatal("the server did not start")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return p
}

func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}
