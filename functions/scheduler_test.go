package functions

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

func TestCheckPending(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t), nil)
			created := e.do(t, http.MethodPost, "/api/v1/tasks/", operatorToken, map[string]any{
				"cluster_id": "demo", "task_name": "t1", "database_name": "sales", "table_name": "orders",
			})
			if created.status != http.StatusCreated {
				t.Fatalf("create: %d %s", created.status, created.body)
			}
			id := idOf(t, created)
			// A worker that claimed the task and died: its lease is in the past.
			if _, err := e.store.UpdateTask(t.Context(), id, func(task *merge.Task) error {
				task.Status = merge.StatusRunning
				task.LeaseOwner = "dead-worker"
				task.LeaseExpires = time.Now().Add(-time.Minute)
				return nil
			}); err != nil {
				t.Fatal(err)
			}

			for _, tc := range []struct {
				name, path, token string
				body              any
				wantStatus        int
				wantRequeued      int
			}{
				{"viewer_refused", "/api/v1/scheduler/check-pending", viewerToken, "{}", http.StatusForbidden, -1},
				{"unknown_field", "/api/v1/scheduler/check-pending", operatorToken, `{"max_tasks":1}`, http.StatusBadRequest, -1},
				{"requeues_expired", "/api/v1/scheduler/check-pending", operatorToken, "{}", http.StatusOK, 1},
				{"nothing_left", "/CheckPending", operatorToken, nil, http.StatusOK, 0},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := e.do(t, http.MethodPost, tc.path, tc.token, tc.body)
					if r.status != tc.wantStatus {
						t.Fatalf("status %d, want %d: %s", r.status, tc.wantStatus, r.body)
					}
					if tc.wantRequeued < 0 {
						return
					}
					var got struct{ Requeued int }
					r.json(t, &got)
					if got.Requeued != tc.wantRequeued {
						t.Fatalf("requeued %d, want %d", got.Requeued, tc.wantRequeued)
					}
				})
			}
			task, err := e.svc.GetTask(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if task.Status != merge.StatusPending || task.LeaseOwner != "" {
				t.Fatalf("after check-pending: status %s, lease owner %q", task.Status, task.LeaseOwner)
			}
		})
	}
}

