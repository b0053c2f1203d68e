package firestore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	gfs "cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Discovery's layout:
//
//	scans/{id}                                  one document per scan (bounded log inside)
//	table_metrics/{cluster.db.table}            a table's latest metrics
//	table_metrics/{key}/history/{time-scan}     every scan's metrics of the table, kept for
//	                                            the retention period
//	table_metrics/{key}/partitions/{scan-n}     the partitions of one scan of the table, in
//	                                            chunks of partitionChunk, so a table of any
//	                                            number of partitions stays far below 1 MiB
//	                                            per document
//
// The metrics travel as JSON in a "data" field beside the few fields queries filter on. Every
// query filters by equality only or orders one field of a subcollection, so none needs a
// composite index (see TestMetricsQueriesNeedNoCompositeIndex).
const (
	colScans        = "scans"
	colTableMetrics = "table_metrics"
	colHistory      = "history"
	colPartitions   = "partitions"
	// partitionChunk partitions of about 1 to 1.5 kB each (their reasons carry a message code
	// and its arguments beside the text) make a document of a quarter MiB or so; the worst
	// case, long names and errors, stays under half a MiB (TestPartitionChunkSize).
	partitionChunk = 160
	// metricsBatchBytes keeps a commit of partition chunks within Firestore's 10 MiB.
	metricsBatchBytes = 4 << 20
)

var _ merge.MetricsStore = (*Store)(nil)

type scanDoc struct {
	ClusterID string    `firestore:"cluster_id"`
	Status    string    `firestore:"status"`
	CreatedAt time.Time `firestore:"created_at"`
	Data      string    `firestore:"data"`
}

type metricsDoc struct {
	ClusterID string    `firestore:"cluster_id"`
	Database  string    `firestore:"database_name"`
	Table     string    `firestore:"table_name"`
	ScanID    string    `firestore:"scan_id"`
	ScannedAt time.Time `firestore:"scanned_at"`
	Data      string    `firestore:"data"`
}

type partitionsDoc struct {
	ScanID string `firestore:"scan_id"`
	Chunk  int    `firestore:"chunk"`
	Data   string `firestore:"data"`
}

func (s *Store) scanRef(id string) *gfs.DocumentRef { return s.client.Collection(colScans).Doc(id) }

func (s *Store) tableRef(cluster, db, table string) *gfs.DocumentRef {
	// Cluster IDs, databases and tables never contain '.', so the key is unambiguous.
	return s.client.Collection(colTableMetrics).Doc(cluster + "." + db + "." + table)
}

func encodeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// CreateScan stores a new scan.
func (s *Store) CreateScan(ctx context.Context, sc *merge.Scan) error {
	if err := checkID("scan", sc.ID); err != nil || sc.ClusterID == "" {
		return merge.Errorf(merge.ErrInvalid, "scan id and cluster id are required")
	}
	data, err := encodeJSON(sc)
	if err != nil {
		return err
	}
	_, err = s.scanRef(sc.ID).Create(ctx, scanDoc{ClusterID: sc.ClusterID, Status: string(sc.Status), CreatedAt: sc.CreatedAt, Data: data})
	if status.Code(err) == codes.AlreadyExists {
		return merge.Errorf(merge.ErrConflict, "scan %s already exists", sc.ID)
	}
	if err != nil {
		return fmt.Errorf("firestore: create scan %s: %w", sc.ID, translate(err))
	}
	return nil
}

func (s *Store) readScan(ctx context.Context, cluster, id string) (*merge.Scan, *gfs.DocumentSnapshot, error) {
	if err := checkID("scan", id); err != nil {
		return nil, nil, err
	}
	snap, err := s.scanRef(id).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, nil, merge.Errorf(merge.ErrNotFound, "scan %q of cluster %q not found", id, cluster)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("firestore: get scan %s: %w", id, translate(err))
	}
	sc, err := decodeScan(snap)
	if err != nil {
		return nil, nil, err
	}
	if sc.ClusterID != cluster {
		return nil, nil, merge.Errorf(merge.ErrNotFound, "scan %q of cluster %q not found", id, cluster)
	}
	return sc, snap, nil
}

