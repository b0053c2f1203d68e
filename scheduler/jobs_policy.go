package scheduler

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Names and timeouts of the jobs that act on policies. A scan runs to its end inside its run,
// so its timeout stays under Cloud Scheduler's longest attempt deadline (30 minutes); a table
// it did not reach is measured by the next scan.
const (
	JobScan            = "scan"
	JobBatchCreate     = "batch-create"
	ScanTimeout        = 25 * time.Minute
	BatchCreateTimeout = 10 * time.Minute
	// DefaultBatchMaxTasks caps the tasks one batch-create run makes over every policy.
	DefaultBatchMaxTasks = 1000
)

// Scanner runs a scan of a cluster to its end; *discovery.Service is one.
type Scanner interface {
	Scan(ctx context.Context, clusterID string, scope merge.ScanScope) (*merge.Scan, error)
}

// PolicyJobs are what the scan and batch-create jobs work with.
type PolicyJobs struct {
	Policies merge.PolicyStore
	Metrics  merge.MetricsStore
	// Scanner runs the scan job's scans; without it the scan job is not registered.
	Scanner Scanner
	// MaxTasks caps the tasks a batch-create run makes over every policy
	// (DefaultBatchMaxTasks when 0).
	MaxTasks int
}

// policyJobs are the jobs' methods over a Service's task service and clock.
type policyJobs struct {
	PolicyJobs
	svc *Service
}

// RegisterPolicyJobs adds the batch-create job, and the scan job when j has a Scanner.
func (s *Service) RegisterPolicyJobs(j PolicyJobs) {
	if j.MaxTasks <= 0 {
		j.MaxTasks = DefaultBatchMaxTasks
	}
	pj := &policyJobs{PolicyJobs: j, svc: s}
	s.Register(JobBatchCreate, BatchCreateTimeout, pj.batchCreate)
	if j.Scanner != nil {
		s.Register(JobScan, ScanTimeout, pj.scan)
	}
}

// Planner returns a planner of policies over metrics on the service's clock: the batch-create
// job's, and a dry run's over HTTP.
func (s *Service) Planner(metrics merge.MetricsStore) *merge.Planner {
	return &merge.Planner{Tasks: s.tasks, Metrics: metrics, Now: s.now}
}

// AddPolicyJobs registers the policy jobs on the scheduler's service and schedules them on
// cfg's specs.
func (s *Scheduler) AddPolicyJobs(j PolicyJobs, cfg Config) error {
	s.svc.RegisterPolicyJobs(j)
	specs := []struct{ name, spec string }{{JobBatchCreate, cfg.BatchCreate}}
	if j.Scanner != nil {
		specs = append(specs, struct{ name, spec string }{JobScan, cfg.Scan})
	}
	for _, js := range specs {
		if err := s.Add(js.name, js.spec); err != nil {
			return fmt.Errorf("job %s: %w", js.name, err)
		}
	}
	return nil
}

// enabled returns the enabled policies, by name.
func (j *policyJobs) enabled(ctx context.Context) ([]*merge.Policy, error) {
	all, err := j.Policies.ListPolicies(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(p *merge.Policy) bool { return !p.Enabled }), nil
}

// scanScope is what one scan covers.
type scanScope struct {
	cluster string
	scope   merge.ScanScope
}

// scopes are the scans that cover what the policies select: a cluster's databases when every
// policy covering it names its databases literally, else the whole cluster.
func scopes(policies []*merge.Policy, clusters []*merge.Cluster) []scanScope {
	var out []scanScope
	for _, c := range clusters {
		id := strings.ToLower(c.ID)
		var dbs []string
		whole, covered := false, false
		for _, p := range policies {
			if len(p.Clusters) > 0 && !slices.ContainsFunc(p.Clusters, func(pat string) bool { return globMatch(pat, id) }) {
				continue
			}
			covered = true
			if len(p.Databases) == 0 || slices.ContainsFunc(p.Databases, isGlob) {
				whole = true
			}
			dbs = append(dbs, p.Databases...)
		}
		switch {
		case !covered:
		case whole:
			out = append(out, scanScope{cluster: c.ID})
		default:
			slices.Sort(dbs)
			for _, db := range slices.Compact(dbs) {
				out = append(out, scanScope{cluster: c.ID, scope: merge.ScanScope{Database: db}})
			}
		}
	}
	return out
}

func isGlob(pat string) bool { return strings.ContainsAny(pat, "*?[") }

// globMatch compares as merge.Matches does: validated patterns are lower case.
func globMatch(pat, name string) bool {
	ok, err := path.Match(pat, name)
	return err == nil && ok
}

