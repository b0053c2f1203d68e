package merge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"
)

// Service holds hivemerge's use cases over tasks and clusters. Handlers, the scheduler and the
// executor all go through it, so every rule lives in one place.
type Service struct {
	tasks    Store
	clusters ClusterStore
	now      Clock
	newID    func() string
	// prober and secrets test cluster connections; nil until WithProber.
	prober  Prober
	secrets Secrets
	// allowedHosts are the otherwise forbidden cluster hosts an operator allowed.
	allowedHosts *HostAllowlist
	// targets checks a new task's table on its cluster; nil skips the check.
	targets TargetChecker
}

// TargetChecker checks a new task against its cluster: that the database, the table and the
// partition keys exist and that the strategy is allowed for the table. It fails with ErrInvalid
// (a *Refusal for a table or strategy hivemerge refuses) when the cluster says no, and with
// any other error when the cluster could not be asked.
type TargetChecker interface {
	CheckTarget(ctx context.Context, c *Cluster, r CreateTaskRequest) error
}

// WithTargetChecker makes CreateTask check each new task's target with c.
func (s *Service) WithTargetChecker(c TargetChecker) *Service {
	s.targets = c
	return s
}

// NewService returns a Service over the given stores.
func NewService(tasks Store, clusters ClusterStore) *Service {
	return &Service{tasks: tasks, clusters: clusters, now: time.Now, newID: NewID}
}

// WithClock makes the service read time from now; tests use it for deterministic timestamps.
func (s *Service) WithClock(now Clock) *Service {
	s.now = now
	return s
}

// NewID returns a random 16-byte task ID in hex: unguessable and safe in paths and documents.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Service) clock() time.Time { return s.now().UTC() }

// CreateTaskRequest is what a caller asks for when creating a task.
type CreateTaskRequest struct {
	ClusterID      string
	Name           string
	Database       string
	Table          string
	Partitions     []PartitionSpec
	Strategy       Strategy
	TargetFileSize int64
	CreatedBy      string
}

// Validate checks a request without touching any store, and normalises it: the default
// strategy is filled in, and database, table and partition column names are folded to lower
// case (FoldName), so that case variants of one name target one table.
func (r *CreateTaskRequest) Validate() error {
	if err := CheckClusterID("cluster_id", r.ClusterID); err != nil {
		return err
	}
	if err := checkText("task_name", r.Name, MaxTaskNameLen); err != nil {
		return err
	}
	if err := CheckIdentifier("database_name", r.Database); err != nil {
		return err
	}
	if err := CheckIdentifier("table_name", r.Table); err != nil {
		return err
	}
	parts, err := NormalizePartitions(r.Partitions)
	if err != nil {
		return err
	}
	r.Database, r.Table, r.Partitions = FoldName(r.Database), FoldName(r.Table), parts
	if r.Strategy == "" {
		r.Strategy = StrategyAuto
	}
	if !r.Strategy.Valid() {
		return Errorf(ErrInvalid, "merge_strategy %q is not one of auto, safe_merge, concatenate, insert_overwrite, acid_compact", r.Strategy)
	}
	if r.TargetFileSize < 0 {
		return Errorf(ErrInvalid, "target_file_size_bytes may not be negative")
	}
	if r.TargetFileSize != 0 && (r.TargetFileSize < MinTargetFileSize || r.TargetFileSize > MaxTargetFileSize) {
		return Errorf(ErrInvalid, "target_file_size_bytes must be between %d and %d", MinTargetFileSize, int64(MaxTargetFileSize))
	}
	return nil
}

// CreateTask validates r and stores a pending task. It fails with ErrConflict when an active
// task already targets the same table or partition.
func (s *Service) CreateTask(ctx context.Context, r CreateTaskRequest) (*Task, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	c, err := s.clusters.GetCluster(ctx, r.ClusterID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, Errorf(ErrInvalid, "cluster_id %q is not a registered cluster", r.ClusterID)
		}
		return nil, err
	}
	// A cluster that cannot be asked does not stop the task: the executor reads the table
	// again before it changes anything, and the task's log says the check was deferred.
	var unchecked error
	if s.targets != nil {
		if err := s.targets.CheckTarget(ctx, c, r); errors.Is(err, ErrInvalid) {
			return nil, err
		} else if err != nil {
			unchecked = err
		}
	}
	now := s.clock()
	t := &Task{
		ID:             s.newID(),
		Name:           r.Name,
		ClusterID:      r.ClusterID,
		Database:       r.Database,
		Table:          r.Table,
		Partitions:     r.Partitions,
		Strategy:       r.Strategy,
		TargetFileSize: r.TargetFileSize,
		Status:         StatusPending,
		CreatedBy:      r.CreatedBy,
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	if err := s.tasks.CreateTask(ctx, t); err != nil {
		return nil, err
	}
	entries := []LogEntry{{Message: "created by " + actor(t.CreatedBy)}}
	if unchecked != nil {
		msg := "the cluster did not answer"
		if me, ok := errors.AsType[*Error](unchecked); ok && me.Msg != "" {
			msg = me.Msg
		}
		entries = append(entries, LogEntry{Level: LevelWarn, Message: "created without checking the table on cluster " + c.ID + " (" + msg + "); it is checked again when the task runs"})
	}
	if err := s.Log(ctx, t.ID, entries...); err != nil {
		return nil, err
	}
	return t, nil
}

