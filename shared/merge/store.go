package merge

import (
	"context"
	"time"
)

// TaskFilter selects tasks for listing. Empty fields match everything.
type TaskFilter struct {
	Status    Status
	ClusterID string
	Database  string
	Table     string
	// Limit caps the page size; PageToken continues a previous listing.
	Limit     int
	PageToken string
}

// TaskPage is one page of a listing, newest task first.
type TaskPage struct {
	Tasks         []*Task `json:"tasks"`
	NextPageToken string  `json:"next_page_token,omitempty"`
}

// TaskStats are aggregate counts over all tasks.
type TaskStats struct {
	Total      int64            `json:"total"`
	ByStatus   map[Status]int64 `json:"by_status"`
	FilesSaved int64            `json:"files_saved"`
	BytesSaved int64            `json:"bytes_saved"`
}

// Store keeps tasks and their logs. Implementations live in shared/taskstore and all pass the
// conformance suite in shared/taskstore/storetest.
type Store interface {
	// CreateTask stores a new task. It fails with ErrConflict when the ID exists or when an
	// active task overlaps t (Task.Overlaps), atomically with respect to concurrent creates.
	CreateTask(ctx context.Context, t *Task) error
	// GetTask fails with ErrNotFound for an unknown ID.
	GetTask(ctx context.Context, id string) (*Task, error)
	// ListTasks returns tasks matching f ordered by CreatedAt then ID, newest first.
	ListTasks(ctx context.Context, f TaskFilter) (TaskPage, error)
	// UpdateTask applies fn to the stored task and saves the result atomically: no concurrent
	// update is lost. fn may run more than once; when it returns an error nothing is saved and
	// that error is returned. A task that leaves an active status releases its target.
	UpdateTask(ctx context.Context, id string, fn func(*Task) error) (*Task, error)
	// ClaimTask is UpdateTask under the cluster's cap on running tasks: when fn moves the task
	// into StatusRunning from another status, the save fails with ErrBusy unless fewer than
	// maxRunning tasks of the task's cluster are running, atomically with respect to concurrent
	// claims, also across processes. A running task holds its slot until it leaves running
	// (finishes or is requeued), whether or not its lease expired; see limits.go.
	ClaimTask(ctx context.Context, id string, maxRunning int, fn func(*Task) error) (*Task, error)
	// AppendLogs adds entries to a task's log, assigning increasing Seq values.
	AppendLogs(ctx context.Context, id string, entries ...LogEntry) error
	// Logs returns up to limit entries with Seq greater than afterSeq, in Seq order.
	Logs(ctx context.Context, id string, afterSeq int64, limit int) ([]LogEntry, error)
	// TaskStats counts tasks by status and sums what finished tasks saved.
	TaskStats(ctx context.Context) (TaskStats, error)
}

// ClusterStore keeps the cluster registry.
type ClusterStore interface {
	// CreateCluster fails with ErrConflict when the ID exists.
	CreateCluster(ctx context.Context, c *Cluster) error
	// GetCluster fails with ErrNotFound for an unknown ID.
	GetCluster(ctx context.Context, id string) (*Cluster, error)
	// ListClusters returns every cluster ordered by ID.
	ListClusters(ctx context.Context) ([]*Cluster, error)
	// UpdateCluster replaces a cluster; it fails with ErrNotFound for an unknown ID.
	UpdateCluster(ctx context.Context, c *Cluster) error
	// DeleteCluster fails with ErrNotFound for an unknown ID.
	DeleteCluster(ctx context.Context, id string) error
}

// Clock tells the time; tests pass a fixed one.
type Clock func() time.Time
