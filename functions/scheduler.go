package functions

import (
	"net/http"
	"time"

	"github.com/hivemerge/hivemerge/scheduler"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// Scheduler operations: what Cloud Scheduler's jobs call on GCP, and the run records of every
// job wherever it ran. On-prem, the scheduler daemon runs the same jobs itself.
var schedulerOperations = []operation{
	{method: http.MethodPost, path: "/api/v1/scheduler/check-pending", fn: "CheckPending", role: RoleOperator, handle: (*Server).checkPending},
	{method: http.MethodGet, path: "/api/v1/scheduler/runs", fn: "ListSchedulerRuns", role: RoleViewer, handle: (*Server).listRuns},
	{method: http.MethodPost, path: "/api/v1/scheduler/jobs/{name}/run", fn: "RunSchedulerJob", role: RoleOperator, handle: (*Server).runJob},
	{method: http.MethodPost, path: "/api/v1/scheduler/batch-create", fn: "BatchCreateTasks", role: RoleOperator, handle: (*Server).batchCreate},
}

func init() { register(schedulerOperations) }

// Scheduling is what the policy and scheduler operations work with.
type Scheduling struct {
	Policies *merge.Policies
	Jobs     *scheduler.Service
	// Planner evaluates policies for dry runs; without it they answer as unavailable.
	Planner *merge.Planner
}

// WithScheduling gives s the policy service and the scheduler's jobs. The local server passes
// the jobs its in-process scheduler runs, so that a run started over HTTP and a scheduled one
// see each other.
func (s *Server) WithScheduling(sc Scheduling) *Server {
	s.sched = sc
	return s
}

// scheduling returns what WithScheduling set; a Server built without it answers its policy
// and scheduler operations as unavailable.
func (s *Server) scheduling() (Scheduling, error) {
	if s.sched.Policies == nil || s.sched.Jobs == nil {
		return Scheduling{}, merge.Errorf(merge.ErrUnavailable, "policies and scheduler runs are not configured on this server")
	}
	return s.sched, nil
}

// checkPending requeues tasks whose worker stopped renewing its lease. Cloud Scheduler sends
// "{}", so an empty object or no body at all is accepted.
func (s *Server) checkPending(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	if err := emptyBody(w, r); err != nil {
		return err
	}
	n, err := s.svc.RequeueExpired(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"requeued": n})
	return nil
}

// emptyBody accepts no body or an empty JSON object.
func emptyBody(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength == 0 {
		return nil
	}
	var empty struct{}
	return decodeJSON(w, r, &empty)
}

// runsFilterStatus marks page tokens of run listings, so that one can never continue a task
// listing (the sealer binds a token to the filter it was made for).
const runsFilterStatus = "scheduler_runs"

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParams(r, "job", "limit", "page_token")
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit")
	if err != nil {
		return err
	}
	f := merge.RunFilter{Job: q.Get("job"), Limit: clampInt(limit)}
	seal := merge.TaskFilter{Status: runsFilterStatus, ClusterID: f.Job}
	if f.PageToken, err = s.pages.open(seal, q.Get("page_token")); err != nil {
		return err
	}
	sc, err := s.scheduling()
	if err != nil {
		return err
	}
	page, err := sc.Jobs.Runs(r.Context(), f)
	if err != nil {
		return err
	}
	page.NextPageToken = s.pages.seal(seal, page.NextPageToken)
	writeJSON(w, http.StatusOK, page)
	return nil
}

// cloudSchedulerTime is the header in which Cloud Scheduler sends the time a run was
// scheduled for; its retries of one run send the same time.
const cloudSchedulerTime = "X-CloudScheduler-ScheduleTime"

// maxSlotSkew bounds how far from now a sent schedule time may be.
const maxSlotSkew = 7 * 24 * time.Hour

// runJob runs one job now and answers its run record. The slot is the time Cloud Scheduler
// scheduled the run for, when it sent one, so that its retries of one run never run twice;
// otherwise the current second. A slot already run is a 409. The body may be empty or {}.
func (s *Server) runJob(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r, "name"); err != nil {
		return err
	}
	name, err := nameParam(r)
	if err != nil {
		return err
	}
	return s.runNamedJob(w, r, name)
}

// batchCreate is the batch-create job as a function of its own, for a Cloud Scheduler job
// that targets it directly; it answers as runJob does.
func (s *Server) batchCreate(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	return s.runNamedJob(w, r, scheduler.JobBatchCreate)
}

func (s *Server) runNamedJob(w http.ResponseWriter, r *http.Request, name string) error {
	if err := emptyBody(w, r); err != nil {
		return err
	}
	var err error
	now := time.Now().UTC()
	slot := now.Truncate(time.Second)
	if h := r.Header.Get(cloudSchedulerTime); h != "" {
		if slot, err = time.Parse(time.RFC3339, h); err != nil {
			return merge.Errorf(merge.ErrInvalid, "%s must be an RFC 3339 time", cloudSchedulerTime)
		}
		// Retries come within hours; a slot far from now is a mistake, and would name a
		// run no schedule ever has.
		if d := now.Sub(slot); d > maxSlotSkew || d < -maxSlotSkew {
			return merge.Errorf(merge.ErrInvalid, "%s must be within %s of now", cloudSchedulerTime, maxSlotSkew)
		}
	}
	sc, err := s.scheduling()
	if err != nil {
		return err
	}
	run, err := sc.Jobs.Run(r.Context(), name, slot, "api:"+principal(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, run)
	return nil
}
