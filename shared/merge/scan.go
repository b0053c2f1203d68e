package merge

import (
	"context"
	"time"
)

// ScanStatus is where a scan is in its life.
type ScanStatus string

// Scan statuses. A scan whose worker stopped heartbeating (the process died) is interrupted,
// never running forever.
const (
	ScanPending     ScanStatus = "pending"
	ScanRunning     ScanStatus = "running"
	ScanSucceeded   ScanStatus = "succeeded"
	ScanFailed      ScanStatus = "failed"
	ScanCancelled   ScanStatus = "cancelled"
	ScanInterrupted ScanStatus = "interrupted"
)

// Active reports whether a scan with this status may still change.
func (s ScanStatus) Active() bool { return s == ScanPending || s == ScanRunning }

// ScanScope is what a scan covers: the whole cluster (empty), a database, a table, or listed
// partitions of a table.
type ScanScope struct {
	Database   string          `json:"database_name,omitempty"`
	Table      string          `json:"table_name,omitempty"`
	Partitions []PartitionSpec `json:"partitions,omitempty"`
}

// Validate refuses scopes hivemerge cannot quote safely or that make no sense.
func (s ScanScope) Validate() error {
	if s.Database != "" {
		if err := CheckIdentifier("database_name", s.Database); err != nil {
			return err
		}
	}
	if s.Table != "" {
		if s.Database == "" {
			return Errorf(ErrInvalid, "table_name needs database_name")
		}
		if err := CheckIdentifier("table_name", s.Table); err != nil {
			return err
		}
	}
	if len(s.Partitions) > 0 && s.Table == "" {
		return Errorf(ErrInvalid, "partitions need table_name")
	}
	if len(s.Partitions) > MaxPartitionSpecs {
		return Errorf(ErrInvalid, "partitions has more than %d entries", MaxPartitionSpecs)
	}
	for _, p := range s.Partitions {
		if err := CheckPartitionSpec(p); err != nil {
			return err
		}
	}
	return nil
}

// ScanProgress counts what a scan has done.
type ScanProgress struct {
	TablesTotal  int64 `json:"tables_total"`
	TablesDone   int64 `json:"tables_done"`
	TablesFailed int64 `json:"tables_failed"`
	// PartitionsListed were listed on the filesystem, PartitionsReused kept the previous
	// scan's figures (unchanged), PartitionsMetastore came from Hive's statistics.
	PartitionsListed    int64 `json:"partitions_listed"`
	PartitionsReused    int64 `json:"partitions_reused"`
	PartitionsMetastore int64 `json:"partitions_metastore"`
	FilesListed         int64 `json:"files_listed"`
	BytesListed         int64 `json:"bytes_listed"`
}

// ScanLogEntry is one line of a scan's log.
type ScanLogEntry struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
}

// MaxScanLog is how many log entries a scan keeps: the newest, with a count of those dropped,
// so the scan stays one small document.
const MaxScanLog = 200

// Scan is one measurement run over a scope of a cluster.
type Scan struct {
	ID        string       `json:"scan_id"`
	ClusterID string       `json:"cluster_id"`
	Scope     ScanScope    `json:"scope"`
	Status    ScanStatus   `json:"status"`
	Progress  ScanProgress `json:"progress"`
	Error     string       `json:"error,omitempty"`
	// CancelRequested asks the worker to stop at the next table.
	CancelRequested bool `json:"cancel_requested"`
	// Owner is the worker running the scan; Heartbeat is when it last showed it is alive.
	Owner      string         `json:"owner,omitempty"`
	Heartbeat  time.Time      `json:"heartbeat,omitzero"`
	CreatedAt  time.Time      `json:"created_at"`
	StartedAt  time.Time      `json:"started_at,omitzero"`
	FinishedAt time.Time      `json:"finished_at,omitzero"`
	Log        []ScanLogEntry `json:"log"`
	LogDropped int64          `json:"log_dropped,omitempty"`
	// Totals add up the tables this scan measured, for trends.
	Totals ScanTotals `json:"totals"`
}

