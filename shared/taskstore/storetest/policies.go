package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// schedulerStores returns the policy and run ports of s: a store that keeps tasks keeps the
// scheduler's policies and run records too.
func schedulerStores(t *testing.T, s Stores) (merge.PolicyStore, merge.RunStore) {
	t.Helper()
	ps, ok := s.Tasks.(merge.PolicyStore)
	if !ok {
		t.Fatalf("%T does not implement merge.PolicyStore", s.Tasks)
	}
	rs, ok := s.Tasks.(merge.RunStore)
	if !ok {
		t.Fatalf("%T does not implement merge.RunStore", s.Tasks)
	}
	return ps, rs
}

// runSchedulerCases runs the cases of the policy and run ports, each on fresh stores.
func runSchedulerCases(t *testing.T, newStores func(t *testing.T) Stores) {
	for _, c := range []struct {
		name string
		run  func(t *testing.T, ps merge.PolicyStore, rs merge.RunStore)
	}{
		{"Policies", testPolicies},
		{"RunsCreateGetUpdate", testRunsCreateGetUpdate},
		{"RunsConcurrentClaim", testRunsConcurrentClaim},
		{"RunsList", testRunsList},
		{"RunsDeleteBefore", testRunsDeleteBefore},
	} {
		t.Run(c.name, func(t *testing.T) {
			ps, rs := schedulerStores(t, newStores(t))
			c.run(t, ps, rs)
		})
	}
}

func policy(name string) *merge.Policy {
	p := merge.DefaultPolicy()
	p.Name = name
	p.Databases = []string{"web", "sales_*"}
	p.Exclude = []string{"prod/web.tmp_*"}
	p.MinSmallFiles = 10
	p.MinSmallFileRatio = 0.25
	p.Windows = []merge.Window{{Start: "CRON_TZ=Europe/Paris 0 1 * * *", DurationMinutes: 240}}
	p.CreatedAt, p.UpdatedAt = at(0), at(1)
	return &p
}

func testPolicies(t *testing.T, ps merge.PolicyStore, _ merge.RunStore) {
	ctx := context.Background()
	b, a := policy("b-nightly"), policy("a-weekly")
	a.DryRun, a.Enabled, a.Windows = true, false, nil
	for _, p := range []*merge.Policy{b, a} {
		if err := ps.CreatePolicy(ctx, p); err != nil {
			t.Fatalf("CreatePolicy(%s): %v", p.Name, err)
		}
	}
	wantErr(t, "create duplicate", ps.CreatePolicy(ctx, policy("a-weekly")), merge.ErrConflict)
	got, err := ps.GetPolicy(ctx, "b-nightly")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "GetPolicy", got, b)
	list, err := ps.ListPolicies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "ListPolicies (by name)", list, []*merge.Policy{a, b})

	b.MinSmallFiles, b.Windows, b.UpdatedAt = 99, nil, at(5)
	if err := ps.UpdatePolicy(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err = ps.GetPolicy(ctx, "b-nightly")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "GetPolicy after update", got, b)

	if err := ps.DeletePolicy(ctx, "a-weekly"); err != nil {
		t.Fatal(err)
	}
	_, err = ps.GetPolicy(ctx, "a-weekly")
	wantErr(t, "get deleted", err, merge.ErrNotFound)
	wantErr(t, "delete deleted", ps.DeletePolicy(ctx, "a-weekly"), merge.ErrNotFound)
	wantErr(t, "update missing", ps.UpdatePolicy(ctx, policy("missing")), merge.ErrNotFound)
	_, err = ps.GetPolicy(ctx, "")
	wantErr(t, "get empty name", err, merge.ErrNotFound)
}

func run(job string, slot time.Time) *merge.Run {
	return &merge.Run{ID: merge.RunID(job, slot), Job: job, Slot: slot, Status: merge.RunRunning,
		StartedAt: slot.Add(time.Second), Owner: "host-1/42"}
}

