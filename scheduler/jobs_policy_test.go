package scheduler

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/discovery"
	"github.com/hivemerge/hivemerge/shared/discovery/discoverytest"
	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/localfs"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/hiveql"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/sandboxtest"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
)

// sandboxEnv is a generated warehouse served by the sandbox, registered as cluster "sb" in a
// bolt store, with a discovery service over it. Every clock runs two hours ahead, past the
// quiet period of the files just generated.
type sandboxEnv struct {
	store *bolt.Store
	tasks *merge.Service
	disc  *discovery.Service
	now   func() time.Time
}

func startSandbox(t *testing.T) *sandboxEnv {
	t.Helper()
	srv := sandboxtest.Start(t)
	if _, err := hiveql.Generate(t.Context(), srv.Warehouse(), hiveql.GenerateOptions{Seed: 7, Scale: 10}); err != nil {
		t.Fatal(err)
	}
	st := openBolt(t)
	now := func() time.Time { return time.Now().Add(2 * time.Hour) }
	tasks := merge.NewService(st, st).WithClock(now)
	if _, err := tasks.CreateCluster(t.Context(), merge.Cluster{ID: "sb", Host: srv.Host, Port: srv.Port, Auth: merge.AuthNoSASL}); err != nil {
		t.Fatal(err)
	}
	res := fsys.NewResolver(map[string]fsys.Opener{"file": localfs.Opener()})
	t.Cleanup(func() { res.Close() })
	client := srv.Client(t, hive.Config{Name: "sb"})
	conn := discoverytest.Connector{Registry: st, Hive: client, Files: res}
	disc := &discovery.Service{Store: st, Connector: conn, Now: now}
	t.Cleanup(func() { disc.Close() })
	return &sandboxEnv{store: st, tasks: tasks, disc: disc, now: now}
}

// scheduler returns a scheduler service with the policy jobs, capped at maxTasks per run.
func (e *sandboxEnv) scheduler(owner string, maxTasks int) *Service {
	s := NewService(e.tasks, e.store, nil, ServiceConfig{Owner: owner}).WithClock(e.now)
	s.RegisterPolicyJobs(PolicyJobs{Policies: e.store, Metrics: e.store, Scanner: e.disc, MaxTasks: maxTasks})
	return s
}

var slots int

// run runs job in a fresh slot and fails the test unless it succeeded.
func run(t *testing.T, s *Service, job string) *merge.Run {
	t.Helper()
	slots++
	r, err := s.Run(t.Context(), job, time.Date(2026, 1, 1, 0, slots, 0, 0, time.UTC), "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != merge.RunSucceeded {
		t.Fatalf("%s run %s: %s %v", job, r.ID, r.Status, r.Errors)
	}
	return r
}

// target is a table and the partitions a task should cover, as "db.table[p1,p2]".
type target struct {
	key     string
	savings int64
}