func decodeScan(snap *gfs.DocumentSnapshot) (*merge.Scan, error) {
	var d scanDoc
	if err := snap.DataTo(&d); err != nil {
		return nil, fmt.Errorf("firestore: decode scan %s: %w", snap.Ref.ID, err)
	}
	var sc merge.Scan
	if err := json.Unmarshal([]byte(d.Data), &sc); err != nil {
		return nil, fmt.Errorf("firestore: decode scan %s: %w", snap.Ref.ID, err)
	}
	return &sc, nil
}

// GetScan returns a scan of a cluster.
func (s *Store) GetScan(ctx context.Context, cluster, id string) (*merge.Scan, error) {
	sc, _, err := s.readScan(ctx, cluster, id)
	return sc, err
}

// UpdateScan reads the scan, applies fn and writes it back on condition that it did not change
// in between (compare-and-set, as UpdateTask), reading again after a lost race.
func (s *Store) UpdateScan(ctx context.Context, cluster, id string, fn func(*merge.Scan) error) (*merge.Scan, error) {
	for attempt := 1; ; attempt++ {
		sc, snap, err := s.readScan(ctx, cluster, id)
		if err != nil {
			return nil, err
		}
		if err := fn(sc); err != nil {
			return nil, err
		}
		sc.ID, sc.ClusterID = id, cluster
		data, err := encodeJSON(sc)
		if err != nil {
			return nil, err
		}
		_, err = snap.Ref.Update(ctx, []gfs.Update{{Path: "status", Value: string(sc.Status)}, {Path: "data", Value: data}}, gfs.LastUpdateTime(snap.UpdateTime))
		switch {
		case err == nil:
			return sc, nil
		case !lostRace(err) || attempt == casAttempts:
			return nil, fmt.Errorf("firestore: update scan %s: %w", id, translate(err))
		}
		if err := backoff(ctx, attempt); err != nil {
			return nil, fmt.Errorf("firestore: update scan %s: %w", id, translate(err))
		}
	}
}