func testRunsCreateGetUpdate(t *testing.T, _ merge.PolicyStore, rs merge.RunStore) {
	ctx := context.Background()
	r := run("check-pending", at(0))
	if err := rs.CreateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := rs.GetRun(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "GetRun", got, r)
	wantErr(t, "create duplicate", rs.CreateRun(ctx, run("check-pending", at(0))), merge.ErrConflict)

	r.Status, r.FinishedAt, r.DurationMS = merge.RunFailed, at(3), 2000
	r.Counts, r.Summary, r.Errors = map[string]int64{"requeued": 2}, "requeued 2 tasks", []string{"store unavailable"}
	if err := rs.UpdateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err = rs.GetRun(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "GetRun after update", got, r)
	_, err = rs.GetRun(ctx, "missing")
	wantErr(t, "get missing", err, merge.ErrNotFound)
	wantErr(t, "update missing", rs.UpdateRun(ctx, run("retention", at(9))), merge.ErrNotFound)
	wantErr(t, "create without id", rs.CreateRun(ctx, &merge.Run{Job: "x"}), merge.ErrInvalid)
}

// testRunsConcurrentClaim is what keeps two schedulers from running one slot twice: of many
// concurrent creates of one run ID exactly one succeeds and the others conflict.
func testRunsConcurrentClaim(t *testing.T, _ merge.PolicyStore, rs merge.RunStore) {
	const n = 16
	slot := at(0)
	errs := parallel(n, func(i int) error {
		r := run("retention", slot)
		r.Owner = fmt.Sprintf("scheduler-%d", i)
		return rs.CreateRun(context.Background(), r)
	})
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, merge.ErrConflict):
			t.Errorf("claim %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d claims of one slot succeeded, want exactly 1", won)
	}
}

func runIDs(runs []*merge.Run) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	return out
}

func listAllRuns(t *testing.T, rs merge.RunStore, f merge.RunFilter) []*merge.Run {
	t.Helper()
	var out []*merge.Run
	for range 100 {
		page, err := rs.ListRuns(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if f.Limit > 0 && len(page.Runs) > f.Limit {
			t.Fatalf("page of %d runs, limit %d", len(page.Runs), f.Limit)
		}
		out = append(out, page.Runs...)
		if page.NextPageToken == "" {
			return out
		}
		f.PageToken = page.NextPageToken
	}
	t.Fatal("listing never ended")
	return nil
}

func testRunsList(t *testing.T, _ merge.PolicyStore, rs merge.RunStore) {
	ctx := context.Background()
	var all, retention []string
	for i := range 7 {
		job := "check-pending"
		if i%3 == 0 {
			job = "retention"
		}
		r := run(job, at(i*60))
		if err := rs.CreateRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		all = append([]string{r.ID}, all...)
		if job == "retention" {
			retention = append([]string{r.ID}, retention...)
		}
	}
	for _, tc := range []struct {
		name string
		f    merge.RunFilter
		want []string
	}{
		{"all", merge.RunFilter{}, all},
		{"all_paged", merge.RunFilter{Limit: 2}, all},
		{"by_job", merge.RunFilter{Job: "retention"}, retention},
		{"by_job_paged", merge.RunFilter{Job: "retention", Limit: 1}, retention},
		{"unknown_job", merge.RunFilter{Job: "scan"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sameJSON(t, "run ids, newest first", runIDs(listAllRuns(t, rs, tc.f)), tc.want)
		})
	}
	_, err := rs.ListRuns(ctx, merge.RunFilter{PageToken: "not a token"})
	wantErr(t, "invalid page token", err, merge.ErrInvalid)
}

func testRunsDeleteBefore(t *testing.T, _ merge.PolicyStore, rs merge.RunStore) {
	ctx := context.Background()
	var kept []string
	for i := range 6 {
		r := run("retention", at(i*3600))
		if i%2 == 1 {
			r.Job, r.ID = "check-pending", merge.RunID("check-pending", r.Slot)
		}
		if err := rs.CreateRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		if i >= 3 {
			kept = append([]string{r.ID}, kept...)
		}
	}
	n, err := rs.DeleteRunsBefore(ctx, at(3*3600))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("DeleteRunsBefore removed %d, want 3", n)
	}
	sameJSON(t, "runs left", runIDs(listAllRuns(t, rs, merge.RunFilter{})), kept)
	if got := listAllRuns(t, rs, merge.RunFilter{Job: "retention"}); len(got) != 1 || got[0].ID != merge.RunID("retention", at(4*3600)) {
		t.Errorf("retention runs left: %v", runIDs(got))
	}
	if n, err := rs.DeleteRunsBefore(ctx, at(3*3600)); err != nil || n != 0 {
		t.Errorf("second DeleteRunsBefore = %d, %v; want 0, nil", n, err)
	}
}
