package functions

import (
	"net/http"
)

// Scheduler operations: what Cloud Scheduler's jobs call on GCP. On-prem, the scheduler daemon
// runs the same service calls itself.
var schedulerOperations = []operation{
	{method: http.MethodPost, path: "/api/v1/scheduler/check-pending", fn: "CheckPending", role: RoleOperator, handle: (*Server).checkPending},
}

func init() { register(schedulerOperations) }

// checkPending requeues tasks whose worker stopped renewing its lease. Cloud Scheduler sends
// "{}", so an empty object or no body at all is accepted.
func (s *Server) checkPending(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	if r.ContentLength != 0 {
		var empty struct{}
		if err := decodeJSON(w, r, &empty); err != nil {
			return err
		}
	}
	n, err := s.svc.RequeueExpired(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"requeued": n})
	return nil
}