// ListScans queries one field (the cluster, else the statuses) and filters and orders the
// rest in memory.
func (s *Store) ListScans(ctx context.Context, cluster string, statuses ...merge.ScanStatus) ([]*merge.Scan, error) {
	q := s.client.Collection(colScans).Query
	switch {
	case cluster != "":
		q = q.Where("cluster_id", "==", cluster)
	case len(statuses) > 0:
		names := make([]string, len(statuses))
		for i, st := range statuses {
			names[i] = string(st)
		}
		q = q.Where("status", "in", names)
	}
	snaps, err := q.Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("firestore: list scans: %w", translate(err))
	}
	out := make([]*merge.Scan, 0, len(snaps))
	for _, snap := range snaps {
		sc, err := decodeScan(snap)
		if err != nil {
			return nil, err
		}
		if len(statuses) == 0 || slices.Contains(statuses, sc.Status) {
			out = append(out, sc)
		}
	}
	slices.SortFunc(out, func(a, b *merge.Scan) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

func historyID(m *merge.TableMetrics) string {
	return fmt.Sprintf("%020d-%s", m.ScannedAt.UnixNano(), m.ScanID)
}

// SaveTableMetrics writes the partition chunks first, in commits within Firestore's limits,
// then the history entry and the latest metrics together: a reader never finds metrics whose
// partitions are missing. Then it prunes the table's history older than keepAfter.
func (s *Store) SaveTableMetrics(ctx context.Context, m *merge.TableMetrics, parts []merge.PartitionMetrics, keepAfter time.Time) error {
	if err := checkID("scan", m.ScanID); err != nil {
		return merge.Errorf(merge.ErrInvalid, "metrics need a scan id")
	}
	ref := s.tableRef(m.ClusterID, m.Database, m.Table)
	data, err := encodeJSON(m)
	if err != nil {
		return err
	}
	doc := metricsDoc{ClusterID: m.ClusterID, Database: m.Database, Table: m.Table, ScanID: m.ScanID, ScannedAt: m.ScannedAt, Data: data}
	// Writes are gathered and committed in write-only transactions, each within the limits.
	type write struct {
		ref *gfs.DocumentRef
		doc any
	}
	var pending []write
	size := 0
	commit := func() error {
		err := s.client.RunTransaction(ctx, func(_ context.Context, tx *gfs.Transaction) error {
			for _, w := range pending {
				if err := tx.Set(w.ref, w.doc); err != nil {
					return err
				}
			}
			return nil
		})
		pending, size = nil, 0
		if err != nil {
			return fmt.Errorf("firestore: save metrics of %s.%s: %w", m.Database, m.Table, translate(err))
		}
		return nil
	}
	for i := 0; i == 0 || i*partitionChunk < len(parts); i++ {
		chunk := parts[min(i*partitionChunk, len(parts)):min((i+1)*partitionChunk, len(parts))]
		if chunk == nil {
			chunk = []merge.PartitionMetrics{}
		}
		pdata, err := encodeJSON(chunk)
		if err != nil {
			return err
		}
		if size+len(pdata) > metricsBatchBytes {
			if err := commit(); err != nil {
				return err
			}
		}
		pending = append(pending, write{ref.Collection(colPartitions).Doc(fmt.Sprintf("%s-%06d", m.ScanID, i)), partitionsDoc{ScanID: m.ScanID, Chunk: i, Data: pdata}})
		size += len(pdata)
	}
	pending = append(pending, write{ref.Collection(colHistory).Doc(historyID(m)), doc}, write{ref, doc})
	if err := commit(); err != nil {
		return err
	}
	if keepAfter.IsZero() {
		return nil
	}
	old, err := ref.Collection(colHistory).Where("scanned_at", "<", keepAfter).Documents(ctx).GetAll()
	if err != nil {
		return fmt.Errorf("firestore: prune history of %s.%s: %w", m.Database, m.Table, translate(err))
	}
	for _, h := range old {
		var d metricsDoc
		if err := h.DataTo(&d); err != nil {
			return fmt.Errorf("firestore: decode history %s: %w", h.Ref.ID, err)
		}
		if d.ScanID == m.ScanID {
			continue
		}
		chunks, err := ref.Collection(colPartitions).Where("scan_id", "==", d.ScanID).Documents(ctx).GetAll()
		if err != nil {
			return fmt.Errorf("firestore: prune history of %s.%s: %w", m.Database, m.Table, translate(err))
		}
		err = s.client.RunTransaction(ctx, func(_ context.Context, tx *gfs.Transaction) error {
			for _, c := range chunks {
				if err := tx.Delete(c.Ref); err != nil {
					return err
				}
			}
			return tx.Delete(h.Ref)
		})
		if err != nil {
			return fmt.Errorf("firestore: prune history of %s.%s: %w", m.Database, m.Table, translate(err))
		}
	}
	return nil
}

func decodeMetrics(snap *gfs.DocumentSnapshot) (*merge.TableMetrics, error) {
	var d metricsDoc
	if err := snap.DataTo(&d); err != nil {
		return nil, fmt.Errorf("firestore: decode metrics %s: %w", snap.Ref.ID, err)
	}
	m := new(merge.TableMetrics)
	if err := json.Unmarshal([]byte(d.Data), m); err != nil {
		return nil, fmt.Errorf("firestore: decode metrics %s: %w", snap.Ref.ID, err)
	}
	return m, nil
}

// LatestTableMetrics returns a table's newest metrics.
func (s *Store) LatestTableMetrics(ctx context.Context, cluster, db, table string) (*merge.TableMetrics, error) {
	if err := checkID("table", cluster+"."+db+"."+table); err != nil {
		return nil, err
	}
	snap, err := s.tableRef(cluster, db, table).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, merge.Errorf(merge.ErrNotFound, "%s.%s of cluster %q was never scanned", db, table, cluster)
	}
	if err != nil {
		return nil, fmt.Errorf("firestore: get metrics of %s.%s: %w", db, table, translate(err))
	}
	return decodeMetrics(snap)
}