// GetTask returns one task.
func (s *Service) GetTask(ctx context.Context, id string) (*Task, error) {
	if err := checkTaskID(id); err != nil {
		return nil, err
	}
	return s.tasks.GetTask(ctx, id)
}

// ListTasks returns a page of tasks matching f.
func (s *Service) ListTasks(ctx context.Context, f TaskFilter) (TaskPage, error) {
	if f.Status != "" && !f.Status.Valid() {
		return TaskPage{}, Errorf(ErrInvalid, "status %q is not one of pending, running, success, failed, cancelled", f.Status)
	}
	if f.ClusterID != "" {
		if err := CheckClusterID("cluster_id", f.ClusterID); err != nil {
			return TaskPage{}, err
		}
	}
	for _, c := range []struct {
		field string
		v     *string
	}{{"database_name", &f.Database}, {"table_name", &f.Table}} {
		if *c.v != "" {
			if err := CheckIdentifier(c.field, *c.v); err != nil {
				return TaskPage{}, err
			}
			*c.v = FoldName(*c.v)
		}
	}
	switch {
	case f.Limit == 0:
		f.Limit = DefaultListLimit
	case f.Limit < 0 || f.Limit > MaxListLimit:
		return TaskPage{}, Errorf(ErrInvalid, "limit must be between 1 and %d", MaxListLimit)
	}
	if len(f.PageToken) > 512 {
		return TaskPage{}, Errorf(ErrInvalid, "page_token is not valid")
	}
	return s.tasks.ListTasks(ctx, f)
}

// CancelTask cancels a pending task at once and asks a running one to stop; the worker running
// it sees CancelRequested between steps and while Hive works, and finishes it as cancelled.
// Cancelling a cancelled task succeeds again; a finished one is a conflict.
func (s *Service) CancelTask(ctx context.Context, id, by string) (*Task, error) {
	if err := checkTaskID(id); err != nil {
		return nil, err
	}
	// Only a change is logged, so a repeated cancel adds nothing.
	var entry LogEntry
	t, err := s.tasks.UpdateTask(ctx, id, func(t *Task) error {
		now := s.clock()
		switch t.Status {
		case StatusPending:
			t.Status = StatusCancelled
			t.FinishedAt = now
			entry = LogEntry{Time: now, Level: LevelInfo, Message: "cancelled by " + actor(by) + " before it ran"}
		case StatusRunning:
			if t.CancelRequested {
				return nil
			}
			t.CancelRequested = true
			entry = LogEntry{Time: now, Level: LevelInfo, Message: "cancel requested by " + actor(by) + "; the running step stops and the table is left as it was"}
		case StatusCancelled:
			return nil
		default:
			return Errorf(ErrConflict, "task %s already finished as %s", t.ID, t.Status)
		}
		t.CancelledBy = by
		t.UpdatedAt = now
		return nil
	})
	if err != nil || entry.Message == "" {
		return t, err
	}
	return t, s.tasks.AppendLogs(ctx, id, entry)
}

// actor names who did something in a task's log.
func actor(by string) string {
	if by == "" {
		return "an unnamed caller"
	}
	return by
}

// TaskLogs returns a task's log entries after the given sequence number.
func (s *Service) TaskLogs(ctx context.Context, id string, afterSeq int64, limit int) ([]LogEntry, error) {
	if err := checkTaskID(id); err != nil {
		return nil, err
	}
	switch {
	case limit == 0:
		limit = DefaultLogsLimit
	case limit < 0 || limit > MaxLogsLimit:
		return nil, Errorf(ErrInvalid, "limit must be between 1 and %d", MaxLogsLimit)
	}
	if afterSeq < 0 {
		return nil, Errorf(ErrInvalid, "after must not be negative")
	}
	if _, err := s.tasks.GetTask(ctx, id); err != nil {
		return nil, err
	}
	return s.tasks.Logs(ctx, id, afterSeq, limit)
}

