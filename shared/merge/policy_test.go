package merge

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// refuseNightly is a window checker that refuses one spec, to show Validate defers to it.
type refuseNightly struct{}

func (refuseNightly) CheckWindowStart(spec string) error {
	if spec == "@nightly" {
		return errors.New("unknown descriptor @nightly")
	}
	return nil
}

func TestPolicyValidate(t *testing.T) {
	valid := func() Policy {
		p := DefaultPolicy()
		p.Name = "nightly-web"
		p.Clusters = []string{"prod"}
		p.Databases = []string{"Web", "sales_*"}
		p.Exclude = []string{"tmp_*.*", "prod/web.raw_[a-c]*"}
		p.Windows = []Window{{Start: "CRON_TZ=Europe/Paris 0 1 * * *", DurationMinutes: 240}}
		return p
	}
	for _, tc := range []struct {
		name    string
		edit    func(p *Policy)
		wantErr string // empty: valid
	}{
		{"valid", func(p *Policy) {}, ""},
		{"no_windows", func(p *Policy) { p.Windows = nil }, ""},
		{"name_missing", func(p *Policy) { p.Name = "" }, "name must be"},
		{"name_upper", func(p *Policy) { p.Name = "Nightly" }, "name must be"},
		{"database_pattern_quote", func(p *Policy) { p.Databases = []string{"web'"} }, "databases[0]"},
		{"table_pattern_bad_glob", func(p *Policy) { p.Tables = []string{"a[b"} }, "tables[0]"},
		{"cluster_pattern_slash", func(p *Policy) { p.Clusters = []string{"a/b"} }, "clusters[0]"},
		{"exclude_without_dot", func(p *Policy) { p.Exclude = []string{"tmp_*"} }, "exclude[0]"},
		{"too_many_patterns", func(p *Policy) { p.Tables = make([]string, MaxPolicyPatterns+1) }, "tables has more than"},
		{"min_small_files_negative", func(p *Policy) { p.MinSmallFiles = -1 }, "min_small_files"},
		{"ratio_above_one", func(p *Policy) { p.MinSmallFileRatio = 1.5 }, "min_small_file_ratio must be between 0 and 1"},
		{"ratio_nan", func(p *Policy) { p.MinSmallFileRatio = math.NaN() }, "min_small_file_ratio"},
		{"health_score_above_100", func(p *Policy) { p.MaxHealthScore = 101 }, "max_health_score"},
		{"strategy_unknown", func(p *Policy) { p.Strategy = "fast" }, "strategy"},
		{"target_too_small", func(p *Policy) { p.TargetFileSize = 10 }, "target_file_size_bytes"},
		{"quiet_period_negative", func(p *Policy) { p.QuietPeriodMinutes = -5 }, "quiet_period_minutes"},
		{"running_cap_negative", func(p *Policy) { p.MaxRunningPerCluster = -1 }, "max_running_per_cluster"},
		{"tasks_per_run_zero", func(p *Policy) { p.MaxTasksPerRun = 0 }, "max_tasks_per_run"},
		{"priority_unknown", func(p *Policy) { p.Priority = "random" }, "priority"},
		{"window_duration_zero", func(p *Policy) { p.Windows[0].DurationMinutes = 0 }, "windows[0].duration_minutes"},
		{"window_start_missing", func(p *Policy) { p.Windows[0].Start = " " }, "windows[0].start is required"},
		{"window_start_refused", func(p *Policy) { p.Windows[0].Start = "@nightly" }, "windows[0].start: unknown descriptor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := valid()
			tc.edit(&p)
			err := p.Validate(refuseNightly{})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate() = %v, want an ErrInvalid naming %q", err, tc.wantErr)
			}
		})
	}
}

func TestPolicyValidateFoldsPatterns(t *testing.T) {
	p := DefaultPolicy()
	p.Name, p.Databases, p.Exclude = "p", []string{"Web_*"}, []string{"PROD/Web.Raw"}
	if err := p.Validate(nil); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(p.Databases, p.Exclude); got != "[web_*] [prod/web.raw]" {
		t.Errorf("patterns after Validate: %s", got)
	}
}

func TestMatches(t *testing.T) {
	p := &Policy{
		Clusters:  []string{"prod*"},
		Databases: []string{"web", "sales_[0-9]*"},
		Exclude:   []string{"web.tmp_*", "prod-eu/sales_1.*"},
	}
	for _, tc := range []struct {
		name               string
		policy             *Policy
		cluster, db, table string
		want               bool
	}{
		{"included", p, "prod", "web", "events", true},
		{"database_case_insensitive", p, "prod", "WEB", "Events", true},
		{"cluster_not_included", p, "dev", "web", "events", false},
		{"database_not_included", p, "prod", "hr", "people", false},
		{"database_glob_class", p, "prod-us", "sales_2", "orders", true},
		{"excluded_table", p, "prod", "web", "tmp_load", false},
		{"excluded_table_case", p, "prod", "Web", "TMP_load", false},
		{"excluded_on_one_cluster_only", p, "prod-eu", "sales_1", "orders", false},
		{"same_table_other_cluster", p, "prod-us", "sales_1", "orders", true},
		{"empty_policy_matches_all", &Policy{}, "any", "db", "t", true},
		{"tables_include", &Policy{Tables: []string{"fact_*"}}, "c", "db", "fact_sales", true},
		{"tables_include_miss", &Policy{Tables: []string{"fact_*"}}, "c", "db", "dim_date", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Matches(tc.policy, tc.cluster, tc.db, tc.table); got != tc.want {
				t.Errorf("Matches(%s, %s, %s) = %v, want %v", tc.cluster, tc.db, tc.table, got, tc.want)
			}
		})
	}
}

func TestRunID(t *testing.T) {
	slot, err := time.Parse(time.RFC3339, "2026-03-29T01:30:00+01:00")
	if err != nil {
		t.Fatal(err)
	}
	if got := RunID("retention", slot); got != "retention-20260329T003000Z" {
		t.Errorf("RunID = %q", got)
	}
}
