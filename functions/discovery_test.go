package functions

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/discovery"
	"github.com/hivemerge/hivemerge/shared/discovery/discoverytest"
	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/localfs"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/sandboxtest"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// discoveryEnv is a server over bolt with discovery wired to a sandbox registered as "wh".
func discoveryEnv(t *testing.T) (*env, *discovery.Service) {
	t.Helper()
	sb := sandboxtest.Start(t)
	client := sb.Client(t, hive.Config{Name: "wh"})
	sb.Exec(t, client,
		"CREATE DATABASE m",
		"CREATE TABLE m.events (id bigint, msg string) PARTITIONED BY (dt string) STORED AS TEXTFILE",
		"CREATE TABLE m.flat (id bigint, msg string) STORED AS TEXTFILE",
		"CREATE TABLE m.one (id bigint, msg string) STORED AS TEXTFILE",
	)
	row := func(i int) [][]string { return [][]string{{strconv.Itoa(i), "x"}} }
	sb.AppendFiles(t, "m", "events", map[string]string{"dt": "2024-01-01"}, 7, row)
	sb.AppendFiles(t, "m", "events", map[string]string{"dt": "2024-01-02"}, 4, row)
	sb.AppendFiles(t, "m", "flat", nil, 3, row)
	sb.AppendFiles(t, "m", "one", nil, 1, row)

	e := newEnv(t, openBolt(t), nil)
	body := `{"id":"wh","host":"` + sb.Host + `","port":` + strconv.Itoa(sb.Port) + `,"auth":"NOSASL"}`
	if r := e.do(t, "POST", "/api/v1/clusters", adminToken, body); r.status != http.StatusCreated {
		t.Fatalf("register the sandbox: %d %s", r.status, r.body)
	}
	files := fsys.NewResolver(map[string]fsys.Opener{"file": localfs.Opener()})
	conn := discoverytest.Connector{Registry: e.store, Hive: client, Files: files}
	// The clock runs ahead of the files just written, past the quiet period.
	disc := &discovery.Service{Store: e.store, Connector: conn, Registry: e.store, Now: func() time.Time { return time.Now().Add(2 * time.Hour) }}
	t.Cleanup(func() { disc.Close(); files.Close() })
	e.srv.WithDiscovery(disc)
	return e, disc
}

// startScan starts a scan through the API and waits for it in the process.
func startScan(t *testing.T, e *env, disc *discovery.Service, body any) *merge.Scan {
	t.Helper()
	r := e.do(t, "POST", "/api/v1/clusters/wh/scans", operatorToken, body)
	if r.status != http.StatusAccepted {
		t.Fatalf("start scan: %d %s", r.status, r.body)
	}
	var sc merge.Scan
	r.json(t, &sc)
	if sc.Status != merge.ScanPending || r.header.Get("Location") != "/api/v1/clusters/wh/scans/"+sc.ID {
		t.Errorf("started scan: %s at %q", sc.Status, r.header.Get("Location"))
	}
	if _, err := disc.Wait(context.Background(), "wh", sc.ID); err != nil {
		t.Fatal(err)
	}
	return &sc
}

