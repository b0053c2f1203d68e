package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/idtoken"

	"github.com/hivemerge/hivemerge/functions"
	"github.com/hivemerge/hivemerge/scheduler"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/sandboxtest"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// dispatcherEmail is the service account the API and RunSchedulerJob functions run as.
const dispatcherEmail = "api@hm-test.iam.gserviceaccount.com"

// testIDToken stands in for a Google ID token minted for audience: header.payload.signature
// with the audience in the payload, which testValidate checks as idtoken.Validate would.
func testIDToken(_ context.Context, audience string) (string, error) {
	return "eyJ0ZXN0IjoxfQ." + base64.RawURLEncoding.EncodeToString([]byte(audience)) + ".c2ln", nil
}

// testValidate accepts the tokens of testIDToken for their audience only, as the service
// account dispatcherEmail.
func testValidate(_ context.Context, token, audience string) (*idtoken.Payload, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	aud, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || string(aud) != audience {
		return nil, fmt.Errorf("audience %q, want %q", aud, audience)
	}
	return &idtoken.Payload{Issuer: "https://accounts.google.com", Audience: audience,
		Claims: map[string]any{"email": dispatcherEmail, "email_verified": true}}, nil
}

// deployment is two functions of a deployment on one store: ExecuteTask (the real functions
// Server with a ModeSync engine, behind an HTTP server, checking ID tokens for its URL) and
// an engine in ModeRemote that hands tasks to it, as the API and RunSchedulerJob do.
type deployment struct {
	app     *App
	execute *httptest.Server
	remote  *Engine
	cluster string
}

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	ctx := context.Background()
	env := map[string]string{"HIVEMERGE_STORE": "bolt", "HIVEMERGE_BOLT_PATH": filepath.Join(t.TempDir(), "hivemerge.db")}
	a, err := Open(ctx, func(k string) string { return env[k] }, nil, Options{Mode: ModeSync, Owner: "execute-task"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })

	execute := httptest.NewServer(nil)
	t.Cleanup(execute.Close)
	auth, err := functions.NewAuthenticator(functions.AuthConfig{OIDCAudience: execute.URL,
		OIDCRoles: map[string]functions.Role{dispatcherEmail: functions.RoleOperator}})
	if err != nil {
		t.Fatal(err)
	}
	auth.Validate = testValidate
	srv := functions.NewServer(a.Service, auth, nil).WithEngine(a.Engine)
	for _, f := range srv.Functions() {
		if f.Name == ExecuteFunction {
			execute.Config.Handler = f.Handler
		}
	}

	d := &deployment{app: a, execute: execute, cluster: "c1"}
	d.remote = d.remoteEngine(t, execute.URL)
	reg, sb := startSandbox(t, d.cluster)
	if _, err := a.Service.CreateCluster(ctx, reg); err != nil {
		t.Fatal(err)
	}
	d.table(t, sb)
	return d
}

// remoteEngine is an engine in ModeRemote on d's store that hands tasks to target.
func (d *deployment) remoteEngine(t *testing.T, target string) *Engine {
	t.Helper()
	e := newEngine(d.app.Service, d.app.clusters, engineSettings{mode: ModeRemote, owner: "api"}, slog.New(slog.DiscardHandler))
	e.remote = newRemote(e.ctx, target, testIDToken, d.app.Service, e.log)
	t.Cleanup(e.stop)
	return e
}

// table creates m.events on the cluster's sandbox: two partitions of four small files.
func (d *deployment) table(t *testing.T, sb *sandboxtest.Sandbox) {
	t.Helper()
	client := sb.Client(t, hive.Config{Name: "setup", PollInterval: 5 * time.Millisecond})
	sb.Exec(t, client,
		"CREATE DATABASE IF NOT EXISTS m",
		"CREATE TABLE m.events (id bigint, msg string) PARTITIONED BY (dt string) STORED AS TEXTFILE",
	)
	for _, dt := range []string{"2024-01-01", "2024-01-02"} {
		sb.AppendFiles(t, "m", "events", map[string]string{"dt": dt}, 4, func(i int) [][]string {
			id := strconv.Itoa(i)
			return [][]string{{id, "v" + id}}
		})
	}
}