// ScanTotals add up the metrics of a scan's tables.
type ScanTotals struct {
	Tables     int64   `json:"tables"`
	Partitions int64   `json:"partitions"`
	Files      int64   `json:"files"`
	Bytes      int64   `json:"bytes"`
	SmallFiles int64   `json:"small_files"`
	Savings    Savings `json:"savings"`
}

// Add counts m in the totals.
func (t *ScanTotals) Add(m *TableMetrics) {
	t.Tables++
	t.Partitions += m.Partitions
	t.Files += m.Stats.Files
	t.Bytes += m.Stats.Bytes
	t.SmallFiles += m.Stats.SmallFiles
	t.Savings = t.Savings.Add(m.Savings)
}

// AddLog appends a log entry, keeping the newest MaxScanLog.
func (s *Scan) AddLog(at time.Time, level, msg string) {
	s.Log = append(s.Log, ScanLogEntry{Time: at, Level: level, Message: msg})
	if n := len(s.Log) - MaxScanLog; n > 0 {
		s.Log = append(s.Log[:0], s.Log[n:]...)
		s.LogDropped += int64(n)
	}
}

// TableMetrics are a scan's measurement of one table.
type TableMetrics struct {
	ClusterID string    `json:"cluster_id"`
	Database  string    `json:"database_name"`
	Table     string    `json:"table_name"`
	ScanID    string    `json:"scan_id"`
	ScannedAt time.Time `json:"scanned_at"`

	TableType      string   `json:"table_type"`
	Format         string   `json:"format"`
	Compression    string   `json:"compression,omitempty"`
	StorageHandler string   `json:"storage_handler,omitempty"`
	Transactional  bool     `json:"transactional"`
	InsertOnly     bool     `json:"insert_only"`
	Buckets        int      `json:"buckets"`
	PartitionKeys  []string `json:"partition_keys"`
	Location       string   `json:"location"`

	Partitions        int64       `json:"partitions"`
	PartitionsToMerge int64       `json:"partitions_to_merge"`
	Source            StatsSource `json:"source"`
	Thresholds        Thresholds  `json:"thresholds"`
	Evaluation
	AvgFileSize    int64   `json:"avg_file_size"`
	SmallFileRatio float64 `json:"small_file_ratio"`
	// Growth compares the small files with the previous scan's; nil for a first scan.
	Growth *Growth `json:"growth,omitempty"`
	// Error is why the table could not be measured; its figures are then empty.
	Error string `json:"error,omitempty"`
}

// PartitionMetrics are a scan's measurement of one partition; an unpartitioned table has one
// with an empty Partition.
type PartitionMetrics struct {
	// Partition is Hive's escaped partition name (dt=2024-01-01/hr=00).
	Partition string      `json:"partition"`
	Location  string      `json:"location"`
	Source    StatsSource `json:"source"`
	Evaluation
	AvgFileSize    int64   `json:"avg_file_size"`
	SmallFileRatio float64 `json:"small_file_ratio"`
	// DirModTime, MetastoreFiles and Subdirs tell the next scan whether the partition changed
	// (see package discovery): the location directory's modification time, the metastore's
	// numFiles, and whether the listing met subdirectories.
	DirModTime     time.Time `json:"dir_mod_time,omitzero"`
	MetastoreFiles *int64    `json:"metastore_files,omitempty"`
	Subdirs        bool      `json:"subdirs,omitempty"`
	Error          string    `json:"error,omitempty"`
}

// Sort orders of table listings.
const (
	SortScore   = "score"   // worst health first
	SortSavings = "savings" // most NameNode objects saved first
	SortFiles   = "files"   // most files first
	SortName    = "name"    // by database, then table name
)

// TableMetricsFilter selects the latest metrics of tables.
type TableMetricsFilter struct {
	ClusterID string
	// Database limits the listing to one database; empty lists the cluster.
	Database string
	// NeedsMerge keeps only tables recommended for merging; Strategy only those recommended
	// this strategy.
	NeedsMerge bool
	Strategy   Strategy
	// MaxScore keeps tables scoring at most this (0 means no limit).
	MaxScore int
	Sort     string
	// Limit caps the page size; PageToken continues a previous listing.
	Limit     int
	PageToken string
}