// TestSchedulerJobsAndRuns runs jobs over HTTP and lists their records: a run claims its slot
// (Cloud Scheduler's retry of one run is a 409), an unknown job is a 404 naming the known
// ones, and the listing filters by job and pages with tokens bound to the job.
func TestSchedulerJobsAndRuns(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	created := e.do(t, http.MethodPost, "/api/v1/tasks/", operatorToken, map[string]any{
		"cluster_id": "demo", "task_name": "t1", "database_name": "sales", "table_name": "orders",
	})
	id := idOf(t, created)
	if _, err := e.store.UpdateTask(t.Context(), id, func(task *merge.Task) error {
		task.Status, task.LeaseOwner, task.LeaseExpires = merge.StatusRunning, "dead-worker", time.Now().Add(-time.Minute)
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Slots of the last hour: the retention job run below keeps them.
	slot := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	scheduled, later := slot.Format(time.RFC3339), slot.Add(time.Minute).Format(time.RFC3339)
	cp1, cp2, ret := merge.RunID("check-pending", slot), merge.RunID("check-pending", slot.Add(time.Minute)), merge.RunID("retention", slot)
	r := e.do(t, http.MethodPost, "/api/v1/scheduler/jobs/check-pending/run", operatorToken, "{}", cloudSchedulerTime, scheduled)
	if r.status != http.StatusOK {
		t.Fatalf("run check-pending: %d %s", r.status, r.body)
	}
	var run merge.Run
	r.json(t, &run)
	if run.ID != cp1 || run.Status != merge.RunSucceeded || run.Counts["requeued"] != 1 || run.Owner != "api:otto" {
		t.Errorf("run = %+v", run)
	}
	if task, _ := e.svc.GetTask(t.Context(), id); task.Status != merge.StatusPending {
		t.Errorf("task after check-pending: %s", task.Status)
	}

	for _, tc := range []struct {
		name, path, token string
		header            []string
		wantStatus        int
		wantMsg           string
	}{
		{"retry_of_one_slot", "/api/v1/scheduler/jobs/check-pending/run", operatorToken, []string{cloudSchedulerTime, scheduled}, http.StatusConflict, "already ran"},
		{"viewer_refused", "/api/v1/scheduler/jobs/retention/run", viewerToken, nil, http.StatusForbidden, "operator"},
		{"unknown_job", "/api/v1/scheduler/jobs/scan/run", operatorToken, nil, http.StatusNotFound, "the jobs are check-pending, retention"},
		{"bad_schedule_time", "/api/v1/scheduler/jobs/retention/run", operatorToken, []string{cloudSchedulerTime, "yesterday"}, http.StatusBadRequest, cloudSchedulerTime},
		{"schedule_time_far_away", "/api/v1/scheduler/jobs/retention/run", operatorToken, []string{cloudSchedulerTime, "2001-01-01T00:00:00Z"}, http.StatusBadRequest, "within"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, http.MethodPost, tc.path, tc.token, nil, tc.header...)
			if r.status != tc.wantStatus || !strings.Contains(string(r.body), tc.wantMsg) {
				t.Fatalf("%d %s, want %d mentioning %q", r.status, r.body, tc.wantStatus, tc.wantMsg)
			}
		})
	}
	// The standalone function takes the job as ?name=.
	if r := e.do(t, http.MethodPost, "/RunSchedulerJob?name=retention", operatorToken, nil, cloudSchedulerTime, scheduled); r.status != http.StatusOK {
		t.Fatalf("RunSchedulerJob: %d %s", r.status, r.body)
	}
	if r := e.do(t, http.MethodPost, "/api/v1/scheduler/jobs/check-pending/run", operatorToken, nil, cloudSchedulerTime, later); r.status != http.StatusOK {
		t.Fatalf("next slot: %d %s", r.status, r.body)
	}

	var all merge.RunPage
	e.do(t, http.MethodGet, "/api/v1/scheduler/runs", viewerToken, nil).json(t, &all)
	// Equal slots are ordered by run id, descending.
	if got, want := runIDs(all.Runs), strings.Join([]string{cp2, ret, cp1}, ","); got != want {
		t.Errorf("all runs: %s, want %s", got, want)
	}
	var page merge.RunPage
	e.do(t, http.MethodGet, "/api/v1/scheduler/runs?job=check-pending&limit=1", viewerToken, nil).json(t, &page)
	if got := runIDs(page.Runs); got != cp2 || page.NextPageToken == "" {
		t.Fatalf("first page: %s, token %q", got, page.NextPageToken)
	}
	if r := e.do(t, http.MethodGet, "/ListSchedulerRuns?job=retention&page_token="+page.NextPageToken, viewerToken, nil); r.status != http.StatusBadRequest {
		t.Errorf("a token of another job: %d %s", r.status, r.body)
	}
	var next merge.RunPage
	e.do(t, http.MethodGet, "/api/v1/scheduler/runs?job=check-pending&limit=1&page_token="+page.NextPageToken, viewerToken, nil).json(t, &next)
	if got := runIDs(next.Runs); got != cp1 || next.NextPageToken != "" {
		t.Errorf("second page: %s, token %q", got, next.NextPageToken)
	}
	if r := e.do(t, http.MethodGet, "/api/v1/scheduler/runs?job=Bad_Job", viewerToken, nil); r.status != http.StatusBadRequest {
		t.Errorf("invalid job filter: %d %s", r.status, r.body)
	}
}

func runIDs(runs []*merge.Run) string {
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	return strings.Join(ids, ",")
}
