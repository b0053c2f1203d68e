package discovery

import (
	"context"
	"slices"
	"strings"

	"github.com/hivemerge/hivemerge/shared/fsys/scan"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// Registry lists the registered clusters, for the dashboard.
type Registry interface {
	ListClusters(ctx context.Context) ([]*merge.Cluster, error)
}

// allTables reads every latest table metrics of a cluster (or database), page by page.
func (s *Service) allTables(ctx context.Context, clusterID, db string) ([]*merge.TableMetrics, error) {
	f := merge.TableMetricsFilter{ClusterID: clusterID, Database: db, Sort: merge.SortName, Limit: merge.MaxListLimit}
	var out []*merge.TableMetrics
	for {
		page, err := s.Store.ListTableMetrics(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Tables...)
		if page.NextPageToken == "" {
			return out, nil
		}
		f.PageToken = page.NextPageToken
	}
}

// Databases lists the cluster's databases: those Hive lists now (when it answers) and those
// with scanned tables, with the totals of their latest metrics, by name.
func (s *Service) Databases(ctx context.Context, clusterID string) ([]*merge.DatabaseMetrics, error) {
	s.init()
	if err := merge.CheckClusterID("cluster_id", clusterID); err != nil {
		return nil, err
	}
	h, _, err := s.Connector.Connect(ctx, clusterID)
	if err != nil {
		return nil, err
	}
	tables, err := s.allTables(ctx, clusterID, "")
	if err != nil {
		return nil, err
	}
	byName := map[string]*merge.DatabaseMetrics{}
	get := func(name string) *merge.DatabaseMetrics {
		d, ok := byName[name]
		if !ok {
			d = &merge.DatabaseMetrics{Name: name, WorstScore: 100}
			byName[name] = d
		}
		return d
	}
	// Hive's own list is best effort: the metrics answer even when the cluster is down.
	if names, err := h.Databases(ctx); err == nil {
		for _, n := range names {
			get(n)
		}
	} else {
		s.Logger.Warn("databases: Hive did not answer; listing scanned databases only", "cluster_id", clusterID, "error", err.Error())
	}
	for _, m := range tables {
		d := get(m.Database)
		d.Scanned = true
		d.Tables++
		if m.Recommendation.Merge {
			d.TablesToMerge++
		}
		d.Files += m.Stats.Files
		d.Bytes += m.Stats.Bytes
		d.SmallFiles += m.Stats.SmallFiles
		d.Savings = d.Savings.Add(m.Savings)
		d.WorstScore = min(d.WorstScore, m.Health.Score)
		for i := range d.Histogram {
			d.Histogram[i] += m.Stats.Histogram[i]
		}
		if m.ScannedAt.After(d.LastScannedAt) {
			d.LastScannedAt = m.ScannedAt
		}
	}
	out := make([]*merge.DatabaseMetrics, 0, len(byName))
	for _, d := range byName {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *merge.DatabaseMetrics) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Tables lists the latest metrics of a database's tables (see merge.TableMetricsFilter).
func (s *Service) Tables(ctx context.Context, f merge.TableMetricsFilter) (merge.TableMetricsPage, error) {
	if err := f.Validate(); err != nil {
		return merge.TableMetricsPage{}, err
	}
	return s.Store.ListTableMetrics(ctx, f)
}

func checkTable(clusterID, db, table string) error {
	if err := merge.CheckClusterID("cluster_id", clusterID); err != nil {
		return err
	}
	if err := merge.CheckIdentifier("database_name", db); err != nil {
		return err
	}
	return merge.CheckIdentifier("table_name", table)
}

// TableInfo returns a table's latest metrics.
func (s *Service) TableInfo(ctx context.Context, clusterID, db, table string) (*merge.TableMetrics, error) {
	if err := checkTable(clusterID, db, table); err != nil {
		return nil, err
	}
	return s.Store.LatestTableMetrics(ctx, clusterID, db, table)
}

// Partitions returns the partitions of a table's latest metrics.
func (s *Service) Partitions(ctx context.Context, clusterID, db, table string) (*merge.TableMetrics, []merge.PartitionMetrics, error) {
	m, err := s.TableInfo(ctx, clusterID, db, table)
	if err != nil {
		return nil, nil, err
	}
	parts, err := s.Store.PartitionMetrics(ctx, clusterID, db, table, m.ScanID)
	return m, parts, err
}

// History returns up to limit metrics of a table, newest first (limit 0: merge.DefaultListLimit).
func (s *Service) History(ctx context.Context, clusterID, db, table string, limit int) ([]*merge.TableMetrics, error) {
	if err := checkTable(clusterID, db, table); err != nil {
		return nil, err
	}
	switch {
	case limit == 0:
		limit = merge.DefaultListLimit
	case limit < 0 || limit > merge.MaxListLimit:
		return nil, merge.Errorf(merge.ErrInvalid, "limit must be between 1 and %d", merge.MaxListLimit)
	}
	return s.Store.TableHistory(ctx, clusterID, db, table, limit)
}

// worstShown is how many tables the summary ranks.
const worstShown = 10

// Summary sums the latest metrics of one cluster, or of every registered one when clusterID
// is empty.
func (s *Service) Summary(ctx context.Context, clusterID string) (*merge.Summary, error) {
	s.init()
	ids := []string{clusterID}
	if clusterID == "" {
		if s.Registry == nil {
			return nil, merge.Errorf(merge.ErrInvalid, "cluster_id is required")
		}
		cs, err := s.Registry.ListClusters(ctx)
		if err != nil {
			return nil, err
		}
		ids = ids[:0]
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
	} else if err := merge.CheckClusterID("cluster_id", clusterID); err != nil {
		return nil, err
	}
	sum := &merge.Summary{Clusters: len(ids), HistogramLabels: scan.Labels[:], Worst: []*merge.TableMetrics{}, Trend: []merge.TrendPoint{}, Alerts: []*merge.TableMetrics{}}
	var all []*merge.TableMetrics
	for _, id := range ids {
		tables, err := s.allTables(ctx, id, "")
		if err != nil {
			return nil, err
		}
		all = append(all, tables...)
		scans, err := s.Store.ListScans(ctx, id, merge.ScanSucceeded)
		if err != nil {
			return nil, err
		}
		for _, sc := range scans {
			if sc.Scope.Database == "" {
				sum.Trend = append(sum.Trend, merge.TrendPoint{ClusterID: id, ScanID: sc.ID, Time: sc.FinishedAt, Totals: sc.Totals})
			}
		}
	}
	for _, m := range all {
		sum.Tables++
		sum.Partitions += m.Partitions
		sum.Files += m.Stats.Files
		sum.Bytes += m.Stats.Bytes
		sum.SmallFiles += m.Stats.SmallFiles
		for i := range sum.Histogram {
			sum.Histogram[i] += m.Stats.Histogram[i]
		}
		if m.Growth != nil && m.Growth.Alert {
			sum.Alerts = append(sum.Alerts, m)
		}
		if m.Recommendation.Merge {
			sum.TablesToMerge++
			sum.Savings = sum.Savings.Add(m.Savings)
			sum.Worst = append(sum.Worst, m)
		}
	}
	// Ranked by what a merge would save, the worst score breaking ties.
	slices.SortFunc(sum.Worst, func(a, b *merge.TableMetrics) int {
		if a.Savings.NameNodeObjects != b.Savings.NameNodeObjects {
			return int(min(max(b.Savings.NameNodeObjects-a.Savings.NameNodeObjects, -1), 1))
		}
		return a.Health.Score - b.Health.Score
	})
	sum.Worst = sum.Worst[:min(len(sum.Worst), worstShown)]
	slices.SortFunc(sum.Trend, func(a, b merge.TrendPoint) int { return a.Time.Compare(b.Time) })
	return sum, nil
}
