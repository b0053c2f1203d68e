package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/hivemerge/hivemerge/functions"
	"github.com/hivemerge/hivemerge/scheduler"
	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// Engine runs merges for the HTTP layer (functions.Engine) and the scheduler: previews and
// rollbacks within the request, executions in a pool of workers (ModeAsync), within the
// request (ModeSync) or in the deployment's ExecuteTask function (ModeRemote).
type Engine struct {
	svc      *merge.Service
	clusters *Clusters
	mode     Mode
	owner    string
	log      *slog.Logger

	// The pool of ModeAsync: queue holds submitted task IDs, queued the IDs submitted and
	// not yet finished, so that a task is run by one worker of this process at a time.
	ctx    context.Context
	cancel context.CancelFunc
	queue  chan string
	mu     sync.Mutex
	queued map[string]bool
	wg     sync.WaitGroup

	// remote hands tasks to ExecuteTask in ModeRemote.
	remote *Remote
}

var _ functions.Engine = (*Engine)(nil)

// queueSize bounds the executions waiting for a worker; beyond it Execute answers that the
// server is busy.
const queueSize = 256

func newEngine(svc *merge.Service, clusters *Clusters, cfg engineSettings, logger *slog.Logger) *Engine {
	e := &Engine{svc: svc, clusters: clusters, mode: cfg.mode, owner: cfg.owner, log: logger, queued: map[string]bool{}}
	// The workers' context ends at Close, not with any request.
	e.ctx, e.cancel = context.WithCancel(context.Background())
	if e.mode == ModeAsync {
		e.queue = make(chan string, queueSize)
		for range cfg.workers {
			e.wg.Go(e.work)
		}
	}
	return e
}

// Mode is how Execute runs tasks.
func (e *Engine) Mode() Mode { return e.mode }

func (e *Engine) stop() {
	e.cancel()
	e.wg.Wait()
	if e.remote != nil {
		e.remote.wait()
	}
}

// PreviewTask implements functions.Engine.
func (e *Engine) PreviewTask(ctx context.Context, id string) (*merge.Preview, error) {
	t, err := e.svc.GetTask(ctx, id)
	if err != nil {
		return nil, err
	}
	c, release, err := e.clusters.acquire(ctx, t.ClusterID)
	if err != nil {
		return nil, err
	}
	defer release()
	return c.exec.Planner.Preview(ctx, engine.RequestFor(t))
}

// PreviewTable implements functions.Engine.
func (e *Engine) PreviewTable(ctx context.Context, r functions.PreviewRequest) (*merge.Preview, error) {
	if err := merge.CheckClusterID("cluster_id", r.ClusterID); err != nil {
		return nil, err
	}
	if err := merge.CheckIdentifier("database_name", r.Database); err != nil {
		return nil, err
	}
	if err := merge.CheckIdentifier("table_name", r.Table); err != nil {
		return nil, err
	}
	parts, err := merge.NormalizePartitions(r.Partitions)
	if err != nil {
		return nil, err
	}
	if r.Strategy != "" && !r.Strategy.Valid() {
		return nil, merge.Errorf(merge.ErrInvalid, "strategy %q is not one of auto, safe_merge, concatenate, insert_overwrite, acid_compact", r.Strategy)
	}
	c, release, err := e.clusters.acquire(ctx, r.ClusterID)
	if errors.Is(err, merge.ErrConflict) {
		return nil, merge.Errorf(merge.ErrNotFound, "cluster %q is not registered", r.ClusterID)
	} else if err != nil {
		return nil, err
	}
	defer release()
	return c.exec.Planner.Preview(ctx, engine.Request{
		Database: merge.FoldName(r.Database), Table: merge.FoldName(r.Table), Partitions: parts,
		Strategy: r.Strategy, TargetFileSize: r.TargetFileSize,
	})
}

