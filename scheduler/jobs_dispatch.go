package scheduler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// JobDispatch hands due pending tasks of policies to a worker pool.
const JobDispatch = "dispatch"

// Dispatcher hands a task to workers; *app.Engine in async or remote mode is one. Submit
// reports false when the task is already queued or running there, and fails with
// merge.ErrUnavailable or merge.ErrBusy when the workers have no room. Any other error is a
// hand-off that failed: the task stays pending and the run fails.
type Dispatcher interface {
	Submit(id string) (bool, error)
}

// AddDispatch registers the dispatch job over d and the policies in policies and schedules it
// on spec.
func (s *Scheduler) AddDispatch(d Dispatcher, policies merge.PolicyStore, spec string) error {
	s.svc.RegisterDispatch(d, policies)
	if err := s.Add(JobDispatch, spec); err != nil {
		return fmt.Errorf("job %s: %w", JobDispatch, err)
	}
	return nil
}

// RegisterDispatch registers the dispatch job over d and the policies in policies, for runs
// that something else schedules (Cloud Scheduler through the RunSchedulerJob function).
func (s *Service) RegisterDispatch(d Dispatcher, policies merge.PolicyStore) {
	s.Register(JobDispatch, CheckPendingTimeout, func(ctx context.Context) (Outcome, error) {
		return s.Dispatch(ctx, d, policies)
	})
}

// Dispatch hands pending tasks created by enabled policies to d, oldest first, while d has
// room. A task waits when its policy has windows and none is open, or when its policy's
// max_running_per_cluster tasks already run (or were handed to d) on its cluster. Tasks that
// people created wait for their execute request, and so do the tasks of a policy that is
// disabled or deleted: dispatch starts only what a policy asked for.
func (s *Service) Dispatch(ctx context.Context, d Dispatcher, store merge.PolicyStore) (Outcome, error) {
	out := Outcome{Counts: map[string]int64{"pending": 0, "dispatched": 0, "outside_window": 0, "capped": 0, "not_policy": 0}}
	list, err := store.ListPolicies(ctx)
	if err != nil {
		return out, fmt.Errorf("dispatch: %w", err)
	}
	policies := map[string]*merge.Policy{}
	for _, p := range list {
		if p.Enabled {
			policies[merge.CreatedByPolicy(p.Name)] = p
		}
	}
	if len(policies) == 0 {
		out.Skipped, out.Summary = true, "no enabled policy"
		return out, nil
	}
	pending, err := s.allTasks(ctx, merge.StatusPending)
	if err != nil {
		return out, fmt.Errorf("dispatch: %w", err)
	}
	running, err := s.allTasks(ctx, merge.StatusRunning)
	if err != nil {
		return out, fmt.Errorf("dispatch: %w", err)
	}
	// busy counts each policy's tasks per cluster that run or were handed to d in this run.
	type key struct{ by, cluster string }
	busy := map[key]int{}
	for _, t := range running {
		busy[key{t.CreatedBy, t.ClusterID}]++
	}
	now := s.now()
	open := map[string]bool{}
	// Listings are newest first; the oldest task goes first.
	slices.Reverse(pending)
	out.Counts["pending"] = int64(len(pending))
	var full error
	for _, t := range pending {
		p, ok := policies[t.CreatedBy]
		if !ok {
			out.Counts["not_policy"]++
			continue
		}
		inWindow, seen := open[p.Name]
		if !seen {
			inWindow, _ = InWindow(p, now)
			open[p.Name] = inWindow
		}
		if !inWindow {
			out.Counts["outside_window"]++
			continue
		}
		k := key{t.CreatedBy, t.ClusterID}
		if p.MaxRunningPerCluster > 0 && busy[k] >= p.MaxRunningPerCluster {
			out.Counts["capped"]++
			continue
		}
		ok, err := d.Submit(t.ID)
		if errors.Is(err, merge.ErrUnavailable) || errors.Is(err, merge.ErrBusy) {
			// The workers are full: the rest wait for the next run.
			full = err
			break
		}
		if err != nil {
			return out, fmt.Errorf("dispatch: task %s: %w", t.ID, err)
		}
		// A task already queued here will run: it counts against the cap either way.
		busy[k]++
		if ok {
			out.Counts["dispatched"]++
		}
	}
	out.Summary = fmt.Sprintf("dispatched %d of %d pending tasks; %d outside their windows, %d capped", out.Counts["dispatched"],
		out.Counts["pending"], out.Counts["outside_window"], out.Counts["capped"])
	if full != nil {
		out.Summary += "; the workers were full: " + strings.TrimSpace(full.Error())
	}
	return out, nil
}

// allTasks lists every task with status st, newest first.
func (s *Service) allTasks(ctx context.Context, st merge.Status) ([]*merge.Task, error) {
	f := merge.TaskFilter{Status: st, Limit: merge.MaxListLimit}
	var all []*merge.Task
	for {
		page, err := s.tasks.ListTasks(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Tasks...)
		if page.NextPageToken == "" {
			return all, nil
		}
		f.PageToken = page.NextPageToken
	}
}
