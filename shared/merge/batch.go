package merge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// BatchStore is a Store that creates many tasks in few round trips. CreateTasks returns one
// error per task, in order: nil when it was stored, ErrConflict when its ID exists or an
// active task overlaps it (one stored before, or one earlier in the same batch), with the same
// atomicity as CreateTask, so that of two concurrent batches targeting one table one task
// wins. A failure of the store itself is returned for every task it left unwritten.
type BatchStore interface {
	CreateTasks(ctx context.Context, ts []*Task) []error
}

// CreateTasks validates and stores many pending tasks, in bulk when the store is a BatchStore
// and one by one otherwise. It returns the tasks and one error per request, in order: nil for
// a created task, the validation error or ErrConflict (an active task already targets it)
// otherwise. The clusters must be registered.
func (s *Service) CreateTasks(ctx context.Context, reqs []CreateTaskRequest) ([]*Task, []error) {
	tasks := make([]*Task, len(reqs))
	errs := make([]error, len(reqs))
	known := map[string]error{}
	var valid []*Task
	now := s.clock()
	for i, r := range reqs {
		if err := r.Validate(); err != nil {
			errs[i] = err
			continue
		}
		cerr, seen := known[r.ClusterID]
		if !seen {
			if _, cerr = s.clusters.GetCluster(ctx, r.ClusterID); errors.Is(cerr, ErrNotFound) {
				cerr = Errorf(ErrInvalid, "cluster_id %q is not a registered cluster", r.ClusterID)
			}
			known[r.ClusterID] = cerr
		}
		if cerr != nil {
			errs[i] = cerr
			continue
		}
		tasks[i] = &Task{ID: s.newID(), Name: r.Name, ClusterID: r.ClusterID, Database: r.Database, Table: r.Table,
			Partitions: r.Partitions, Strategy: r.Strategy, TargetFileSize: r.TargetFileSize, Status: StatusPending,
			CreatedBy: r.CreatedBy, CreatedAt: now, UpdatedAt: now}
		valid = append(valid, tasks[i])
	}
	var stored []error
	if bs, ok := s.tasks.(BatchStore); ok {
		stored = bs.CreateTasks(ctx, valid)
	} else {
		stored = make([]error, len(valid))
		for i, t := range valid {
			stored[i] = s.tasks.CreateTask(ctx, t)
		}
	}
	j := 0
	for i := range tasks {
		if tasks[i] == nil {
			continue
		}
		if errs[i] = stored[j]; errs[i] != nil {
			tasks[i] = nil
		}
		j++
	}
	return tasks, errs
}

// Candidate is a table, or some of its partitions, that a policy would merge, with why.
type Candidate struct {
	ClusterID  string          `json:"cluster_id"`
	Database   string          `json:"database_name"`
	Table      string          `json:"table_name"`
	Partitions []PartitionSpec `json:"partition_filter,omitempty"`
	// SmallFiles, Files and HealthScore are the table's, from its latest metrics; Savings are
	// what merging the candidate's partitions would remove.
	SmallFiles     int64     `json:"small_files"`
	Files          int64     `json:"files"`
	SmallFileRatio float64   `json:"small_file_ratio"`
	HealthScore    int       `json:"health_score"`
	Savings        Savings   `json:"savings"`
	ScanID         string    `json:"scan_id"`
	ScannedAt      time.Time `json:"scanned_at"`
	Reason         string    `json:"reason"`
	// ReasonCode and ReasonArgs are Reason as a catalog message (see Say), for translation.
	ReasonCode string `json:"reason_code,omitempty"`
	ReasonArgs Args   `json:"reason_args,omitempty"`
}

// Request is the task that creates c under policy p.
func (c *Candidate) Request(p *Policy) CreateTaskRequest {
	name := fmt.Sprintf("%s: %s.%s", p.Name, c.Database, c.Table)
	if len(name) > MaxTaskNameLen {
		name = name[:MaxTaskNameLen]
	}
	return CreateTaskRequest{ClusterID: c.ClusterID, Name: name, Database: c.Database, Table: c.Table, Partitions: c.Partitions,
		Strategy: p.Strategy, TargetFileSize: p.TargetFileSize, CreatedBy: CreatedByPolicy(p.Name)}
}