func TestDiscoveryEndpoints(t *testing.T) {
	e, disc := discoveryEnv(t)
	sc := startScan(t, e, disc, `{"database_name":"m"}`)

	var got merge.Scan
	r := e.do(t, "GET", "/api/v1/clusters/wh/scans/"+sc.ID, viewerToken, nil)
	r.json(t, &got)
	if r.status != http.StatusOK || got.Status != merge.ScanSucceeded || got.Progress.TablesDone != 3 || got.Progress.FilesListed != 15 || len(got.Log) < 3 {
		t.Fatalf("scan: %d %s", r.status, r.body)
	}

	var dbs struct{ Databases []merge.DatabaseMetrics }
	e.do(t, "GET", "/api/v1/clusters/wh/databases", viewerToken, nil).json(t, &dbs)
	var m *merge.DatabaseMetrics
	for i := range dbs.Databases {
		if dbs.Databases[i].Name == "m" {
			m = &dbs.Databases[i]
		}
	}
	if m == nil || !m.Scanned || m.Tables != 3 || m.Files != 15 || m.TablesToMerge != 2 {
		t.Errorf("databases: %+v", dbs)
	}

	var page merge.TableMetricsPage
	e.do(t, "GET", "/api/v1/clusters/wh/databases/m/tables?sort=files&limit=2", viewerToken, nil).json(t, &page)
	if len(page.Tables) != 2 || page.Tables[0].Table != "events" || page.Tables[1].Table != "flat" || page.NextPageToken == "" || page.Total != 3 {
		t.Fatalf("tables page 1: %+v", page)
	}
	e.do(t, "GET", "/api/v1/clusters/wh/databases/m/tables?sort=files&limit=2&page_token="+page.NextPageToken, viewerToken, nil).json(t, &page)
	if len(page.Tables) != 1 || page.Tables[0].Table != "one" || page.Tables[0].Recommendation.Merge {
		t.Errorf("tables page 2: %+v", page)
	}
	e.do(t, "GET", "/api/v1/clusters/wh/databases/m/tables?needs_merge=true&sort=name", viewerToken, nil).json(t, &page)
	if len(page.Tables) != 2 || page.Tables[0].Table != "events" {
		t.Errorf("tables needing a merge: %+v", page)
	}

	var info merge.TableMetrics
	e.do(t, "GET", "/api/v1/tables/wh/m/events/info", viewerToken, nil).json(t, &info)
	if info.Stats.Files != 11 || info.Partitions != 2 || info.Recommendation.Strategy != merge.StrategySafeMerge || len(info.Health.Rules) == 0 || info.Source != merge.SourceListing {
		t.Errorf("info: %+v", info)
	}
	var parts struct {
		ScanID     string `json:"scan_id"`
		Partitions []merge.PartitionMetrics
	}
	e.do(t, "GET", "/api/v1/tables/wh/m/events/partitions", viewerToken, nil).json(t, &parts)
	if parts.ScanID != sc.ID || len(parts.Partitions) != 2 || parts.Partitions[0].Partition != "dt=2024-01-01" || parts.Partitions[0].Stats.Files != 7 {
		t.Errorf("partitions: %+v", parts)
	}
	// The standalone function answers the same.
	var fn merge.TableMetrics
	e.do(t, "GET", "/TableInfo?cluster_id=wh&db=m&table=events", viewerToken, nil).json(t, &fn)
	if fn.ScanID != info.ScanID || fn.Stats != info.Stats {
		t.Errorf("TableInfo function: %+v", fn)
	}

	// A whole-cluster scan adds a point to the trend and a line to each table's history.
	startScan(t, e, disc, nil)
	var hist struct{ History []merge.TableMetrics }
	e.do(t, "GET", "/api/v1/tables/wh/m/events/history?limit=5", viewerToken, nil).json(t, &hist)
	if len(hist.History) != 2 || hist.History[1].ScanID != sc.ID {
		t.Errorf("history: %+v", hist)
	}
	var sum merge.Summary
	e.do(t, "GET", "/api/v1/dashboard/summary", viewerToken, nil).json(t, &sum)
	if sum.Tables != 3 || sum.Files != 15 || len(sum.Worst) != 2 || sum.Worst[0].Table != "events" || len(sum.Trend) != 1 || sum.Trend[0].Totals.Files != 15 || len(sum.HistogramLabels) != 6 {
		t.Errorf("summary: %+v", sum)
	}
}

func TestDiscoveryErrors(t *testing.T) {
	e, _ := discoveryEnv(t)
	for _, c := range []struct {
		name, method, path, token string
		body                      any
		status                    int
		want                      string
	}{
		{"a viewer cannot scan", "POST", "/api/v1/clusters/wh/scans", viewerToken, nil, http.StatusForbidden, "operator"},
		{"anonymous", "GET", "/api/v1/dashboard/summary", "", nil, http.StatusUnauthorized, ""},
		{"unknown cluster", "POST", "/api/v1/clusters/nope/scans", operatorToken, nil, http.StatusNotFound, "nope"},
		{"unknown field", "POST", "/api/v1/clusters/wh/scans", operatorToken, `{"database":"m"}`, http.StatusBadRequest, "unknown field"},
		{"quote in a name", "POST", "/api/v1/clusters/wh/scans", operatorToken, `{"database_name":"m","table_name":"a'b"}`, http.StatusBadRequest, "table_name"},
		{"partitions without a table", "POST", "/api/v1/clusters/wh/scans", operatorToken, `{"database_name":"m","partitions":{"dt":"x"}}`, http.StatusBadRequest, "table_name"},
		{"unknown scan", "GET", "/api/v1/clusters/wh/scans/abc123", viewerToken, nil, http.StatusNotFound, "abc123"},
		{"never scanned", "GET", "/api/v1/tables/wh/m/events/info", viewerToken, nil, http.StatusNotFound, "never scanned"},
		{"bad table name", "GET", "/api/v1/tables/wh/m/a%60b/partitions", viewerToken, nil, http.StatusBadRequest, "table_name"},
		{"bad sort", "GET", "/api/v1/clusters/wh/databases/m/tables?sort=size", viewerToken, nil, http.StatusBadRequest, "sort"},
		{"bad page token", "GET", "/api/v1/clusters/wh/databases/m/tables?page_token=zz", viewerToken, nil, http.StatusBadRequest, "page_token"},
		{"bad limit", "GET", "/api/v1/tables/wh/m/events/history?limit=-1", viewerToken, nil, http.StatusBadRequest, "limit"},
		{"unknown parameter", "GET", "/api/v1/dashboard/summary?cluster=wh", viewerToken, nil, http.StatusBadRequest, "unknown query parameter"},
		{"bad cluster in the summary", "GET", "/api/v1/dashboard/summary?cluster_id=A!", viewerToken, nil, http.StatusBadRequest, "cluster_id"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, c.method, c.path, c.token, c.body)
			if r.status != c.status || !strings.Contains(string(r.body), c.want) {
				t.Errorf("%s %s: %d %s, want %d with %q", c.method, c.path, r.status, r.body, c.status, c.want)
			}
		})
	}
}

func TestDiscoveryNotConfigured(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	if r := e.do(t, "GET", "/api/v1/dashboard/summary", viewerToken, nil); r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "discovery is not configured") {
		t.Errorf("summary without discovery: %d %s", r.status, r.body)
	}
}
