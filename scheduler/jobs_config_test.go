package scheduler

import (
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// TestConfigPolicyJobs reads the specs and cap of the scan and batch-create jobs, with their
// defaults, and refuses bad values naming the variable.
func TestConfigPolicyJobs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		scan    string
		batch   string
		max     int
		wantErr string
	}{
		{name: "defaults", scan: DefaultScan, batch: DefaultBatchCreate, max: DefaultBatchMaxTasks},
		{name: "set", env: map[string]string{"HIVEMERGE_SCHEDULE_SCAN": "0 */4 * * *", "HIVEMERGE_SCHEDULE_BATCH_CREATE": "CRON_TZ=Europe/Paris 30 1 * * *", "HIVEMERGE_BATCH_MAX_TASKS": "50"},
			scan: "0 */4 * * *", batch: "CRON_TZ=Europe/Paris 30 1 * * *", max: 50},
		{name: "bad scan spec", env: map[string]string{"HIVEMERGE_SCHEDULE_SCAN": "every day"}, wantErr: "HIVEMERGE_SCHEDULE_SCAN"},
		{name: "bad batch spec", env: map[string]string{"HIVEMERGE_SCHEDULE_BATCH_CREATE": "CRON_TZ=UTC"}, wantErr: "HIVEMERGE_SCHEDULE_BATCH_CREATE"},
		{name: "cap zero", env: map[string]string{"HIVEMERGE_BATCH_MAX_TASKS": "0"}, wantErr: "HIVEMERGE_BATCH_MAX_TASKS"},
		{name: "cap too large", env: map[string]string{"HIVEMERGE_BATCH_MAX_TASKS": "10001"}, wantErr: "HIVEMERGE_BATCH_MAX_TASKS"},
		{name: "bad cleanup spec", env: map[string]string{"HIVEMERGE_SCHEDULE_CLEANUP_BACKUPS": "hourly"}, wantErr: "HIVEMERGE_SCHEDULE_CLEANUP_BACKUPS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ConfigFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || cfg.Scan != tc.scan || cfg.BatchCreate != tc.batch || cfg.BatchMaxTasks != tc.max {
				t.Errorf("cfg %+v, %v", cfg, err)
			}
		})
	}
}

// TestScanScopes: a cluster is scanned whole unless every policy covering it names its
// databases literally; a cluster no policy covers is not scanned.
func TestScanScopes(t *testing.T) {
	clusters := []*merge.Cluster{{ID: "prod"}, {ID: "dev"}, {ID: "lab"}}
	got := scopes([]*merge.Policy{
		{Clusters: []string{"prod"}, Databases: []string{"web", "sales"}},
		{Clusters: []string{"prod"}, Databases: []string{"web"}},
		{Clusters: []string{"d*"}, Databases: []string{"web", "tmp_*"}},
	}, clusters)
	var s []string
	for _, sc := range got {
		s = append(s, sc.cluster+":"+sc.scope.Database)
	}
	if strings.Join(s, " ") != "prod:sales prod:web dev:" {
		t.Errorf("scopes %v", s)
	}
}

// TestConfigCleanupBackups reads the cleanup-backups spec, hourly by default.
func TestConfigCleanupBackups(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"default", nil, DefaultCleanupBackups},
		{"set", map[string]string{"HIVEMERGE_SCHEDULE_CLEANUP_BACKUPS": "CRON_TZ=Europe/Paris 15 3 * * *"}, "CRON_TZ=Europe/Paris 15 3 * * *"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ConfigFromEnv(func(k string) string { return tc.env[k] })
			if err != nil || cfg.CleanupBackups != tc.want {
				t.Errorf("CleanupBackups %q, %v; want %q", cfg.CleanupBackups, err, tc.want)
			}
		})
	}
}