// CreatedByPolicy is the created_by of tasks the scheduler creates for a policy.
func CreatedByPolicy(policy string) string { return "scheduler:" + policy }

// Skip is a table a policy selects by name whose metrics do not pass its thresholds.
type Skip struct {
	ClusterID string `json:"cluster_id"`
	Database  string `json:"database_name"`
	Table     string `json:"table_name"`
	Reason    string `json:"reason"`
	// ReasonCode and ReasonArgs are Reason as a catalog message (see Say), for translation.
	ReasonCode string `json:"reason_code,omitempty"`
	ReasonArgs Args   `json:"reason_args,omitempty"`
}

// Plan is what a policy would do now: its candidates in priority order and the tables it
// selects but leaves alone.
type Plan struct {
	Policy     string      `json:"policy"`
	Candidates []Candidate `json:"candidates"`
	// Capped counts the candidates beyond the policy's max_tasks_per_run, left out of a dry
	// run's Candidates.
	Capped int `json:"capped"`
	// Skipped lists up to MaxPlanSkips of the tables left alone; SkippedTotal counts them all.
	Skipped      []Skip `json:"skipped"`
	SkippedTotal int    `json:"skipped_total"`
}

// MaxPlanSkips bounds the skipped tables a plan lists.
const MaxPlanSkips = 100

// Evaluate judges table metrics m, with the partitions of its scan parts (read only for a
// partitioned table), against p at time now. It returns the candidate, or the reason the
// table is left alone (a message with an empty Code when it passes). The table must already
// match p's name patterns.
//
// A table passes when its latest scan measured it, recommended a merge (a recommendation to
// wait for the quiet period is judged again against p's own quiet period and now), and it has
// at least p.MinSmallFiles small files making at least p.MinSmallFileRatio of its files,
// with a health score of at most p.MaxHealthScore. Its candidate partitions are those that
// need a merge and were last written more than the quiet period ago (p.QuietPeriodMinutes, or
// the scan's when the policy sets none), the MaxPartitionSpecs that save most files.
func (p *Policy) Evaluate(m *TableMetrics, parts []PartitionMetrics, now time.Time) (Candidate, Message) {
	c := Candidate{ClusterID: m.ClusterID, Database: m.Database, Table: m.Table, SmallFiles: m.Stats.SmallFiles, Files: m.Stats.Files,
		SmallFileRatio: m.Stats.SmallFileRatio(), HealthScore: m.Health.Score, ScanID: m.ScanID, ScannedAt: m.ScannedAt}
	switch {
	case m.Error != "":
		return c, Say(MsgSkipScanError, Args{"error": m.Error})
	case !m.Recommendation.Merge && m.Recommendation.Rule != RuleQuietPeriod:
		return c, Say(MsgSkipNotAdvised, Args{"reason": m.Recommendation.Message()})
	case m.Stats.SmallFiles < p.MinSmallFiles:
		return c, Say(MsgSkipFewSmall, Args{"small": m.Stats.SmallFiles, "min": p.MinSmallFiles})
	case c.SmallFileRatio < p.MinSmallFileRatio:
		return c, Say(MsgSkipLowRatio, Args{"ratio": c.SmallFileRatio, "min": p.MinSmallFileRatio})
	case float64(m.Health.Score) > p.MaxHealthScore:
		return c, Say(MsgSkipHighScore, Args{"score": int64(m.Health.Score), "max": p.MaxHealthScore})
	}
	quiet := time.Duration(p.QuietPeriodMinutes) * time.Minute
	if quiet == 0 {
		quiet = m.Thresholds.WithDefaults().QuietPeriod
	}
	isQuiet := func(mod time.Time) bool { return mod.IsZero() || now.Sub(mod) >= quiet }
	if len(m.PartitionKeys) == 0 {
		if !isQuiet(m.Stats.LastModified) {
			return c, Say(MsgSkipRecent, Args{"age": seconds(now.Sub(m.Stats.LastModified)), "quiet": seconds(quiet)})
		}
		c.Savings = m.Savings
	} else {
		var chosen []PartitionMetrics
		recent := 0
		for _, pm := range parts {
			switch {
			case pm.Error != "" || !pm.NeedsMerge:
			case !pm.Recommendation.Merge && pm.Recommendation.Rule != RuleQuietPeriod:
			case !isQuiet(pm.Stats.LastModified):
				recent++
			default:
				chosen = append(chosen, pm)
			}
		}
		if len(chosen) == 0 {
			if recent > 0 {
				return c, Say(MsgSkipRecentParts, Args{"partitions": int64(recent), "quiet": seconds(quiet)})
			}
			return c, Say(MsgSkipNoPartition, nil)
		}
		slices.SortStableFunc(chosen, func(a, b PartitionMetrics) int {
			return cmp.Or(cmp.Compare(b.Savings.Files, a.Savings.Files), strings.Compare(a.Partition, b.Partition))
		})
		chosen = chosen[:min(len(chosen), MaxPartitionSpecs)]
		for _, pm := range chosen {
			spec, err := ParsePartitionName(pm.Partition)
			if err != nil {
				return c, Say(MsgSkipBadPartition, Args{"partition": pm.Partition, "error": err.Error()})
			}
			c.Partitions = append(c.Partitions, spec)
			c.Savings = c.Savings.Add(pm.Savings)
		}
		slices.SortFunc(c.Partitions, func(a, b PartitionSpec) int { return strings.Compare(a.String(), b.String()) })
	}
	if c.Savings.Files <= 0 {
		return c, Say(MsgSkipNoSavings, nil)
	}
	code, args := MsgCandidateTable, Args{"small": c.SmallFiles, "files": c.Files, "percent": 100 * c.SmallFileRatio,
		"score": int64(c.HealthScore), "quiet": seconds(quiet), "excess": c.Savings.Files}
	if len(c.Partitions) > 0 {
		code, args["partitions"] = MsgCandidateParts, int64(len(c.Partitions))
	}
	r := Say(code, args)
	c.Reason, c.ReasonCode, c.ReasonArgs = r.Text, r.Code, r.Args
	return c, Message{}
}