// Execute implements functions.Engine.
func (e *Engine) Execute(ctx context.Context, id, by string) (*merge.Task, error) {
	t, err := e.svc.GetTask(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case !t.Status.Active():
		return nil, merge.Errorf(merge.ErrConflict, "task %s already finished as %s", t.ID, t.Status)
	case t.Status == merge.StatusRunning && time.Now().Before(t.LeaseExpires):
		return t, nil
	}
	switch e.mode {
	case ModeSync:
		return e.runSync(ctx, t, by)
	case ModeRemote:
		return e.handOff(ctx, t, by)
	}
	submitted, err := e.Submit(id)
	if err != nil {
		return nil, err
	}
	if submitted {
		e.note(ctx, id, "execution requested by "+by)
	}
	return t, nil
}

// runSync runs t within the request. A client that goes away does not stop the run: the
// function instance keeps working until the task ends or the platform's timeout stops it, and
// then the lease lets another worker resume it.
func (e *Engine) runSync(ctx context.Context, t *merge.Task, by string) (*merge.Task, error) {
	e.note(ctx, t.ID, "execution requested by "+by)
	done, err := e.run(context.WithoutCancel(ctx), t.ID)
	if errors.Is(err, merge.ErrConflict) {
		// Another request claimed it first: while it runs, report it as it is now.
		now, gerr := e.svc.GetTask(ctx, t.ID)
		if gerr != nil {
			return nil, gerr
		}
		if now.Status.Active() {
			return now, nil
		}
	}
	return done, err
}

// handOff has ExecuteTask run t and returns t as it is once ExecuteTask claimed it. A failed
// hand-off leaves t pending and is an ErrUnavailable the caller may retry.
func (e *Engine) handOff(ctx context.Context, t *merge.Task, by string) (*merge.Task, error) {
	e.note(ctx, t.ID, "execution requested by "+by+"; handing it to "+ExecuteFunction)
	if _, err := e.remote.Submit(t.ID); err != nil {
		if he, ok := errors.AsType[*HandoffError](err); ok {
			e.note(ctx, t.ID, he.Error()+"; the task stays pending")
			return nil, merge.Errorf(merge.ErrUnavailable, "%s; the task stays pending: retry later", he.Error())
		}
		return nil, err
	}
	return e.svc.GetTask(ctx, t.ID)
}

// Rollback implements functions.Engine.
func (e *Engine) Rollback(ctx context.Context, id, by string) (*merge.Task, error) {
	t, err := e.svc.GetTask(ctx, id)
	if err != nil {
		return nil, err
	}
	c, release, err := e.clusters.acquire(ctx, t.ClusterID)
	if err != nil {
		return nil, err
	}
	defer release()
	return c.exec.Rollback(ctx, id, by)
}

// run executes one task with its cluster's executor.
func (e *Engine) run(ctx context.Context, id string) (*merge.Task, error) {
	t, err := e.svc.GetTask(ctx, id)
	if err != nil {
		return nil, err
	}
	c, release, err := e.clusters.acquire(ctx, t.ClusterID)
	if err != nil {
		return nil, err
	}
	defer release()
	return c.exec.Run(ctx, id, e.owner)
}

