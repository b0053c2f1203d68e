package functions

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Discovery operations: scans of a cluster and the metrics they keep. A standalone function
// takes the path's parameters as query parameters of the same names (GetScan?id=...&scan_id=...,
// TableInfo?cluster_id=...&db=...&table=...).
var discoveryOperations = []operation{
	{method: http.MethodPost, path: "/api/v1/clusters/{id}/scans", fn: "StartScan", role: RoleOperator, handle: (*Server).startScan},
	{method: http.MethodGet, path: "/api/v1/clusters/{id}/scans/{scan_id}", fn: "GetScan", role: RoleViewer, handle: (*Server).getScan},
	{method: http.MethodPost, path: "/api/v1/clusters/{id}/scans/{scan_id}/cancel", fn: "CancelScan", role: RoleOperator, handle: (*Server).cancelScan},
	{method: http.MethodGet, path: "/api/v1/clusters/{id}/databases", fn: "ListDatabases", role: RoleViewer, handle: (*Server).listDatabases},
	{method: http.MethodGet, path: "/api/v1/clusters/{id}/databases/{db}/tables", fn: "ListTables", role: RoleViewer, handle: (*Server).listTables},
	{method: http.MethodGet, path: "/api/v1/tables/{cluster_id}/{db}/{table}/info", fn: "TableInfo", role: RoleViewer, handle: (*Server).tableInfo},
	{method: http.MethodGet, path: "/api/v1/tables/{cluster_id}/{db}/{table}/partitions", fn: "TablePartitions", role: RoleViewer, handle: (*Server).tablePartitions},
	{method: http.MethodGet, path: "/api/v1/tables/{cluster_id}/{db}/{table}/history", fn: "TableHistory", role: RoleViewer, handle: (*Server).tableHistory},
	{method: http.MethodGet, path: "/api/v1/dashboard/summary", fn: "DashboardSummary", role: RoleViewer, handle: (*Server).dashboardSummary},
}

func init() { register(discoveryOperations) }

// Discovery is what the discovery handlers call; *discovery.Service implements it.
type Discovery interface {
	StartScan(ctx context.Context, clusterID string, scope merge.ScanScope) (*merge.Scan, error)
	GetScan(ctx context.Context, clusterID, id string) (*merge.Scan, error)
	CancelScan(ctx context.Context, clusterID, id string) (*merge.Scan, error)
	Databases(ctx context.Context, clusterID string) ([]*merge.DatabaseMetrics, error)
	Tables(ctx context.Context, f merge.TableMetricsFilter) (merge.TableMetricsPage, error)
	TableInfo(ctx context.Context, clusterID, db, table string) (*merge.TableMetrics, error)
	Partitions(ctx context.Context, clusterID, db, table string) (*merge.TableMetrics, []merge.PartitionMetrics, error)
	History(ctx context.Context, clusterID, db, table string, limit int) ([]*merge.TableMetrics, error)
	Summary(ctx context.Context, clusterID string) (*merge.Summary, error)
}

// WithDiscovery serves the discovery operations through d; without it they answer 503.
func (s *Server) WithDiscovery(d Discovery) *Server {
	s.discovery = d
	return s
}

func (s *Server) disc() (Discovery, error) {
	if s.discovery == nil {
		return nil, merge.Errorf(merge.ErrUnavailable, "discovery is not configured on this server")
	}
	return s.discovery, nil
}

// param is a path parameter under the REST router, or the query parameter of the same name
// for a standalone function.
func param(r *http.Request, name string) string {
	if v := r.PathValue(name); v != "" {
		return v
	}
	return r.URL.Query().Get(name)
}

// scanBody is the scope of a scan; an empty body or object scans the whole cluster.
type scanBody struct {
	DatabaseName string          `json:"database_name"`
	TableName    string          `json:"table_name"`
	Partitions   partitionFilter `json:"partitions"`
}

func (s *Server) startScan(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r, "id"); err != nil {
		return err
	}
	d, err := s.disc()
	if err != nil {
		return err
	}
	var b scanBody
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &b); err != nil {
			return err
		}
	}
	id := param(r, "id")
	sc, err := d.StartScan(r.Context(), id, merge.ScanScope{Database: b.DatabaseName, Table: b.TableName, Partitions: b.Partitions})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/clusters/"+id+"/scans/"+sc.ID)
	writeJSON(w, http.StatusAccepted, sc)
	return nil
}

