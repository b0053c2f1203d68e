package firestore

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// taskDoc is a task as stored in the tasks collection; the domain type carries no Firestore
// tags. The document ID is the task ID.
type taskDoc struct {
	Name           string   `firestore:"task_name"`
	ClusterID      string   `firestore:"cluster_id"`
	Database       string   `firestore:"database_name"`
	Table          string   `firestore:"table_name"`
	Partitions     []string `firestore:"partition_filter"`
	Strategy       string   `firestore:"merge_strategy"`
	ChosenStrategy string   `firestore:"chosen_strategy"`
	StrategyReason string   `firestore:"strategy_reason"`
	TargetFileSize int64    `firestore:"target_file_size_bytes"`

	Status          string     `firestore:"status"`
	CancelRequested bool       `firestore:"cancel_requested"`
	LeaseOwner      string     `firestore:"lease_owner"`
	LeaseExpires    *time.Time `firestore:"lease_expires"`

	Step     string `firestore:"step"`
	Attempt  int64  `firestore:"attempt"`
	Progress int64  `firestore:"progress"`

	CreatedBy   string `firestore:"created_by"`
	ExecutedBy  string `firestore:"executed_by"`
	CancelledBy string `firestore:"cancelled_by"`

	CreatedAt  time.Time  `firestore:"created_at"`
	UpdatedAt  time.Time  `firestore:"updated_at"`
	StartedAt  *time.Time `firestore:"started_at"`
	FinishedAt *time.Time `firestore:"finished_at"`

	Stats statsDoc `firestore:"statistics"`
	Error string   `firestore:"error"`

	// Checkpoint is the executor's merge.Checkpoint as JSON: only the executor reads it, whole,
	// and never a query, so one compact string field costs no index entries.
	Checkpoint string `firestore:"checkpoint,omitempty"`

	// Derived from status and statistics on every write, so that TaskStats can sum them with
	// aggregation queries.
	FilesSaved int64 `firestore:"files_saved"`
	BytesSaved int64 `firestore:"bytes_saved"`
}

type statsDoc struct {
	FilesBefore   int64 `firestore:"files_before"`
	FilesAfter    int64 `firestore:"files_after"`
	BytesBefore   int64 `firestore:"bytes_before"`
	BytesAfter    int64 `firestore:"bytes_after"`
	RowsValidated int64 `firestore:"rows_validated"`
	DurationMS    int64 `firestore:"duration_ms"`
}

// normalize rounds a task's times to what Firestore keeps (microseconds, UTC), so the caller
// holds exactly what a later read returns, and folds its database and table names
// (merge.FoldName), so that equality filters on them never depend on the case a caller used.
func normalize(t *merge.Task) {
	for _, p := range []*time.Time{&t.CreatedAt, &t.UpdatedAt, &t.StartedAt, &t.FinishedAt, &t.LeaseExpires} {
		*p = roundTime(*p)
	}
	t.Database, t.Table = merge.FoldName(t.Database), merge.FoldName(t.Table)
}

func roundTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func fromOpt(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func toDoc(t *merge.Task) *taskDoc {
	files, bytes := saved(t)
	var cp string
	if t.Checkpoint != nil {
		// A Checkpoint holds only strings, integers and times, which always encode.
		b, _ := json.Marshal(t.Checkpoint)
		cp = string(b)
	}
	return &taskDoc{
		Name:            t.Name,
		ClusterID:       t.ClusterID,
		Database:        t.Database,
		Table:           t.Table,
		Partitions:      encodeSpecs(t.Partitions),
		Strategy:        string(t.Strategy),
		ChosenStrategy:  string(t.ChosenStrategy),
		StrategyReason:  t.StrategyReason,
		TargetFileSize:  t.TargetFileSize,
		Status:          string(t.Status),
		CancelRequested: t.CancelRequested,
		LeaseOwner:      t.LeaseOwner,
		LeaseExpires:    optTime(t.LeaseExpires),
		Step:            t.Step,
		Attempt:         int64(t.Attempt),
		Progress:        int64(t.Progress),
		CreatedBy:       t.CreatedBy,
		ExecutedBy:      t.ExecutedBy,
		CancelledBy:     t.CancelledBy,
		CreatedAt:       t.CreatedAt,
		UpdatedAt:       t.UpdatedAt,
		StartedAt:       optTime(t.StartedAt),
		FinishedAt:      optTime(t.FinishedAt),
		Stats: statsDoc{
			FilesBefore:   t.Stats.FilesBefore,
			FilesAfter:    t.Stats.FilesAfter,
			BytesBefore:   t.Stats.BytesBefore,
			BytesAfter:    t.Stats.BytesAfter,
			RowsValidated: t.Stats.RowsValidated,
			DurationMS:    t.Stats.DurationMS,
		},
		Error:      t.Error,
		FilesSaved: files,
		BytesSaved: bytes,
		Checkpoint: cp,
	}
}

func (d *taskDoc) task(id string) (*merge.Task, error) {
	parts, err := decodeSpecs(d.Partitions)
	if err != nil {
		return nil, err
	}
	var cp *merge.Checkpoint
	if d.Checkpoint != "" {
		cp = new(merge.Checkpoint)
		if err := json.Unmarshal([]byte(d.Checkpoint), cp); err != nil {
			return nil, merge.Errorf(merge.ErrInvalid, "stored checkpoint of task %s is malformed: %v", id, err)
		}
	}
	return &merge.Task{
		ID:              id,
		Name:            d.Name,
		ClusterID:       d.ClusterID,
		Database:        d.Database,
		Table:           d.Table,
		Partitions:      parts,
		Strategy:        merge.Strategy(d.Strategy),
		ChosenStrategy:  merge.Strategy(d.ChosenStrategy),
		StrategyReason:  d.StrategyReason,
		TargetFileSize:  d.TargetFileSize,
		Status:          merge.Status(d.Status),
		CancelRequested: d.CancelRequested,
		LeaseOwner:      d.LeaseOwner,
		LeaseExpires:    fromOpt(d.LeaseExpires),
		Step:            d.Step,
		Attempt:         int(d.Attempt),
		Progress:        int(d.Progress),
		CreatedBy:       d.CreatedBy,
		ExecutedBy:      d.ExecutedBy,
		CancelledBy:     d.CancelledBy,
		CreatedAt:       d.CreatedAt.UTC(),
		UpdatedAt:       d.UpdatedAt.UTC(),
		StartedAt:       fromOpt(d.StartedAt),
		FinishedAt:      fromOpt(d.FinishedAt),
		Stats: merge.Stats{
			FilesBefore:   d.Stats.FilesBefore,
			FilesAfter:    d.Stats.FilesAfter,
			BytesBefore:   d.Stats.BytesBefore,
			BytesAfter:    d.Stats.BytesAfter,
			RowsValidated: d.Stats.RowsValidated,
			DurationMS:    d.Stats.DurationMS,
		},
		Error:      d.Error,
		Checkpoint: cp,
	}, nil
}

// saved is what a task contributes to the saved totals: only finished tasks count, because
// the statistics of an active task describe work in progress.
func saved(t *merge.Task) (files, bytes int64) {
	if t.Status.Active() || !t.Status.Valid() {
		return 0, 0
	}
	return t.Stats.FilesSaved(), t.Stats.BytesSaved()
}

// Partition specs are stored as Hive partition names ("dt=2024-01-01/hr=00") with '%', '/' and
// '=' escaped the way Hive escapes them. That keeps them readable in the console, and unlike
// maps it never meets Firestore's reserved field names (__x__) or nested-array limits.
var specEscaper = strings.NewReplacer("%", "%25", "/", "%2F", "=", "%3D")

func encodeSpecs(specs []merge.PartitionSpec) []string {
	if len(specs) == 0 {
		return nil
	}
	out := make([]string, len(specs))
	for i, p := range specs {
		keys := make([]string, 0, len(p))
		for k := range p {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for j, k := range keys {
			if j > 0 {
				b.WriteByte('/')
			}
			b.WriteString(specEscaper.Replace(k))
			b.WriteByte('=')
			b.WriteString(specEscaper.Replace(p[k]))
		}
		out[i] = b.String()
	}
	return out
}

func decodeSpecs(names []string) ([]merge.PartitionSpec, error) {
	if len(names) == 0 {
		return nil, nil
	}
	out := make([]merge.PartitionSpec, len(names))
	for i, name := range names {
		p := merge.PartitionSpec{}
		if name != "" {
			for _, kv := range strings.Split(name, "/") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return nil, merge.Errorf(merge.ErrInvalid, "stored partition name %q is malformed", name)
				}
				uk, err1 := unescape(k)
				uv, err2 := unescape(v)
				if err1 != nil || err2 != nil {
					return nil, merge.Errorf(merge.ErrInvalid, "stored partition name %q is malformed", name)
				}
				p[uk] = uv
			}
		}
		out[i] = p
	}
	return out, nil
}

func unescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+3 > len(s) {
			return "", merge.ErrInvalid
		}
		switch s[i+1 : i+3] {
		case "25":
			b.WriteByte('%')
		case "2F":
			b.WriteByte('/')
		case "3D":
			b.WriteByte('=')
		default:
			return "", merge.ErrInvalid
		}
		i += 2
	}
	return b.String(), nil
}

// clusterDoc is a cluster as stored in the clusters collection; the document ID is its ID.
type clusterDoc struct {
	Name            string    `firestore:"name"`
	Host            string    `firestore:"host"`
	Port            int64     `firestore:"port"`
	Transport       string    `firestore:"transport"`
	Auth            string    `firestore:"auth"`
	TLS             bool      `firestore:"tls"`
	Username        string    `firestore:"username"`
	PasswordRef     string    `firestore:"password_ref"`
	FSDefault       string    `firestore:"fs_default"`
	MaxRunningTasks int64     `firestore:"max_running_tasks"`
	CreatedAt       time.Time `firestore:"created_at"`
	UpdatedAt       time.Time `firestore:"updated_at"`
}

func toClusterDoc(c *merge.Cluster) *clusterDoc {
	c.CreatedAt, c.UpdatedAt = roundTime(c.CreatedAt), roundTime(c.UpdatedAt)
	return &clusterDoc{
		Name: c.Name, Host: c.Host, Port: int64(c.Port), Transport: c.Transport, Auth: c.Auth, TLS: c.TLS,
		Username: c.Username, PasswordRef: c.PasswordRef, FSDefault: c.FSDefault,
		MaxRunningTasks: int64(c.MaxRunningTasks), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

func (d *clusterDoc) cluster(id string) *merge.Cluster {
	return &merge.Cluster{
		ID: id, Name: d.Name, Host: d.Host, Port: int(d.Port), Transport: d.Transport, Auth: d.Auth, TLS: d.TLS,
		Username: d.Username, PasswordRef: d.PasswordRef, FSDefault: d.FSDefault,
		MaxRunningTasks: int(d.MaxRunningTasks), CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
	}
}

// logDoc is one log entry in tasks/{id}/logs; the document ID is the zero-padded Seq so the
// console lists entries in order too.
type logDoc struct {
	Seq        int64     `firestore:"seq"`
	Time       time.Time `firestore:"time"`
	Level      string    `firestore:"level"`
	Step       string    `firestore:"step"`
	Message    string    `firestore:"message"`
	SQL        string    `firestore:"sql"`
	DurationMS int64     `firestore:"duration_ms"`
}

func (d *logDoc) entry() merge.LogEntry {
	return merge.LogEntry{
		Seq: d.Seq, Time: d.Time.UTC(), Level: merge.LogLevel(d.Level), Step: d.Step,
		Message: d.Message, SQL: d.SQL, DurationMS: d.DurationMS,
	}
}