// task creates a pending task merging one partition of m.events.
func (d *deployment) task(t *testing.T, dt, by string) *merge.Task {
	t.Helper()
	task, err := d.app.Service.CreateTask(context.Background(), merge.CreateTaskRequest{ClusterID: d.cluster, Name: "events " + dt,
		Database: "m", Table: "events", Partitions: []merge.PartitionSpec{{"dt": dt}}, Strategy: merge.StrategySafeMerge, CreatedBy: by})
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func (d *deployment) get(t *testing.T, id string) *merge.Task {
	t.Helper()
	task, err := d.app.Service.GetTask(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

// requestedBy reports whether the task's log says ExecuteTask ran it for the dispatcher's
// service account, which only a verified ID token makes the caller.
func (d *deployment) requestedBy(t *testing.T, id, who string) bool {
	t.Helper()
	logs, err := d.app.Service.TaskLogs(context.Background(), id, 0, merge.MaxListLimit)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range logs {
		if l.Message == "execution requested by "+who {
			return true
		}
	}
	return false
}

// TestDispatchHandsTasksToExecuteTask: the dispatch job of a deployment hands the pending
// tasks of an enabled policy to ExecuteTask, which accepts the dispatcher's ID token and runs
// them to success.
func TestDispatchHandsTasksToExecuteTask(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	if err := d.app.Store.CreatePolicy(ctx, &merge.Policy{Name: "nightly", Enabled: true, MaxTasksPerRun: 10, Strategy: merge.StrategySafeMerge}); err != nil {
		t.Fatal(err)
	}
	first := d.task(t, "2024-01-01", merge.CreatedByPolicy("nightly"))
	second := d.task(t, "2024-01-02", merge.CreatedByPolicy("nightly"))

	jobs := scheduler.NewService(d.app.Service, d.app.Store, nil, scheduler.ServiceConfig{Owner: "test"})
	d.remote.RegisterJobs(jobs, d.app.Store)
	run, err := jobs.Run(ctx, scheduler.JobDispatch, time.Now().UTC().Truncate(time.Second), "test")
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != merge.RunSucceeded || run.Counts["dispatched"] != 2 {
		t.Fatalf("run %s, counts %v, errors %v; want succeeded with 2 dispatched", run.Status, run.Counts, run.Errors)
	}
	d.remote.remote.wait() // the held requests end when ExecuteTask has run the tasks
	for _, id := range []string{first.ID, second.ID} {
		task := d.get(t, id)
		if task.Status != merge.StatusSuccess {
			t.Errorf("task %s: %s (%s), want success", id, task.Status, task.Error)
		}
		if !d.requestedBy(t, id, dispatcherEmail) {
			t.Errorf("task %s: no execution requested by %s in its log", id, dispatcherEmail)
		}
	}
}

// TestDispatchHandOffFails: when ExecuteTask cannot be reached, or refuses the dispatcher's
// token, the dispatch run fails saying so and the task stays pending for the next run.
func TestDispatchHandOffFails(t *testing.T) {
	for _, c := range []struct {
		name   string
		target func(d *deployment) string
		reason string
	}{
		{"ExecuteTask down", func(*deployment) string {
			down := httptest.NewServer(nil)
			down.Close()
			return down.URL
		}, "could not be reached"},
		// A token minted for another audience is refused: ExecuteTask answers 401.
		{"wrong audience", func(d *deployment) string {
			return strings.Replace(d.execute.URL, "127.0.0.1", "localhost", 1)
		}, "answered 401"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			d := newDeployment(t)
			if err := d.app.Store.CreatePolicy(ctx, &merge.Policy{Name: "nightly", Enabled: true, MaxTasksPerRun: 10, Strategy: merge.StrategySafeMerge}); err != nil {
				t.Fatal(err)
			}
			task := d.task(t, "2024-01-01", merge.CreatedByPolicy("nightly"))
			remote := d.remoteEngine(t, c.target(d))
			jobs := scheduler.NewService(d.app.Service, d.app.Store, nil, scheduler.ServiceConfig{Owner: "test"})
			remote.RegisterJobs(jobs, d.app.Store)
			run, err := jobs.Run(ctx, scheduler.JobDispatch, time.Now().UTC().Truncate(time.Second), "test")
			if err != nil {
				t.Fatal(err)
			}
			if run.Status != merge.RunFailed || len(run.Errors) != 1 || !strings.Contains(run.Errors[0], "could not hand task "+task.ID) ||
				!strings.Contains(run.Errors[0], c.reason) {
				t.Errorf("run %s, errors %q; want failed, naming the task and %q", run.Status, run.Errors, c.reason)
			}
			remote.remote.wait()
			if got := d.get(t, task.ID); got.Status != merge.StatusPending {
				t.Errorf("task is %s, want pending", got.Status)
			}
		})
	}
}

// TestExecuteRemote: the API of a deployment answers an execute request with 202 once
// ExecuteTask has claimed the task, which then runs to success there; with ExecuteTask down
// it answers 503 saying the task stays pending.
func TestExecuteRemote(t *testing.T) {
	const token = "operator-token-0123456789"
	for _, c := range []struct {
		name       string
		down       bool
		wantStatus int
		want       merge.Status
	}{
		{"handed off", false, http.StatusAccepted, merge.StatusSuccess},
		{"ExecuteTask down", true, http.StatusServiceUnavailable, merge.StatusPending},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newDeployment(t)
			remote := d.remote
			if c.down {
				down := httptest.NewServer(nil)
				down.Close()
				remote = d.remoteEngine(t, down.URL)
			}
			auth, err := functions.NewAuthenticator(functions.AuthConfig{Tokens: []functions.Token{{Name: "otto", Role: "operator", Token: token}}})
			if err != nil {
				t.Fatal(err)
			}
			api := httptest.NewServer(functions.NewServer(d.app.Service, auth, nil).WithEngine(remote).Handler())
			defer api.Close()
			task := d.task(t, "2024-01-02", "otto")

			req, _ := http.NewRequest(http.MethodPost, api.URL+"/api/v1/tasks/"+task.ID+"/execute", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Status merge.Status `json:"status"`
				Error  struct {
					Message string `json:"message"`
				} `json:"error"`
			}
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.wantStatus {
				t.Fatalf("execute answered %d %+v, want %d", resp.StatusCode, body, c.wantStatus)
			}
			if c.down && !strings.Contains(body.Error.Message, "stays pending") {
				t.Errorf("error message %q does not say the task stays pending", body.Error.Message)
			}
			if !c.down && body.Status == merge.StatusPending {
				t.Errorf("answered the task as pending: the API answered before ExecuteTask claimed it")
			}
			remote.remote.wait()
			got := d.get(t, task.ID)
			if got.Status != c.want {
				t.Errorf("task is %s (%s), want %s", got.Status, got.Error, c.want)
			}
			if !c.down && !d.requestedBy(t, task.ID, dispatcherEmail) {
				t.Errorf("ExecuteTask did not run the task for %s", dispatcherEmail)
			}
		})
	}
}

