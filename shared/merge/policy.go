package merge

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path"
	"regexp"
	"strings"
	"time"
)

// Policy says which tables the scheduler keeps healthy, when it may work on them and how much
// at once. Decode a policy over DefaultPolicy so that absent fields take their defaults.
//
// Name patterns are globs (path.Match: *, ?, [a-z]) compared case-insensitively, as Hive names
// are. Clusters, Databases and Tables are include lists, each empty meaning "all". Exclude
// entries match "database.table" or, with a cluster, "cluster/database.table"
// ("tmp_*.*", "prod/web.raw_*"); an excluded table never matches.
type Policy struct {
	Name      string   `json:"name"`
	Clusters  []string `json:"clusters,omitempty"`
	Databases []string `json:"databases,omitempty"`
	Tables    []string `json:"tables,omitempty"`
	Exclude   []string `json:"exclude,omitempty"`
	// MinSmallFiles and MinSmallFileRatio are the least small files, and the least share of a
	// table's files that are small, that make a table a candidate.
	MinSmallFiles     int64   `json:"min_small_files"`
	MinSmallFileRatio float64 `json:"min_small_file_ratio"`
	// MaxHealthScore selects tables whose health score (0 worst, 100 healthy) is at most this.
	MaxHealthScore float64  `json:"max_health_score"`
	Strategy       Strategy `json:"strategy"`
	// TargetFileSize is the merged file size; 0 leaves it to the planner.
	TargetFileSize int64 `json:"target_file_size_bytes"`
	// QuietPeriodMinutes skips partitions modified within that many minutes.
	QuietPeriodMinutes int `json:"quiet_period_minutes"`
	// Windows are when tasks of this policy may run; none means at any time.
	Windows []Window `json:"windows,omitempty"`
	// MaxRunningPerCluster caps this policy's running tasks per cluster; 0 leaves only the
	// cluster's own max_running_tasks.
	MaxRunningPerCluster int `json:"max_running_per_cluster"`
	// MaxTasksPerRun caps the tasks one batch-creation run makes for this policy.
	MaxTasksPerRun int      `json:"max_tasks_per_run"`
	Priority       Priority `json:"priority"`
	// DryRun makes the scheduler report what it would create without creating anything.
	DryRun    bool      `json:"dry_run"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// Window is a maintenance window: it opens at each activation of Start, a cron spec in the
// scheduler's syntax (five fields or a descriptor such as @daily, read in the zone of a
// CRON_TZ= prefix, else in UTC), and stays open for DurationMinutes. For example
// {"start": "CRON_TZ=Europe/Paris 0 1 * * *", "duration_minutes": 240} is 01:00 to 05:00
// Paris time every day. A window is open at t when some activation s satisfies
// s <= t < s + duration; it is a span of elapsed time, so on a daylight-saving day it still
// lasts exactly DurationMinutes, and an activation the clock skips (02:30 on a spring-forward
// night) does not happen that day.
type Window struct {
	Start           string `json:"start"`
	DurationMinutes int    `json:"duration_minutes"`
}

// Priority orders the candidates of a batch-creation run.
type Priority string

// Priorities.
const (
	// PriorityLargestSavings creates tasks for the candidates that would remove most files
	// first.
	PriorityLargestSavings Priority = "largest_savings"
)

// Policy limits.
const (
	MaxPolicyNameLen      = 63
	MaxPolicyPatterns     = 100
	MaxPatternLen         = 256
	MaxPolicyWindows      = 20
	MaxWindowMinutes      = 7 * 24 * 60
	MaxQuietPeriodMinutes = 30 * 24 * 60
	MaxTasksPerRunLimit   = 10000
	MaxRunningLimit       = 1000
	DefaultMaxTasksPerRun = 100
	MaxPolicies           = 1000
)

// DefaultPolicy holds the defaults absent fields take: enabled, auto strategy, largest
// savings first, no health threshold and DefaultMaxTasksPerRun.
func DefaultPolicy() Policy {
	return Policy{Strategy: StrategyAuto, Priority: PriorityLargestSavings, MaxHealthScore: 100,
		MaxTasksPerRun: DefaultMaxTasksPerRun, Enabled: true}
}

var (
	policyNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	// A name pattern holds what Hive names hold plus glob syntax; an exclude entry adds the
	// separators of "cluster/database.table".
	namePatternRe    = regexp.MustCompile(`^[A-Za-z0-9_*?\[\]!^-]+$`)
	excludePatternRe = regexp.MustCompile(`^([A-Za-z0-9_*?\[\]!^-]+/)?[A-Za-z0-9_*?\[\]!^-]+\.[A-Za-z0-9_*?\[\]!^-]+$`)
)

// WindowChecker validates a window's Start spec. The scheduler owns the cron syntax, so it
// provides the checker; the domain knows only that a spec must pass it.
type WindowChecker interface {
	CheckWindowStart(spec string) error
}

// Validate normalises p (folds patterns to lower case) and checks every field, returning an
// ErrInvalid error that names the first bad one. windows checks the windows' start specs; nil
// checks only that they are present.
func (p *Policy) Validate(windows WindowChecker) error {
	if !policyNameRe.MatchString(p.Name) {
		return Errorf(ErrInvalid, "name must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit")
	}
	for _, f := range []struct {
		field string
		list  *[]string
		re    *regexp.Regexp
		form  string
	}{
		{"clusters", &p.Clusters, namePatternRe, "a name or glob pattern"},
		{"databases", &p.Databases, namePatternRe, "a name or glob pattern"},
		{"tables", &p.Tables, namePatternRe, "a name or glob pattern"},
		{"exclude", &p.Exclude, excludePatternRe, `a "database.table" or "cluster/database.table" glob pattern`},
	} {
		if len(*f.list) > MaxPolicyPatterns {
			return Errorf(ErrInvalid, "%s has more than %d patterns", f.field, MaxPolicyPatterns)
		}
		for i, pat := range *f.list {
			if len(pat) > MaxPatternLen {
				return Errorf(ErrInvalid, "%s[%d] is longer than %d characters", f.field, i, MaxPatternLen)
			}
			if !f.re.MatchString(pat) {
				return Errorf(ErrInvalid, "%s[%d] %q must be %s", f.field, i, pat, f.form)
			}
			if _, err := path.Match(pat, ""); err != nil {
				return Errorf(ErrInvalid, "%s[%d] %q is not a valid glob pattern", f.field, i, pat)
			}
			(*f.list)[i] = strings.ToLower(pat)
		}
	}
	switch {
	case p.MinSmallFiles < 0:
		return Errorf(ErrInvalid, "min_small_files may not be negative")
	case math.IsNaN(p.MinSmallFileRatio) || p.MinSmallFileRatio < 0 || p.MinSmallFileRatio > 1:
		return Errorf(ErrInvalid, "min_small_file_ratio must be between 0 and 1")
	case math.IsNaN(p.MaxHealthScore) || p.MaxHealthScore < 0 || p.MaxHealthScore > 100:
		return Errorf(ErrInvalid, "max_health_score must be between 0 and 100")
	case p.TargetFileSize < 0:
		return Errorf(ErrInvalid, "target_file_size_bytes may not be negative")
	case p.TargetFileSize != 0 && (p.TargetFileSize < MinTargetFileSize || p.TargetFileSize > MaxTargetFileSize):
		return Errorf(ErrInvalid, "target_file_size_bytes must be between %d and %d", MinTargetFileSize, int64(MaxTargetFileSize))
	case p.QuietPeriodMinutes < 0 || p.QuietPeriodMinutes > MaxQuietPeriodMinutes:
		return Errorf(ErrInvalid, "quiet_period_minutes must be between 0 and %d", MaxQuietPeriodMinutes)
	case p.MaxRunningPerCluster < 0 || p.MaxRunningPerCluster > MaxRunningLimit:
		return Errorf(ErrInvalid, "max_running_per_cluster must be between 0 and %d", MaxRunningLimit)
	case p.MaxTasksPerRun < 1 || p.MaxTasksPerRun > MaxTasksPerRunLimit:
		return Errorf(ErrInvalid, "max_tasks_per_run must be between 1 and %d", MaxTasksPerRunLimit)
	case len(p.Windows) > MaxPolicyWindows:
		return Errorf(ErrInvalid, "windows has more than %d entries", MaxPolicyWindows)
	}
	if p.Strategy == "" {
		p.Strategy = StrategyAuto
	}
	if !p.Strategy.Valid() {
		return Errorf(ErrInvalid, "strategy %q is not one of auto, safe_merge, concatenate, insert_overwrite, acid_compact", p.Strategy)
	}
	if p.Priority == "" {
		p.Priority = PriorityLargestSavings
	}
	if p.Priority != PriorityLargestSavings {
		return Errorf(ErrInvalid, "priority %q is not one of %s", p.Priority, PriorityLargestSavings)
	}
	for i, w := range p.Windows {
		if w.DurationMinutes < 1 || w.DurationMinutes > MaxWindowMinutes {
			return Errorf(ErrInvalid, "windows[%d].duration_minutes must be between 1 and %d", i, MaxWindowMinutes)
		}
		if strings.TrimSpace(w.Start) == "" {
			return Errorf(ErrInvalid, "windows[%d].start is required", i)
		}
		if len(w.Start) > MaxPatternLen || hasControl(w.Start) {
			return Errorf(ErrInvalid, "windows[%d].start is not a cron spec", i)
		}
		if windows != nil {
			if err := windows.CheckWindowStart(w.Start); err != nil {
				return Errorf(ErrInvalid, "windows[%d].start: %v", i, err)
			}
		}
	}
	return nil
}

// Matches reports whether p selects the table db.table of cluster: every non-empty include
// list has a matching pattern and no exclude pattern matches. Names compare case-insensitively.
// It does not look at Enabled.
func Matches(p *Policy, cluster, db, table string) bool {
	cluster, db, table = strings.ToLower(cluster), FoldName(db), FoldName(table)
	if !anyMatch(p.Clusters, cluster, true) || !anyMatch(p.Databases, db, true) || !anyMatch(p.Tables, table, true) {
		return false
	}
	qualified := db + "." + table
	for _, pat := range p.Exclude {
		name := qualified
		if strings.Contains(pat, "/") {
			name = cluster + "/" + qualified
		}
		if globMatch(pat, name) {
			return false
		}
	}
	return true
}

// anyMatch reports whether a pattern of pats matches name; an empty list yields empty.
func anyMatch(pats []string, name string, empty bool) bool {
	if len(pats) == 0 {
		return empty
	}
	for _, pat := range pats {
		if globMatch(pat, name) {
			return true
		}
	}
	return false
}

// globMatch matches case-insensitively; a malformed pattern (refused by Validate) matches
// nothing.
func globMatch(pat, name string) bool {
	ok, err := path.Match(strings.ToLower(pat), name)
	return err == nil && ok
}

// PolicyStore keeps policies by name.
type PolicyStore interface {
	// CreatePolicy fails with ErrConflict when the name exists.
	CreatePolicy(ctx context.Context, p *Policy) error
	// GetPolicy fails with ErrNotFound for an unknown name.
	GetPolicy(ctx context.Context, name string) (*Policy, error)
	// ListPolicies returns every policy ordered by name.
	ListPolicies(ctx context.Context) ([]*Policy, error)
	// UpdatePolicy replaces a policy; it fails with ErrNotFound for an unknown name.
	UpdatePolicy(ctx context.Context, p *Policy) error
	// DeletePolicy fails with ErrNotFound for an unknown name.
	DeletePolicy(ctx context.Context, name string) error
}

// Policies holds the use cases over policies: every write is validated first.
type Policies struct {
	store   PolicyStore
	windows WindowChecker
	now     Clock
}

// NewPolicies returns the policy use cases over store; windows validates window specs (see
// Policy.Validate).
func NewPolicies(store PolicyStore, windows WindowChecker) *Policies {
	return &Policies{store: store, windows: windows, now: time.Now}
}

// Validate checks p as Create and Put would, without storing it.
func (s *Policies) Validate(p *Policy) error { return p.Validate(s.windows) }

// List returns every policy ordered by name.
func (s *Policies) List(ctx context.Context) ([]*Policy, error) { return s.store.ListPolicies(ctx) }

// Get returns one policy.
func (s *Policies) Get(ctx context.Context, name string) (*Policy, error) {
	if !policyNameRe.MatchString(name) {
		return nil, Errorf(ErrNotFound, "policy %q not found", excerpt(name))
	}
	return s.store.GetPolicy(ctx, name)
}

// Create validates and stores a new policy; ErrConflict when its name is taken.
func (s *Policies) Create(ctx context.Context, p Policy, by string) (*Policy, error) {
	if err := p.Validate(s.windows); err != nil {
		return nil, err
	}
	if all, err := s.store.ListPolicies(ctx); err != nil {
		return nil, err
	} else if len(all) >= MaxPolicies {
		return nil, Errorf(ErrConflict, "there are already %d policies, the most hivemerge keeps", MaxPolicies)
	}
	p.CreatedAt = s.now().UTC()
	p.UpdatedAt, p.UpdatedBy = p.CreatedAt, by
	if err := s.store.CreatePolicy(ctx, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Update replaces the policy named p.Name, keeping its creation time.
func (s *Policies) Update(ctx context.Context, p Policy, by string) (*Policy, error) {
	old, err := s.Get(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	if err := p.Validate(s.windows); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt, p.UpdatedBy = old.CreatedAt, s.now().UTC(), by
	if err := s.store.UpdatePolicy(ctx, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Put creates p or replaces the policy of that name; a policy file uses it at start.
func (s *Policies) Put(ctx context.Context, p Policy, by string) (*Policy, error) {
	out, err := s.Update(ctx, p, by)
	if errors.Is(err, ErrNotFound) {
		return s.Create(ctx, p, by)
	}
	return out, err
}

// Delete removes a policy.
func (s *Policies) Delete(ctx context.Context, name string) error {
	if !policyNameRe.MatchString(name) {
		return Errorf(ErrNotFound, "policy %q not found", excerpt(name))
	}
	return s.store.DeletePolicy(ctx, name)
}

// excerpt bounds how much of a caller's name an error repeats.
func excerpt(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%.64s...", s)
	}
	return s
}