// TableMetricsPage is one page of a table listing.
type TableMetricsPage struct {
	Tables        []*TableMetrics `json:"tables"`
	Total         int             `json:"total"`
	NextPageToken string          `json:"next_page_token,omitempty"`
}

// MetricsStore keeps scans and their metrics. Implementations live in shared/taskstore and all
// pass the conformance cases in shared/taskstore/storetest.
type MetricsStore interface {
	// CreateScan stores a new scan; ErrConflict when its ID exists.
	CreateScan(ctx context.Context, s *Scan) error
	// GetScan fails with ErrNotFound for an unknown ID or another cluster's scan.
	GetScan(ctx context.Context, clusterID, id string) (*Scan, error)
	// UpdateScan applies fn to the stored scan and saves the result atomically; when fn
	// returns an error nothing is saved and that error is returned.
	UpdateScan(ctx context.Context, clusterID, id string, fn func(*Scan) error) (*Scan, error)
	// ListScans returns the scans of a cluster with the given statuses (all when none), newest
	// first.
	ListScans(ctx context.Context, clusterID string, statuses ...ScanStatus) ([]*Scan, error)
	// SaveTableMetrics records a table's metrics and partitions as its latest and adds them to
	// its history, then deletes its history older than keepAfter (zero keeps everything).
	SaveTableMetrics(ctx context.Context, m *TableMetrics, parts []PartitionMetrics, keepAfter time.Time) error
	// LatestTableMetrics is a table's newest metrics; ErrNotFound when it was never scanned.
	LatestTableMetrics(ctx context.Context, clusterID, db, table string) (*TableMetrics, error)
	// PartitionMetrics are the partitions of a table's metrics saved by scanID, in name order.
	PartitionMetrics(ctx context.Context, clusterID, db, table, scanID string) ([]PartitionMetrics, error)
	// ListTableMetrics lists the latest metrics of tables matching f, sorted by f.Sort (ties by
	// name) and paginated.
	ListTableMetrics(ctx context.Context, f TableMetricsFilter) (TableMetricsPage, error)
	// TableHistory returns up to limit metrics of a table, newest first.
	TableHistory(ctx context.Context, clusterID, db, table string, limit int) ([]*TableMetrics, error)
}

// DatabaseMetrics are a database of a cluster with the totals of its scanned tables.
type DatabaseMetrics struct {
	Name string `json:"database_name"`
	// Scanned is false for a database Hive lists whose tables were never scanned.
	Scanned       bool      `json:"scanned"`
	Tables        int64     `json:"tables"`
	TablesToMerge int64     `json:"tables_to_merge"`
	Files         int64     `json:"files"`
	Bytes         int64     `json:"bytes"`
	SmallFiles    int64     `json:"small_files"`
	Savings       Savings   `json:"savings"`
	WorstScore    int       `json:"worst_score"`
	LastScannedAt time.Time `json:"last_scanned_at,omitzero"`
	Histogram     Histogram `json:"histogram"`
}

// Summary is the warehouse at a glance: totals over the latest metrics of every table, the
// tables a merge would help most, the file-size histogram and the trend of whole-cluster scans.
type Summary struct {
	Clusters        int             `json:"clusters"`
	Tables          int64           `json:"tables"`
	TablesToMerge   int64           `json:"tables_to_merge"`
	Partitions      int64           `json:"partitions"`
	Files           int64           `json:"files"`
	Bytes           int64           `json:"bytes"`
	SmallFiles      int64           `json:"small_files"`
	Savings         Savings         `json:"savings"`
	Histogram       Histogram       `json:"histogram"`
	HistogramLabels []string        `json:"histogram_labels"`
	Worst           []*TableMetrics `json:"worst_tables"`
	Trend           []TrendPoint    `json:"trend"`
	// Alerts are the tables whose small files grow faster than the alert threshold.
	Alerts []*TableMetrics `json:"alerts"`
}

// TrendPoint is the totals of one finished scan of a whole cluster.
type TrendPoint struct {
	ClusterID string     `json:"cluster_id"`
	ScanID    string     `json:"scan_id"`
	Time      time.Time  `json:"time"`
	Totals    ScanTotals `json:"totals"`
}