// PartitionMetrics reads a scan's chunks of the table and joins them in order.
func (s *Store) PartitionMetrics(ctx context.Context, cluster, db, table, scanID string) ([]merge.PartitionMetrics, error) {
	if err := checkID("table", cluster+"."+db+"."+table); err != nil {
		return nil, err
	}
	snaps, err := s.tableRef(cluster, db, table).Collection(colPartitions).Where("scan_id", "==", scanID).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("firestore: get partition metrics of %s.%s: %w", db, table, translate(err))
	}
	if len(snaps) == 0 {
		return nil, merge.Errorf(merge.ErrNotFound, "no partition metrics of %s.%s from scan %q", db, table, scanID)
	}
	docs := make([]partitionsDoc, len(snaps))
	for i, snap := range snaps {
		if err := snap.DataTo(&docs[i]); err != nil {
			return nil, fmt.Errorf("firestore: decode partition metrics %s: %w", snap.Ref.ID, err)
		}
	}
	slices.SortFunc(docs, func(a, b partitionsDoc) int { return cmp.Compare(a.Chunk, b.Chunk) })
	out := []merge.PartitionMetrics{}
	for _, d := range docs {
		var chunk []merge.PartitionMetrics
		if err := json.Unmarshal([]byte(d.Data), &chunk); err != nil {
			return nil, fmt.Errorf("firestore: decode partition metrics: %w", err)
		}
		out = append(out, chunk...)
	}
	return out, nil
}

// listTablesShape is the query ListTableMetrics runs: equality on the cluster and, when
// given, the database.
func listTablesShape(f merge.TableMetricsFilter) queryShape {
	shape := queryShape{Collection: colTableMetrics, Equalities: []string{"cluster_id"}}
	if f.Database != "" {
		shape.Equalities = append(shape.Equalities, "database_name")
	}
	return shape
}

// ListTableMetrics reads the latest metrics of the cluster (or one database) and pages them.
func (s *Store) ListTableMetrics(ctx context.Context, f merge.TableMetricsFilter) (merge.TableMetricsPage, error) {
	if err := f.Validate(); err != nil {
		return merge.TableMetricsPage{}, err
	}
	q := s.client.Collection(colTableMetrics).Query
	for _, field := range listTablesShape(f).Equalities {
		v := f.ClusterID
		if field == "database_name" {
			v = f.Database
		}
		q = q.Where(field, "==", v)
	}
	snaps, err := q.Documents(ctx).GetAll()
	if err != nil {
		return merge.TableMetricsPage{}, fmt.Errorf("firestore: list table metrics: %w", translate(err))
	}
	all := make([]*merge.TableMetrics, 0, len(snaps))
	for _, snap := range snaps {
		m, err := decodeMetrics(snap)
		if err != nil {
			return merge.TableMetricsPage{}, err
		}
		all = append(all, m)
	}
	return merge.PageTableMetrics(all, f)
}

// TableHistory orders the table's history subcollection by time, newest first.
func (s *Store) TableHistory(ctx context.Context, cluster, db, table string, limit int) ([]*merge.TableMetrics, error) {
	if err := checkID("table", cluster+"."+db+"."+table); err != nil {
		return nil, err
	}
	q := s.tableRef(cluster, db, table).Collection(colHistory).OrderBy("scanned_at", gfs.Desc)
	if limit > 0 {
		q = q.Limit(limit)
	}
	snaps, err := q.Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("firestore: history of %s.%s: %w", db, table, translate(err))
	}
	out := make([]*merge.TableMetrics, 0, len(snaps))
	for _, snap := range snaps {
		m, err := decodeMetrics(snap)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}
