package merge_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
)

func TestPolicyEvaluate(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	old, recent := now.Add(-3*time.Hour), now.Add(-10*time.Minute)
	part := func(name string, saved int64, mod time.Time, merge_ bool) merge.PartitionMetrics {
		pm := merge.PartitionMetrics{Partition: name}
		pm.NeedsMerge, pm.Savings.Files, pm.Stats.LastModified = saved > 0, saved, mod
		pm.Recommendation = merge.Recommendation{Merge: merge_, Rule: "auto-rewrite"}
		if !merge_ {
			pm.Recommendation.Rule = merge.RuleTooLarge
		}
		return pm
	}
	table := func(keys ...string) *merge.TableMetrics {
		m := &merge.TableMetrics{ClusterID: "prod", Database: "web", Table: "clicks", PartitionKeys: keys}
		m.Stats = merge.FileStats{Files: 100, SmallFiles: 80, LastModified: old}
		m.NeedsMerge, m.Health.Score, m.Savings.Files = true, 30, 70
		m.Recommendation = merge.Recommendation{Merge: true, Rule: "auto-rewrite"}
		return m
	}
	pol := merge.DefaultPolicy()
	pol.Name, pol.MinSmallFiles, pol.MinSmallFileRatio, pol.MaxHealthScore, pol.QuietPeriodMinutes = "p", 50, 0.5, 40, 60
	for _, tc := range []struct {
		name     string
		m        *merge.TableMetrics
		parts    []merge.PartitionMetrics
		edit     func(m *merge.TableMetrics)
		wantSkip string
		wantPart string
	}{
		{name: "unpartitioned passes", m: table()},
		{name: "scan error", m: table(), edit: func(m *merge.TableMetrics) { m.Error = "boom" }, wantSkip: "could not measure"},
		{name: "refused", m: table(), edit: func(m *merge.TableMetrics) {
			m.Recommendation = merge.Recommendation{Rule: "acid", Reason: "do not merge: acid"}
		}, wantSkip: "recommends against"},
		{name: "scan-time quiet period is judged again", m: table(), edit: func(m *merge.TableMetrics) { m.Recommendation = merge.Recommendation{Rule: merge.RuleQuietPeriod} }},
		{name: "few small files", m: table(), edit: func(m *merge.TableMetrics) { m.Stats.SmallFiles = 49 }, wantSkip: "min_small_files"},
		{name: "low ratio", m: table(), edit: func(m *merge.TableMetrics) { m.Stats.Files = 200 }, wantSkip: "min_small_file_ratio"},
		{name: "healthy", m: table(), edit: func(m *merge.TableMetrics) { m.Health.Score = 41 }, wantSkip: "max_health_score"},
		{name: "written recently", m: table(), edit: func(m *merge.TableMetrics) { m.Stats.LastModified = recent }, wantSkip: "quiet period"},
		{name: "partitions: quiet, needing a merge, not refused", m: table("dt"),
			parts:    []merge.PartitionMetrics{part("dt=1", 5, old, true), part("dt=2", 0, old, true), part("dt=3", 9, recent, true), part("dt=4", 7, old, false), part("dt=a%2Fb", 3, old, true)},
			wantPart: "dt=1 dt=a/b"},
		{name: "every partition recent", m: table("dt"), parts: []merge.PartitionMetrics{part("dt=3", 9, recent, true)}, wantSkip: "within the quiet period"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.edit != nil {
				tc.edit(tc.m)
			}
			c, why := pol.Evaluate(tc.m, tc.parts, now)
			skip := why.Text
			if tc.wantSkip != "" {
				if !strings.Contains(skip, tc.wantSkip) {
					t.Fatalf("skip %q, want %q", skip, tc.wantSkip)
				}
				return
			}
			if skip != "" || c.Reason == "" {
				t.Fatalf("skipped: %q", skip)
			}
			var got []string
			for _, p := range c.Partitions {
				got = append(got, p.String())
			}
			if strings.Join(got, " ") != tc.wantPart {
				t.Errorf("partitions %v, want %s", got, tc.wantPart)
			}
		})
	}
}

func TestParsePartitionName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "dt=2024-01-01/hr=00", want: "dt=2024-01-01/hr=00"},
		{in: "DT=x%3Ay", want: "dt=x:y"},
		{in: "dt", bad: true},
		{in: "dt=%zz", bad: true},
		{in: "dt=a%27b", bad: true}, // a quote never reaches a task
	} {
		got, err := merge.ParsePartitionName(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && got.String() != tc.want) {
			t.Errorf("%q: %v %v", tc.in, got, err)
		}
	}
}

// TestCreatePlanStoreFailure: when the store fails, the run says so and counts the candidates
// it could not create as left for later, none as created.
func TestCreatePlanStoreFailure(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "hivemerge.db"))
	if err != nil {
		t.Fatal(err)
	}
	svc := merge.NewService(st, st)
	if _, err := svc.CreateCluster(t.Context(), merge.Cluster{ID: "prod", Host: "hive.example.com", Auth: merge.AuthNoSASL}); err != nil {
		t.Fatal(err)
	}
	pol := merge.DefaultPolicy()
	pol.Name = "p"
	plan := &merge.Plan{Candidates: []merge.Candidate{{ClusterID: "prod", Database: "web", Table: "a"}, {ClusterID: "prod", Database: "web", Table: "b"}, {ClusterID: "prod", Database: "web", Table: "c"}}}
	// One run succeeds, then the store goes away: the next run's two attempts fail and the
	// third candidate is not tried.
	if res, err := svc.CreatePlan(t.Context(), &pol, &merge.Plan{Candidates: plan.Candidates[:1]}, 1); err != nil || len(res.Created) != 1 {
		t.Fatalf("first run: %+v %v", res, err)
	}
	st.Close()
	res, err := svc.CreatePlan(t.Context(), &pol, plan, 2)
	if err == nil || len(res.Created) != 0 || res.Capped != 3 {
		t.Errorf("on a closed store: %+v, %v; want an error and 3 capped", res, err)
	}
}