// Submit hands a task to the workers, or to ExecuteTask in ModeRemote (see Remote.Submit).
// It reports false when the task is already queued or running here, and fails with
// ErrUnavailable when the queue is full or the engine runs tasks within requests (ModeSync).
func (e *Engine) Submit(id string) (bool, error) {
	if e.remote != nil {
		return e.remote.Submit(id)
	}
	if e.queue == nil {
		return false, merge.Errorf(merge.ErrUnavailable, "this process runs tasks only within an execute request")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.queued[id] {
		return false, nil
	}
	select {
	case e.queue <- id:
		e.queued[id] = true
		return true, nil
	default:
		return false, merge.Errorf(merge.ErrUnavailable, "%d tasks are waiting for a worker; retry later", queueSize)
	}
}

func (e *Engine) work() {
	for {
		select {
		case <-e.ctx.Done():
			return
		case id := <-e.queue:
			t, err := e.run(e.ctx, id)
			switch {
			case e.ctx.Err() != nil:
				e.log.Info("stopped a task at shutdown; it resumes once its lease expires", "task_id", id)
			case errors.Is(err, merge.ErrConflict):
				e.log.Info("task not run here", "task_id", id, "reason", err.Error())
			case err != nil:
				e.log.Error("task run failed", "task_id", id, "error", err.Error())
			default:
				e.log.Info("task finished", "task_id", id, "status", string(t.Status))
			}
			e.mu.Lock()
			delete(e.queued, id)
			e.mu.Unlock()
		}
	}
}

// Recover is the check at start: running tasks whose lease expired go back to pending
// (Service.RequeueExpired), and Resume hands them to the workers.
func (e *Engine) Recover(ctx context.Context) error {
	n, err := e.svc.RequeueExpired(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		e.log.Info("requeued tasks with expired leases", "count", n)
	}
	return e.Resume(ctx)
}

// Resume hands to the workers every pending task that has a checkpoint, so was started before
// and requeued when its worker died: it resumes from its recorded step. It runs after the
// scheduler's pending check, which requeues. Pending tasks that never started wait for an
// execute request, or for the dispatch job when a policy created them.
func (e *Engine) Resume(ctx context.Context) error {
	f := merge.TaskFilter{Status: merge.StatusPending, Limit: merge.MaxListLimit}
	for {
		page, err := e.svc.ListTasks(ctx, f)
		if err != nil {
			return err
		}
		for _, t := range page.Tasks {
			if t.Checkpoint == nil {
				continue
			}
			if ok, err := e.Submit(t.ID); err != nil {
				return err
			} else if ok {
				e.note(ctx, t.ID, "resumed by "+e.owner+" after its worker stopped")
			}
		}
		if page.NextPageToken == "" {
			return nil
		}
		f.PageToken = page.NextPageToken
	}
}

// note appends an info line to a task's log; a failure is logged, not returned, since the
// work it describes goes on.
func (e *Engine) note(ctx context.Context, id, msg string) {
	if err := e.svc.Log(ctx, id, merge.LogEntry{Level: merge.LevelInfo, Message: msg}); err != nil {
		e.log.Warn("writing a task log entry", "task_id", id, "error", err.Error())
	}
}

// JobResumeRequeued is the scheduler job that hands the tasks a pending check requeued back to
// this process's workers, or to ExecuteTask in ModeRemote.
const JobResumeRequeued = "resume-requeued"

// dispatches reports whether the engine can take tasks without an execute request: it has
// workers, or hands tasks to ExecuteTask.
func (e *Engine) dispatches() bool { return e.mode == ModeAsync || e.mode == ModeRemote }

// ScheduleResume makes s run JobResumeRequeued on spec, so a merge whose worker died resumes on
// this process's workers (or ExecuteTask) after the pending check requeues it. Engines that
// run tasks within requests (ModeSync) have nothing to resume them on.
func (e *Engine) ScheduleResume(s *scheduler.Scheduler, spec string) error {
	if !e.dispatches() {
		return nil
	}
	e.registerResume(s.Service())
	return s.Add(JobResumeRequeued, spec)
}

func (e *Engine) registerResume(svc *scheduler.Service) {
	svc.Register(JobResumeRequeued, scheduler.CheckPendingTimeout, func(ctx context.Context) (scheduler.Outcome, error) {
		return scheduler.Outcome{Summary: "handed requeued tasks back to the workers"}, e.Resume(ctx)
	})
}

// ScheduleDispatch makes s run scheduler.JobDispatch on spec, so the pending tasks of the
// policies in policies start on this process's workers (or ExecuteTask) within their windows
// and caps. Engines that run tasks within requests (ModeSync) have nothing to dispatch to.
func (e *Engine) ScheduleDispatch(s *scheduler.Scheduler, spec string, policies merge.PolicyStore) error {
	if !e.dispatches() {
		return nil
	}
	return s.AddDispatch(e, policies, spec)
}

// RegisterJobs registers scheduler.JobDispatch and JobResumeRequeued on svc when the engine
// hands tasks to ExecuteTask, for a deployment whose Cloud Scheduler jobs run them through
// the RunSchedulerJob function; it does nothing in the other modes.
func (e *Engine) RegisterJobs(svc *scheduler.Service, policies merge.PolicyStore) {
	if e.mode != ModeRemote {
		return
	}
	svc.RegisterDispatch(e, policies)
	e.registerResume(svc)
}