// Log appends entries to a task's log, stamping the time where the caller left it empty.
func (s *Service) Log(ctx context.Context, id string, entries ...LogEntry) error {
	now := s.clock()
	for i := range entries {
		if entries[i].Time.IsZero() {
			entries[i].Time = now
		}
		if entries[i].Level == "" {
			entries[i].Level = LevelInfo
		}
	}
	return s.tasks.AppendLogs(ctx, id, entries...)
}

// Stats returns counts by status and what finished tasks saved.
func (s *Service) Stats(ctx context.Context) (TaskStats, error) {
	return s.tasks.TaskStats(ctx)
}

// Claim gives owner the task for lease: a pending task starts running, and a running task
// whose lease expired is taken over to resume from its recorded step. Under concurrent claims
// exactly one owner wins; the others get ErrConflict. A pending task starts only while its
// cluster runs fewer than its MaxRunningTasks tasks; otherwise Claim fails with ErrBusy and
// the task stays pending. A takeover needs no new slot: the task holds its own.
func (s *Service) Claim(ctx context.Context, id, owner string, lease time.Duration) (*Task, error) {
	if err := checkTaskID(id); err != nil {
		return nil, err
	}
	if owner == "" || lease <= 0 {
		return nil, Errorf(ErrInvalid, "a claim needs an owner and a positive lease")
	}
	task, err := s.tasks.GetTask(ctx, id)
	if err != nil {
		return nil, err
	}
	// A task's cluster never changes, so its cap can be read before the claim. A deleted
	// cluster gets the default cap: the run then fails on the cluster itself, with its reason.
	maxRunning := DefaultMaxRunningTasks
	switch c, err := s.clusters.GetCluster(ctx, task.ClusterID); {
	case err == nil && c.MaxRunningTasks > 0:
		maxRunning = c.MaxRunningTasks
	case err != nil && !errors.Is(err, ErrNotFound):
		return nil, err
	}
	return s.tasks.ClaimTask(ctx, id, maxRunning, func(t *Task) error {
		now := s.clock()
		switch {
		case t.Status == StatusPending:
			if err := Transition(t.Status, StatusRunning); err != nil {
				return err
			}
			t.Status = StatusRunning
			t.StartedAt = now
			t.ExecutedBy = owner
		case t.Status == StatusRunning && t.LeaseOwner == owner:
		case t.Status == StatusRunning && now.After(t.LeaseExpires):
			t.ExecutedBy = owner
		case t.Status == StatusRunning:
			return Errorf(ErrConflict, "task %s is already running", t.ID)
		default:
			return Errorf(ErrConflict, "task %s already finished as %s", t.ID, t.Status)
		}
		if t.LeaseOwner != owner {
			t.Attempt++
		}
		t.LeaseOwner = owner
		t.LeaseExpires = now.Add(lease)
		t.UpdatedAt = now
		return nil
	})
}

// Progress is what a worker reports while it holds a task.
type Progress struct {
	Step     string
	Percent  int
	Strategy Strategy
	Reason   string
}

// Heartbeat renews owner's lease and records progress. It fails with ErrConflict when owner no
// longer holds the task, so a worker that lost its lease stops instead of racing the new owner.
// The returned task tells the worker whether a cancel was requested.
func (s *Service) Heartbeat(ctx context.Context, id, owner string, lease time.Duration, p Progress) (*Task, error) {
	if p.Percent < 0 || p.Percent > 100 {
		return nil, Errorf(ErrInvalid, "progress must be between 0 and 100")
	}
	return s.tasks.UpdateTask(ctx, id, func(t *Task) error {
		now := s.clock()
		if err := holds(t, owner, now); err != nil {
			return err
		}
		t.LeaseExpires = now.Add(lease)
		if p.Step != "" {
			t.Step = p.Step
		}
		t.Progress = p.Percent
		if p.Strategy != "" {
			t.ChosenStrategy, t.StrategyReason = p.Strategy, p.Reason
		}
		t.UpdatedAt = now
		return nil
	})
}

// Finish ends owner's task with a terminal status, its statistics and, for failures, the error.
func (s *Service) Finish(ctx context.Context, id, owner string, status Status, stats Stats, errMsg string) (*Task, error) {
	if status != StatusSuccess && status != StatusFailed && status != StatusCancelled {
		return nil, Errorf(ErrInvalid, "a task can only finish as success, failed or cancelled")
	}
	return s.tasks.UpdateTask(ctx, id, func(t *Task) error {
		now := s.clock()
		if err := holds(t, owner, now); err != nil {
			return err
		}
		if err := Transition(t.Status, status); err != nil {
			return err
		}
		t.Status = status
		t.Stats = stats
		t.Error = errMsg
		if status == StatusSuccess {
			t.Progress = 100
		}
		t.LeaseOwner, t.LeaseExpires = "", time.Time{}
		t.FinishedAt = now
		t.UpdatedAt = now
		return nil
	})
}