func TestParseFunctionURLs(t *testing.T) {
	for _, c := range []struct {
		name, in, wantErr string
	}{
		{"deployment", `{"API":"https://europe-west1-p.cloudfunctions.net/hm-api","ExecuteTask":"https://europe-west1-p.cloudfunctions.net/hm-execute-task"}`, ""},
		{"loopback http", `{"ExecuteTask":"http://127.0.0.1:8080"}`, ""},
		{"not json", `ExecuteTask=https://x`, "JSON object"},
		{"plain http elsewhere", `{"ExecuteTask":"http://metadata.google.internal/x"}`, "must be https"},
		{"other scheme", `{"ExecuteTask":"ftp://x.example.com/f"}`, "must be https"},
		{"query", `{"ExecuteTask":"https://x.example.com/f?id=other"}`, "without query"},
		{"credentials", `{"ExecuteTask":"https://user:pw@x.example.com/f"}`, "without query"},
		{"relative", `{"ExecuteTask":"/f"}`, "absolute URL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseFunctionURLs(c.in)
			if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Errorf("ParseFunctionURLs(%s) = %v, want %q", c.in, err, c.wantErr)
			}
		})
	}
}

// TestExecuteRemoteConcurrent: thirty execute requests at once, through three API instances
// in remote mode, give one execution in ExecuteTask; each request is accepted or, once the
// task has finished, refused as finished.
func TestExecuteRemoteConcurrent(t *testing.T) {
	const token = "operator-token-0123456789"
	d := newDeployment(t)
	auth, err := functions.NewAuthenticator(functions.AuthConfig{Tokens: []functions.Token{{Name: "otto", Role: "operator", Token: token}}})
	if err != nil {
		t.Fatal(err)
	}
	var apis []*httptest.Server
	var engines []*Engine
	for range 3 {
		e := d.remoteEngine(t, d.execute.URL)
		api := httptest.NewServer(functions.NewServer(d.app.Service, auth, nil).WithEngine(e).Handler())
		defer api.Close()
		apis, engines = append(apis, api), append(engines, e)
	}
	task := d.task(t, "2024-01-01", "otto")

	start := make(chan struct{})
	statuses := make(chan int, 30)
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest(http.MethodPost, apis[i%3].URL+"/api/v1/tasks/"+task.ID+"/execute", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != http.StatusAccepted && s != http.StatusConflict {
			t.Errorf("an execute request answered %d, want 202 or 409", s)
		}
	}
	for _, e := range engines {
		e.remote.wait()
	}
	if got := d.get(t, task.ID); got.Status != merge.StatusSuccess {
		t.Fatalf("task is %s (%s), want success", got.Status, got.Error)
	}
	logs, err := d.app.Service.TaskLogs(context.Background(), task.ID, 0, merge.MaxListLimit)
	if err != nil {
		t.Fatal(err)
	}
	claims := 0
	for _, l := range logs {
		if strings.HasPrefix(l.Message, "claimed by ") {
			claims++
		}
	}
	if claims != 1 {
		t.Errorf("the task was claimed %d times, want once", claims)
	}
}
