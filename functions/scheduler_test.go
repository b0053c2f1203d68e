package functions

import (
	"net/http"
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