// expected computes, straight from the stored metrics, the targets policy p selects: the
// thresholds read from the metrics here, not through the policy code under test.
func (e *sandboxEnv) expected(t *testing.T, p merge.Policy) []target {
	t.Helper()
	ctx := t.Context()
	page, err := e.store.ListTableMetrics(ctx, merge.TableMetricsFilter{ClusterID: "sb", Sort: merge.SortName, Limit: merge.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	quiet := time.Duration(p.QuietPeriodMinutes) * time.Minute
	now := e.now()
	recOK := func(r merge.Recommendation) bool { return r.Merge || r.Rule == merge.RuleQuietPeriod }
	var out []target
	for _, m := range page.Tables {
		if !slices.Contains(p.Databases, m.Database) || slices.Contains(p.Exclude, m.Database+"."+m.Table) || m.Error != "" || !recOK(m.Recommendation) ||
			m.Stats.SmallFiles < p.MinSmallFiles || float64(m.Stats.SmallFiles)/float64(max(m.Stats.Files, 1)) < p.MinSmallFileRatio ||
			float64(m.Health.Score) > p.MaxHealthScore {
			continue
		}
		if len(m.PartitionKeys) == 0 {
			if now.Sub(m.Stats.LastModified) >= quiet && m.Savings.Files > 0 {
				out = append(out, target{key: m.Database + "." + m.Table, savings: m.Savings.Files})
			}
			continue
		}
		parts, err := e.store.PartitionMetrics(ctx, "sb", m.Database, m.Table, m.ScanID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		var saved int64
		for _, pm := range parts {
			if pm.Error == "" && pm.NeedsMerge && recOK(pm.Recommendation) && now.Sub(pm.Stats.LastModified) >= quiet {
				names = append(names, pm.Partition)
				saved += pm.Savings.Files
			}
		}
		if len(names) > 0 && saved > 0 {
			slices.Sort(names)
			out = append(out, target{key: m.Database + "." + m.Table + "[" + strings.Join(names, ",") + "]", savings: saved})
		}
	}
	slices.SortStableFunc(out, func(a, b target) int { return cmp.Or(cmp.Compare(b.savings, a.savings), strings.Compare(a.key, b.key)) })
	return out
}

// active returns the targets of the active tasks, sorted, and checks what policy p's tasks
// carry.
func (e *sandboxEnv) active(t *testing.T, p merge.Policy) []string {
	t.Helper()
	var out []string
	for _, st := range []merge.Status{merge.StatusPending, merge.StatusRunning} {
		page, err := e.tasks.ListTasks(t.Context(), merge.TaskFilter{Status: st, Limit: merge.MaxListLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range page.Tasks {
			if task.CreatedBy != "scheduler:"+p.Name || task.Strategy != p.Strategy || task.TargetFileSize != p.TargetFileSize {
				t.Errorf("task %s: created_by %q strategy %s target %d, want the policy's", task.ID, task.CreatedBy, task.Strategy, task.TargetFileSize)
			}
			key := task.Database + "." + task.Table
			if len(task.Partitions) > 0 {
				names := make([]string, len(task.Partitions))
				for i, ps := range task.Partitions {
					names[i] = ps.String()
				}
				slices.Sort(names)
				key += "[" + strings.Join(names, ",") + "]"
			}
			out = append(out, key)
		}
	}
	slices.Sort(out)
	return out
}

func keys(ts []target) []string {
	out := make([]string, len(ts))
	for i, tg := range ts {
		out[i] = tg.key
	}
	return out
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// cancelAll cancels every pending task, releasing the tables.
func (e *sandboxEnv) cancelAll(t *testing.T) {
	t.Helper()
	page, err := e.tasks.ListTasks(t.Context(), merge.TaskFilter{Status: merge.StatusPending, Limit: merge.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range page.Tasks {
		if _, err := e.tasks.CancelTask(t.Context(), task.ID, "test"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPolicyJobsOnSandbox scans a generated warehouse through the scan job, then runs
// batch-create for a policy over it: the tasks are exactly those its thresholds imply,
// computed here from the metrics; a dry run creates none; the caps hold; and repeated or
// concurrent runs never create a second task for a target.
func TestPolicyJobsOnSandbox(t *testing.T) {
	e := startSandbox(t)
	ctx := t.Context()
	pol := merge.DefaultPolicy()
	pol.Name, pol.Databases, pol.Exclude = "web", []string{"web", "sales"}, []string{"web.sessions"}
	pol.MinSmallFiles, pol.MinSmallFileRatio, pol.MaxHealthScore = 100, 0.5, 46
	pol.Strategy, pol.TargetFileSize, pol.QuietPeriodMinutes, pol.DryRun = merge.StrategySafeMerge, 64<<20, 30, true
	policies := merge.NewPolicies(e.store, Windows{})
	if _, err := policies.Create(ctx, pol, "test"); err != nil {
		t.Fatal(err)
	}
	s := e.scheduler("one", 0)

	r := run(t, s, JobScan)
	if r.Counts["scans"] != 2 || r.Counts["tables"] == 0 || r.Counts["tables_failed"] != 0 ||
		!strings.Contains(r.Summary, "sb database sales") || !strings.Contains(r.Summary, "sb database web") {
		t.Fatalf("scan run: %+v %q", r.Counts, r.Summary)
	}
	// The policy names its databases, so the scans left ops alone.
	if m, err := e.store.ListTableMetrics(ctx, merge.TableMetricsFilter{ClusterID: "sb", Database: "ops", Limit: 10}); err != nil || len(m.Tables) != 0 {
		t.Fatalf("ops was scanned: %v %v", m.Tables, err)
	}
	want := e.expected(t, pol)
	t.Logf("candidates: %v", keys(want))
	if len(want) < 3 {
		t.Fatalf("only %d candidates in the generated warehouse: %v", len(want), keys(want))
	}

	t.Run("dry run creates nothing", func(t *testing.T) {
		r := run(t, s, JobBatchCreate)
		if r.Counts["created"] != 0 || r.Counts["would_create"] != int64(len(want)) || r.Counts["candidates"] != int64(len(want)) {
			t.Errorf("counts %+v, want %d would create", r.Counts, len(want))
		}
		if !strings.Contains(r.Summary, "web (dry run) would create") || !strings.Contains(r.Summary, "sb/"+strings.SplitN(want[0].key, "[", 2)[0]) {
			t.Errorf("summary %q does not list the candidates", r.Summary)
		}
		if got := e.active(t, pol); len(got) != 0 {
			t.Errorf("dry run created %v", got)
		}
	})

	pol.DryRun, pol.MaxTasksPerRun = false, 2
	if _, err := policies.Update(ctx, pol, "test"); err != nil {
		t.Fatal(err)
	}
	t.Run("the policy's cap takes the largest savings first", func(t *testing.T) {
		r := run(t, s, JobBatchCreate)
		if r.Counts["created"] != 2 || r.Counts["capped"] != int64(len(want)-2) {
			t.Errorf("counts %+v", r.Counts)
		}
		if got := e.active(t, pol); !slices.Equal(got, sorted(keys(want[:2]))) {
			t.Errorf("tasks %v, want the 2 largest %v", got, keys(want[:2]))
		}
		e.cancelAll(t)
	})
	t.Run("global cap", func(t *testing.T) {
		r := run(t, e.scheduler("capped", 1), JobBatchCreate)
		if got := e.active(t, pol); r.Counts["created"] != 1 || !slices.Equal(got, keys(want[:1])) {
			t.Errorf("counts %+v, tasks %v, want the largest one", r.Counts, got)
		}
		e.cancelAll(t)
	})

	pol.MaxTasksPerRun = merge.MaxTasksPerRunLimit
	if _, err := policies.Update(ctx, pol, "test"); err != nil {
		t.Fatal(err)
	}
	t.Run("concurrent and repeated runs create each task once", func(t *testing.T) {
		var wg sync.WaitGroup
		runs := make([]*merge.Run, 2)
		for i := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				svc := e.scheduler(fmt.Sprintf("replica-%d", i), 0)
				r, err := svc.Run(context.WithoutCancel(ctx), JobBatchCreate, time.Date(2026, 2, 1, 0, i, 0, 0, time.UTC), "")
				if err != nil {
					t.Error(err)
					return
				}
				runs[i] = r
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		created := runs[0].Counts["created"] + runs[1].Counts["created"]
		active := runs[0].Counts["already_active"] + runs[1].Counts["already_active"]
		if created != int64(len(want)) || active != int64(len(want)) {
			t.Errorf("two runs created %d and found %d active, want %d each; %+v %+v", created, active, len(want), runs[0].Counts, runs[1].Counts)
		}
		if got := e.active(t, pol); !slices.Equal(got, sorted(keys(want))) {
			t.Errorf("tasks\n%v\nwant\n%v", got, sorted(keys(want)))
		}
		r := run(t, s, JobBatchCreate)
		if r.Counts["created"] != 0 || r.Counts["already_active"] != int64(len(want)) {
			t.Errorf("third run: %+v", r.Counts)
		}
		if got := e.active(t, pol); len(got) != len(want) {
			t.Errorf("%d active tasks after a third run, want %d", len(got), len(want))
		}
	})
}
