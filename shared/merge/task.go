package merge

import (
	"sort"
	"strings"
	"time"
)

// Status is where a task is in its lifecycle.
type Status string

// Task statuses. Pending and running are active: at most one active task may target a given
// table or partition.
const (
	StatusPending   Status = "pending"
	StatusRunning   Status = "running"
	StatusSuccess   Status = "success"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{StatusPending, StatusRunning, StatusSuccess, StatusFailed, StatusCancelled}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Active reports whether a task in status s still holds its target.
func (s Status) Active() bool { return s == StatusPending || s == StatusRunning }

// transitions is the lifecycle graph. running -> pending is the recovery path: a worker whose
// lease expired left the task mid-way, and it is queued again to resume from its recorded step.
var transitions = map[Status][]Status{
	StatusPending: {StatusRunning, StatusCancelled, StatusFailed},
	StatusRunning: {StatusSuccess, StatusFailed, StatusCancelled, StatusPending},
}

// Transition reports whether a task may move from one status to another; it returns an
// ErrConflict error naming both when it may not.
func Transition(from, to Status) error {
	if !from.Valid() || !to.Valid() {
		return Errorf(ErrInvalid, "unknown status transition %q -> %q", from, to)
	}
	for _, next := range transitions[from] {
		if next == to {
			return nil
		}
	}
	return Errorf(ErrConflict, "a %s task cannot become %s", from, to)
}

// Strategy is how a task merges small files.
type Strategy string

// Merge strategies. StrategyAuto lets the planner choose and say why.
const (
	StrategyAuto            Strategy = "auto"
	StrategySafeMerge       Strategy = "safe_merge"
	StrategyConcatenate     Strategy = "concatenate"
	StrategyInsertOverwrite Strategy = "insert_overwrite"
	StrategyACIDCompact     Strategy = "acid_compact"
)

// Strategies lists every strategy a request may name.
var Strategies = []Strategy{StrategyAuto, StrategySafeMerge, StrategyConcatenate, StrategyInsertOverwrite, StrategyACIDCompact}

// Valid reports whether s is a known strategy.
func (s Strategy) Valid() bool {
	for _, v := range Strategies {
		if s == v {
			return true
		}
	}
	return false
}

// PartitionSpec is a full or partial partition specification, column name to value, such as
// {"dt": "2024-01-01", "hr": "00"}.
type PartitionSpec map[string]string

// String renders the spec like a Hive partition name with keys in sorted order
// ("dt=2024-01-01/hr=00"). It is for display only: values are not escaped, so two specs can
// render alike, and it never reaches SQL.
func (p PartitionSpec) String() string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(p[k])
	}
	return b.String()
}

// overlaps reports whether some partition could match both specs: they agree on every key they
// share. A spec is a prefix filter, so {"dt":"x"} overlaps {"dt":"x","hr":"01"}. Keys are
// compared folded (FoldName), so specs stored with upper-case column names by an older version
// still meet new ones; values are data and compared exactly.
func (p PartitionSpec) overlaps(q PartitionSpec) bool {
	folded := make(map[string]string, len(q))
	for k, v := range q {
		folded[FoldName(k)] = v
	}
	for k, v := range p {
		if w, ok := folded[FoldName(k)]; ok && w != v {
			return false
		}
	}
	return true
}

// Stats are the measured effect of a task.
type Stats struct {
	FilesBefore   int64 `json:"files_before"`
	FilesAfter    int64 `json:"files_after"`
	BytesBefore   int64 `json:"bytes_before"`
	BytesAfter    int64 `json:"bytes_after"`
	RowsValidated int64 `json:"rows_validated"`
	DurationMS    int64 `json:"duration_ms"`
}

// FilesSaved is how many files the task removed (never negative).
func (s Stats) FilesSaved() int64 { return max(s.FilesBefore-s.FilesAfter, 0) }

// BytesSaved is how many bytes the task freed (never negative: a rewrite may compress worse).
func (s Stats) BytesSaved() int64 { return max(s.BytesBefore-s.BytesAfter, 0) }

// Task is one merge of one table or of some of its partitions.
type Task struct {
	ID         string          `json:"id"`
	Name       string          `json:"task_name"`
	ClusterID  string          `json:"cluster_id"`
	Database   string          `json:"database_name"`
	Table      string          `json:"table_name"`
	Partitions []PartitionSpec `json:"partition_filter,omitempty"`

	// Strategy is what was requested; ChosenStrategy and StrategyReason are what the planner
	// decided and which rule fired.
	Strategy       Strategy `json:"merge_strategy"`
	ChosenStrategy Strategy `json:"chosen_strategy,omitempty"`
	StrategyReason string   `json:"strategy_reason,omitempty"`
	TargetFileSize int64    `json:"target_file_size_bytes,omitempty"`

	Status          Status    `json:"status"`
	CancelRequested bool      `json:"cancel_requested"`
	LeaseOwner      string    `json:"lease_owner,omitempty"`
	LeaseExpires    time.Time `json:"lease_expires,omitzero"`

	Step     string `json:"step,omitempty"`
	Attempt  int    `json:"attempt,omitempty"`
	Progress int    `json:"progress"`

	CreatedBy   string `json:"created_by,omitempty"`
	ExecutedBy  string `json:"executed_by,omitempty"`
	CancelledBy string `json:"cancelled_by,omitempty"`

	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`

	Stats Stats  `json:"statistics"`
	Error string `json:"error,omitempty"`

	// Checkpoint is the executor's durable progress; nil until a worker planned the task.
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
}

// TableKey identifies the table a task targets; stores use it to find overlapping active tasks.
// Database and table names are folded (FoldName) here as well as on create, so a task stored
// with mixed-case names by an older version keys the same lock as its lower-case twin.
func (t *Task) TableKey() string {
	return t.ClusterID + "/" + FoldName(t.Database) + "/" + FoldName(t.Table)
}

// Overlaps reports whether t and o target a common table or partition. A task without
// partition specs targets the whole table and so overlaps every task on that table.
func (t *Task) Overlaps(o *Task) bool {
	if t.TableKey() != o.TableKey() {
		return false
	}
	if len(t.Partitions) == 0 || len(o.Partitions) == 0 {
		return true
	}
	for _, p := range t.Partitions {
		for _, q := range o.Partitions {
			if p.overlaps(q) {
				return true
			}
		}
	}
	return false
}

// LogLevel is the severity of a log entry.
type LogLevel string

// Log levels.
const (
	LevelDebug LogLevel = "debug"
	LevelInfo  LogLevel = "info"
	LevelWarn  LogLevel = "warn"
	LevelError LogLevel = "error"
)

// LogEntry is one line of a task's log.
type LogEntry struct {
	// Seq orders entries within a task; stores assign it when the entry is appended.
	Seq        int64     `json:"seq"`
	Time       time.Time `json:"time"`
	Level      LogLevel  `json:"level"`
	Step       string    `json:"step,omitempty"`
	Message    string    `json:"message"`
	SQL        string    `json:"sql,omitempty"`
	DurationMS int64     `json:"duration_ms,omitempty"`
}