// ParsePartitionName reads Hive's escaped partition name (dt=2024-01-01/hr=00, with
// special characters as %XX) into a spec.
func ParsePartitionName(name string) (PartitionSpec, error) {
	spec := PartitionSpec{}
	for _, kv := range strings.Split(name, "/") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, Errorf(ErrInvalid, "partition name %q is not key=value pairs", excerpt(name))
		}
		uk, err1 := url.PathUnescape(k)
		uv, err2 := url.PathUnescape(v)
		if err := errors.Join(err1, err2); err != nil {
			return nil, Errorf(ErrInvalid, "partition name %q has a bad escape", excerpt(name))
		}
		spec[FoldName(uk)] = uv
	}
	if err := CheckPartitionSpec(spec); err != nil {
		return nil, err
	}
	return spec, nil
}

// ByPriority orders candidates largest savings first, ties by name, so that every scheduler
// picks the same ones.
func ByPriority(a, b Candidate) int {
	return cmp.Or(cmp.Compare(b.Savings.Files, a.Savings.Files), strings.Compare(a.ClusterID, b.ClusterID),
		strings.Compare(a.Database, b.Database), strings.Compare(a.Table, b.Table))
}

// Planner evaluates policies against the latest metrics.
type Planner struct {
	Tasks   *Service
	Metrics MetricsStore
	// Now defaults to time.Now.
	Now Clock
}