// scan measures the clusters and databases the enabled policies cover, one scan at a time,
// and records each scan's ID and counts.
func (j *policyJobs) scan(ctx context.Context) (Outcome, error) {
	policies, err := j.enabled(ctx)
	if err != nil {
		return Outcome{}, fmt.Errorf("scan: %w", err)
	}
	clusters, err := j.svc.tasks.ListClusters(ctx)
	if err != nil {
		return Outcome{}, fmt.Errorf("scan: %w", err)
	}
	todo := scopes(policies, clusters)
	out := Outcome{Counts: map[string]int64{"policies": int64(len(policies)), "scans": 0, "scans_failed": 0, "tables": 0, "tables_failed": 0}}
	if len(todo) == 0 {
		out.Skipped, out.Summary = true, "no enabled policy covers a registered cluster"
		return out, nil
	}
	var done []string
	var errs []error
	for _, sc := range todo {
		what := sc.cluster
		if sc.scope.Database != "" {
			what += " database " + sc.scope.Database
		}
		s, err := j.Scanner.Scan(ctx, sc.cluster, sc.scope)
		if err != nil {
			out.Counts["scans_failed"]++
			errs = append(errs, fmt.Errorf("scan of %s: %w", what, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		out.Counts["scans"]++
		out.Counts["tables"] += s.Progress.TablesDone
		out.Counts["tables_failed"] += s.Progress.TablesFailed
		if s.Status != merge.ScanSucceeded {
			out.Counts["scans_failed"]++
			errs = append(errs, fmt.Errorf("scan %s of %s ended %s: %s", s.ID, what, s.Status, s.Error))
		}
		done = append(done, fmt.Sprintf("%s (scan %s, %s: %d tables, %d failed)", what, s.ID, s.Status, s.Progress.TablesDone, s.Progress.TablesFailed))
	}
	out.Summary = fmt.Sprintf("scanned %d of %d scopes: %s", len(done), len(todo), strings.Join(done, "; "))
	return out, errors.Join(errs...)
}

// batchCreate creates tasks for every enabled policy's candidates, policies by name, up to
// each policy's max_tasks_per_run and the run's MaxTasks over all. A dry-run policy creates
// nothing and the record says what it would have created.
func (j *policyJobs) batchCreate(ctx context.Context) (Outcome, error) {
	policies, err := j.enabled(ctx)
	if err != nil {
		return Outcome{}, fmt.Errorf("batch-create: %w", err)
	}
	out := Outcome{Counts: map[string]int64{"policies": int64(len(policies)), "candidates": 0, "created": 0,
		"already_active": 0, "capped": 0, "would_create": 0, "skipped_tables": 0, "failed": 0}}
	if len(policies) == 0 {
		out.Skipped, out.Summary = true, "no enabled policy"
		return out, nil
	}
	planner := j.svc.Planner(j.Metrics)
	remaining := j.MaxTasks
	var lines []string
	var errs []error
	for _, p := range policies {
		plan, err := planner.Plan(ctx, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out.Counts["candidates"] += int64(len(plan.Candidates))
		out.Counts["skipped_tables"] += int64(plan.SkippedTotal)
		limit := min(p.MaxTasksPerRun, remaining)
		if p.DryRun {
			would := plan.Candidates[:min(limit, len(plan.Candidates))]
			out.Counts["would_create"] += int64(len(would))
			out.Counts["capped"] += int64(len(plan.Candidates) - len(would))
			names := make([]string, len(would))
			for i, c := range would {
				names[i] = describe(c)
			}
			lines = append(lines, fmt.Sprintf("%s (dry run) would create %d: %s", p.Name, len(would), strings.Join(names, ", ")))
			continue
		}
		res, err := j.svc.tasks.CreatePlan(ctx, p, plan, limit)
		remaining -= len(res.Created)
		out.Counts["created"] += int64(len(res.Created))
		out.Counts["already_active"] += int64(res.Active)
		out.Counts["capped"] += int64(res.Capped)
		out.Counts["failed"] += int64(len(res.Failed))
		for _, f := range res.Failed {
			errs = append(errs, fmt.Errorf("policy %s: %s", p.Name, f))
		}
		if err != nil {
			errs = append(errs, err)
		}
		lines = append(lines, fmt.Sprintf("%s created %d, %d already active, %d capped", p.Name, len(res.Created), res.Active, res.Capped))
	}
	out.Summary = strings.Join(lines, "; ")
	return out, errors.Join(errs...)
}

func describe(c merge.Candidate) string {
	s := c.ClusterID + "/" + c.Database + "." + c.Table
	if len(c.Partitions) > 0 {
		s += fmt.Sprintf(" (%d partitions)", len(c.Partitions))
	}
	return s
}