func (s *Server) getScan(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r, "id", "scan_id"); err != nil {
		return err
	}
	d, err := s.disc()
	if err != nil {
		return err
	}
	sc, err := d.GetScan(r.Context(), param(r, "id"), param(r, "scan_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sc)
	return nil
}

func (s *Server) cancelScan(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r, "id", "scan_id"); err != nil {
		return err
	}
	d, err := s.disc()
	if err != nil {
		return err
	}
	sc, err := d.CancelScan(r.Context(), param(r, "id"), param(r, "scan_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sc)
	return nil
}

type databasesBody struct {
	Databases []*merge.DatabaseMetrics `json:"databases"`
}

func (s *Server) listDatabases(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r, "id"); err != nil {
		return err
	}
	d, err := s.disc()
	if err != nil {
		return err
	}
	dbs, err := d.Databases(r.Context(), param(r, "id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, databasesBody{Databases: dbs})
	return nil
}

func (s *Server) listTables(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParams(r, "id", "db", "sort", "needs_merge", "strategy", "max_score", "limit", "page_token")
	if err != nil {
		return err
	}
	d, err := s.disc()
	if err != nil {
		return err
	}
	f := merge.TableMetricsFilter{ClusterID: param(r, "id"), Database: param(r, "db"), Sort: q.Get("sort"), Strategy: merge.Strategy(q.Get("strategy")), PageToken: q.Get("page_token")}
	if f.Database == "" {
		return merge.Errorf(merge.ErrInvalid, "database_name is required")
	}
	switch v := q.Get("needs_merge"); v {
	case "", "false":
	case "true":
		f.NeedsMerge = true
	default:
		return merge.Errorf(merge.ErrInvalid, "needs_merge must be true or false")
	}
	maxScore, err := intParam(q, "max_score")
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit")
	if err != nil {
		return err
	}
	if limit < 0 || limit > merge.MaxListLimit || maxScore < 0 || maxScore > 100 {
		return merge.Errorf(merge.ErrInvalid, "limit must be between 1 and %d and max_score between 0 and 100", merge.MaxListLimit)
	}
	f.MaxScore, f.Limit = int(maxScore), int(limit)
	page, err := d.Tables(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// tableParams reads and checks the query of a table operation.
func tableParams(r *http.Request, extra ...string) (cluster, db, table string, err error) {
	if _, err := queryParams(r, append([]string{"cluster_id", "db", "table"}, extra...)...); err != nil {
		return "", "", "", err
	}
	return param(r, "cluster_id"), param(r, "db"), param(r, "table"), nil
}

func (s *Server) tableInfo(w http.ResponseWriter, r *http.Request) error {
	cluster, db, table, err := tableParams(r)
	if err != nil {
		return err
	}
	d, err := s.disc()
	if err != nil {
		return err
	}
	m, err := d.TableInfo(r.Context(), cluster, db, table)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

type partitionsBody struct {
	ScanID     string                   `json:"scan_id"`
	ScannedAt  time.Time                `json:"scanned_at"`
	Partitions []merge.PartitionMetrics `json:"partitions"`
}

func (s *Server) tablePartitions(w http.ResponseWriter, r *http.Request) error {
	cluster, db, table, err := tableParams(r)
	if err != nil {
		return err
	}
	d, err := s.disc()
	if err != nil {
		return err
	}
	m, parts, err := d.Partitions(r.Context(), cluster, db, table)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, partitionsBody{ScanID: m.ScanID, ScannedAt: m.ScannedAt, Partitions: parts})
	return nil
}

type historyBody struct {
	History []*merge.TableMetrics `json:"history"`
}

func (s *Server) tableHistory(w http.ResponseWriter, r *http.Request) error {
	cluster, db, table, err := tableParams(r, "limit")
	if err != nil {
		return err
	}
	d, err := s.disc()
	if err != nil {
		return err
	}
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil {
			return merge.Errorf(merge.ErrInvalid, "limit must be an integer")
		}
	}
	h, err := d.History(r.Context(), cluster, db, table, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, historyBody{History: h})
	return nil
}

func (s *Server) dashboardSummary(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParams(r, "cluster_id")
	if err != nil {
		return err
	}
	d, err := s.disc()
	if err != nil {
		return err
	}
	sum, err := d.Summary(r.Context(), q.Get("cluster_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sum)
	return nil
}