// Plan evaluates p now against the latest metrics of every registered cluster it covers.
func (pl *Planner) Plan(ctx context.Context, p *Policy) (*Plan, error) {
	now := time.Now
	if pl.Now != nil {
		now = pl.Now
	}
	at := now().UTC()
	plan := &Plan{Policy: p.Name, Candidates: []Candidate{}, Skipped: []Skip{}}
	clusters, err := pl.Tasks.ListClusters(ctx)
	if err != nil {
		return nil, err
	}
	for _, cl := range clusters {
		if !anyMatch(p.Clusters, strings.ToLower(cl.ID), true) {
			continue
		}
		f := TableMetricsFilter{ClusterID: cl.ID, Sort: SortName, Limit: MaxListLimit}
		for {
			page, err := pl.Metrics.ListTableMetrics(ctx, f)
			if err != nil {
				return nil, fmt.Errorf("policy %s: tables of cluster %s: %w", p.Name, cl.ID, err)
			}
			for _, m := range page.Tables {
				if !Matches(p, m.ClusterID, m.Database, m.Table) {
					continue
				}
				var parts []PartitionMetrics
				if len(m.PartitionKeys) > 0 && m.Error == "" && m.NeedsMerge {
					if parts, err = pl.Metrics.PartitionMetrics(ctx, m.ClusterID, m.Database, m.Table, m.ScanID); err != nil {
						return nil, fmt.Errorf("policy %s: partitions of %s.%s: %w", p.Name, m.Database, m.Table, err)
					}
				}
				c, why := p.Evaluate(m, parts, at)
				if why.Code != "" {
					if plan.SkippedTotal++; len(plan.Skipped) < MaxPlanSkips {
						plan.Skipped = append(plan.Skipped, Skip{ClusterID: m.ClusterID, Database: m.Database, Table: m.Table,
							Reason: why.Text, ReasonCode: why.Code, ReasonArgs: why.Args})
					}
					continue
				}
				plan.Candidates = append(plan.Candidates, c)
			}
			if page.NextPageToken == "" {
				break
			}
			f.PageToken = page.NextPageToken
		}
	}
	slices.SortStableFunc(plan.Candidates, ByPriority)
	return plan, nil
}

// DryRun evaluates the stored policy name now and keeps the candidates one batch-create run
// would take (max_tasks_per_run of them); it creates nothing. Whether an active task already
// targets a candidate is known only when creating.
func (pl *Planner) DryRun(ctx context.Context, policies *Policies, name string) (*Plan, error) {
	p, err := policies.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	plan, err := pl.Plan(ctx, p)
	if err != nil {
		return nil, err
	}
	if n := len(plan.Candidates); n > p.MaxTasksPerRun {
		plan.Candidates, plan.Capped = plan.Candidates[:p.MaxTasksPerRun], n-p.MaxTasksPerRun
	}
	return plan, nil
}

// BatchResult is what creating a plan's tasks did.
type BatchResult struct {
	Created []*Task `json:"created"`
	// Active counts candidates an active task already targets; Capped those left for a later
	// run by the caps.
	Active int `json:"active"`
	Capped int `json:"capped"`
	// Failed are candidates whose creation failed otherwise, with why.
	Failed []string `json:"failed,omitempty"`
}

// CreatePlan creates up to limit tasks for plan's candidates under p, in priority order and
// in bulk. A candidate an active task already targets is counted and the next candidates take
// its place, so a run creates up to limit new tasks whatever ran before it.
func (s *Service) CreatePlan(ctx context.Context, p *Policy, plan *Plan, limit int) (BatchResult, error) {
	var res BatchResult
	rest := plan.Candidates
	for len(rest) > 0 && len(res.Created) < limit {
		n := min(limit-len(res.Created), len(rest))
		reqs := make([]CreateTaskRequest, n)
		for i := range n {
			reqs[i] = rest[i].Request(p)
		}
		tasks, errs := s.CreateTasks(ctx, reqs)
		var storeErr error
		for i, err := range errs {
			switch {
			case err == nil:
				res.Created = append(res.Created, tasks[i])
			case errors.Is(err, ErrConflict):
				res.Active++
			case errors.Is(err, ErrInvalid):
				res.Failed = append(res.Failed, fmt.Sprintf("%s/%s.%s: %v", rest[i].ClusterID, rest[i].Database, rest[i].Table, err))
			default:
				// The store failed for this one; others of the batch may have been stored.
				res.Capped++
				storeErr = cmp.Or(storeErr, err)
			}
		}
		rest = rest[n:]
		if storeErr != nil {
			// The rest would fail alike.
			res.Capped += len(rest)
			return res, fmt.Errorf("policy %s: create tasks: %w", p.Name, storeErr)
		}
		if ctx.Err() != nil {
			break
		}
	}
	res.Capped = len(rest)
	return res, ctx.Err()
}