func holds(t *Task, owner string, now time.Time) error {
	if t.Status != StatusRunning || t.LeaseOwner != owner {
		return Errorf(ErrConflict, "task %s is not held by %s", t.ID, owner)
	}
	if now.After(t.LeaseExpires) {
		return Errorf(ErrConflict, "the lease of %s on task %s expired", owner, t.ID)
	}
	return nil
}

func checkTaskID(id string) error {
	if id == "" || len(id) > 64 || !identRe.MatchString(id) {
		if len(id) > 64 {
			id = id[:64] + "..." // an error repeats so much of a caller's id, no more
		}
		return Errorf(ErrNotFound, "task %q not found", id)
	}
	return nil
}

// ListClusters returns the registry.
func (s *Service) ListClusters(ctx context.Context) ([]*Cluster, error) {
	return s.clusters.ListClusters(ctx)
}

// GetCluster returns one cluster.
func (s *Service) GetCluster(ctx context.Context, id string) (*Cluster, error) {
	if !clusterIDRe.MatchString(id) {
		if len(id) > 64 {
			id = id[:64] + "..." // an error repeats so much of a caller's id, no more
		}
		return nil, Errorf(ErrNotFound, "cluster %q not found", id)
	}
	return s.clusters.GetCluster(ctx, id)
}

// CreateCluster validates and registers a cluster.
func (s *Service) CreateCluster(ctx context.Context, c Cluster) (*Cluster, error) {
	if err := c.Normalize(s.allowedHosts); err != nil {
		return nil, err
	}
	c.CreatedAt = s.clock()
	c.UpdatedAt = c.CreatedAt
	if err := s.clusters.CreateCluster(ctx, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// UpdateCluster replaces the cluster with c.ID, keeping its creation time.
func (s *Service) UpdateCluster(ctx context.Context, c Cluster) (*Cluster, error) {
	old, err := s.GetCluster(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if err := c.Normalize(s.allowedHosts); err != nil {
		return nil, err
	}
	c.CreatedAt = old.CreatedAt
	c.UpdatedAt = s.clock()
	if err := s.clusters.UpdateCluster(ctx, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// DeleteCluster removes a cluster from the registry. Tasks keep their cluster_id; a cluster with
// active tasks cannot be deleted.
func (s *Service) DeleteCluster(ctx context.Context, id string) error {
	if _, err := s.GetCluster(ctx, id); err != nil {
		return err
	}
	for _, st := range []Status{StatusPending, StatusRunning} {
		page, err := s.tasks.ListTasks(ctx, TaskFilter{ClusterID: id, Status: st, Limit: 1})
		if err != nil {
			return err
		}
		if len(page.Tasks) > 0 {
			return Errorf(ErrConflict, "cluster %s has %s tasks; cancel them first", id, st)
		}
	}
	return s.clusters.DeleteCluster(ctx, id)
}

// RequeueExpired finds running tasks whose worker stopped renewing its lease and puts them back
// to pending, so the next execute resumes them from their recorded step; a task whose cancel was
// requested is finished as cancelled instead. It returns how many tasks it changed.
func (s *Service) RequeueExpired(ctx context.Context) (int, error) {
	var expired []string
	f := TaskFilter{Status: StatusRunning, Limit: MaxListLimit}
	for {
		page, err := s.tasks.ListTasks(ctx, f)
		if err != nil {
			return 0, err
		}
		now := s.clock()
		for _, t := range page.Tasks {
			if now.After(t.LeaseExpires) {
				expired = append(expired, t.ID)
			}
		}
		if page.NextPageToken == "" {
			break
		}
		f.PageToken = page.NextPageToken
	}
	changed := 0
	for _, id := range expired {
		errStale := errors.New("lease renewed meanwhile")
		_, err := s.tasks.UpdateTask(ctx, id, func(t *Task) error {
			now := s.clock()
			if t.Status != StatusRunning || !now.After(t.LeaseExpires) {
				return errStale
			}
			if t.CancelRequested {
				t.Status = StatusCancelled
				t.FinishedAt = now
			} else {
				t.Status = StatusPending
			}
			t.LeaseOwner, t.LeaseExpires = "", time.Time{}
			t.UpdatedAt = now
			return nil
		})
		switch {
		case errors.Is(err, errStale) || errors.Is(err, ErrNotFound):
			continue
		case err != nil:
			return changed, err
		}
		changed++
	}
	return changed, nil
}
