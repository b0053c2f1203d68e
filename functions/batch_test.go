package functions

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/scheduler"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// TestPolicyDryRunAndBatchCreate serves a policy over metrics stored in bolt: the dry run
// answers the one table that passes its thresholds, with its reason, and the tables it leaves
// alone with theirs, and creates nothing; the batch-create job, through the job endpoint and
// its standalone function, then creates that one task once.
func TestPolicyDryRunAndBatchCreate(t *testing.T) {
	st := openBolt(t)
	e := newEnv(t, st, nil)
	jobs := scheduler.NewService(e.svc, st, nil, scheduler.ServiceConfig{Owner: "test"})
	jobs.RegisterPolicyJobs(scheduler.PolicyJobs{Policies: st, Metrics: st})
	e.srv.WithScheduling(Scheduling{Policies: merge.NewPolicies(st, scheduler.Windows{}), Jobs: jobs, Planner: jobs.Planner(st)})

	old := time.Now().Add(-24 * time.Hour).UTC()
	table := func(name string, small int64, score int, merge_ bool) *merge.TableMetrics {
		m := &merge.TableMetrics{ClusterID: "demo", Database: "web", Table: name, ScanID: "s1", ScannedAt: old, TableType: "MANAGED_TABLE", Format: "parquet"}
		m.Stats = merge.FileStats{Files: 100, SmallFiles: small, Bytes: 100 << 20, LastModified: old}
		m.NeedsMerge, m.Health.Score, m.Savings = true, score, merge.Savings{Files: small - 1}
		m.Recommendation = merge.Recommendation{Merge: merge_, Rule: "auto-rewrite", Reason: "do not merge: refused"}
		return m
	}
	for _, m := range []*merge.TableMetrics{table("clicks", 90, 20, true), table("healthy", 90, 80, true), table("refused", 90, 20, false), table("few", 5, 20, true)} {
		if err := st.SaveTableMetrics(t.Context(), m, []merge.PartitionMetrics{{Evaluation: m.Evaluation}}, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if r := e.do(t, http.MethodPost, "/api/v1/policies", operatorToken, map[string]any{
		"name": "web", "databases": []string{"web"}, "min_small_files": 10, "max_health_score": 60, "strategy": "safe_merge",
	}); r.status != http.StatusCreated {
		t.Fatalf("create policy: %d %s", r.status, r.body)
	}

	var plan merge.Plan
	r := e.do(t, http.MethodPost, "/api/v1/policies/web/dry-run", viewerToken, nil)
	if r.status != http.StatusOK {
		t.Fatalf("dry run: %d %s", r.status, r.body)
	}
	r.json(t, &plan)
	if len(plan.Candidates) != 1 || plan.Candidates[0].Table != "clicks" || !strings.Contains(plan.Candidates[0].Reason, "removes 89 files") {
		t.Errorf("candidates %+v", plan.Candidates)
	}
	reasons := map[string]string{}
	for _, s := range plan.Skipped {
		reasons[s.Table] = s.Reason
	}
	for tbl, want := range map[string]string{"healthy": "above max_health_score 60", "refused": "recommends against", "few": "fewer than min_small_files"} {
		if !strings.Contains(reasons[tbl], want) {
			t.Errorf("skipped %s: %q, want %q", tbl, reasons[tbl], want)
		}
	}
	if n := len(allTasks(t, st)); n != 0 {
		t.Errorf("the dry run created %d tasks", n)
	}
	for _, tc := range []struct {
		name, path, token string
		want              int
	}{
		{"unknown policy", "/api/v1/policies/nope/dry-run", viewerToken, http.StatusNotFound},
		{"standalone", "/DryRunPolicy?name=web", viewerToken, http.StatusOK},
		{"no token", "/api/v1/policies/web/dry-run", "", http.StatusUnauthorized},
		{"viewer may not create", "/api/v1/scheduler/jobs/batch-create/run", viewerToken, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := e.do(t, http.MethodPost, tc.path, tc.token, nil); r.status != tc.want {
				t.Errorf("%d %s, want %d", r.status, r.body, tc.want)
			}
		})
	}

	var run merge.Run
	r = e.do(t, http.MethodPost, "/api/v1/scheduler/jobs/batch-create/run", operatorToken, "{}")
	r.json(t, &run)
	if r.status != http.StatusOK || run.Status != merge.RunSucceeded || run.Counts["created"] != 1 {
		t.Fatalf("batch-create: %d %s", r.status, r.body)
	}
	tasks := allTasks(t, st)
	if len(tasks) != 1 || tasks[0].Table != "clicks" || tasks[0].CreatedBy != "scheduler:web" || tasks[0].Strategy != merge.StrategySafeMerge {
		t.Fatalf("tasks %+v", tasks)
	}
	slot := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	r = e.do(t, http.MethodPost, "/BatchCreateTasks", operatorToken, nil, cloudSchedulerTime, slot)
	r.json(t, &run)
	if r.status != http.StatusOK || run.Counts["created"] != 0 || run.Counts["already_active"] != 1 || run.Job != "batch-create" {
		t.Errorf("second run: %d %s", r.status, r.body)
	}
	if n := len(allTasks(t, st)); n != 1 {
		t.Errorf("%d tasks after a second run, want 1", n)
	}
}
