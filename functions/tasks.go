package functions

import (
	"net/http"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Task operations. A standalone function that works on one task takes its id as ?id=
// (GetTask?id=..., CancelTask?id=..., TaskLogs?id=...&after=...).
var taskOperations = []operation{
	{method: http.MethodGet, path: "/api/v1/tasks/", aliases: []string{"/api/v1/tasks"}, fn: "ListTasks", role: RoleViewer, handle: (*Server).listTasks},
	{method: http.MethodPost, path: "/api/v1/tasks/", aliases: []string{"/api/v1/tasks"}, fn: "CreateTask", role: RoleOperator, handle: (*Server).createTask},
	{method: http.MethodGet, path: "/api/v1/tasks/stats", fn: "TaskStats", role: RoleViewer, handle: (*Server).taskStats},
	{method: http.MethodGet, path: "/api/v1/tasks/{id}", fn: "GetTask", role: RoleViewer, handle: (*Server).getTask},
	{method: http.MethodPost, path: "/api/v1/tasks/{id}/cancel", fn: "CancelTask", role: RoleOperator, handle: (*Server).cancelTask},
	{method: http.MethodGet, path: "/api/v1/tasks/{id}/logs", fn: "TaskLogs", role: RoleViewer, handle: (*Server).taskLogs},
}

func init() { register(taskOperations) }

// createTaskBody is the create request as the API spells it.
type createTaskBody struct {
	ClusterID       string          `json:"cluster_id"`
	TaskName        string          `json:"task_name"`
	DatabaseName    string          `json:"database_name"`
	TableName       string          `json:"table_name"`
	PartitionFilter partitionFilter `json:"partition_filter"`
	MergeStrategy   merge.Strategy  `json:"merge_strategy"`
	TargetFileSize  int64           `json:"target_file_size_bytes"`
}

func (s *Server) createTask(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	var b createTaskBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	t, err := s.svc.CreateTask(r.Context(), merge.CreateTaskRequest{
		ClusterID:      b.ClusterID,
		Name:           b.TaskName,
		Database:       b.DatabaseName,
		Table:          b.TableName,
		Partitions:     b.PartitionFilter,
		Strategy:       b.MergeStrategy,
		TargetFileSize: b.TargetFileSize,
		CreatedBy:      principal(r),
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/tasks/"+t.ID)
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) getTask(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r, "id"); err != nil {
		return err
	}
	id, err := idParam(r)
	if err != nil {
		return err
	}
	t, err := s.svc.GetTask(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParams(r, "status", "cluster_id", "database_name", "table_name", "limit", "page_token")
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit")
	if err != nil {
		return err
	}
	f := merge.TaskFilter{
		Status:    merge.Status(q.Get("status")),
		ClusterID: q.Get("cluster_id"),
		Database:  q.Get("database_name"),
		Table:     q.Get("table_name"),
		Limit:     clampInt(limit),
	}
	if f.PageToken, err = s.pages.open(f, q.Get("page_token")); err != nil {
		return err
	}
	page, err := s.svc.ListTasks(r.Context(), f)
	if err != nil {
		return err
	}
	page.NextPageToken = s.pages.seal(f, page.NextPageToken)
	if page.Tasks == nil {
		page.Tasks = []*merge.Task{}
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) cancelTask(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r, "id"); err != nil {
		return err
	}
	id, err := idParam(r)
	if err != nil {
		return err
	}
	t, err := s.svc.CancelTask(r.Context(), id, principal(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// logsBody is a page of a task's log. next_after continues it: pass it as after to poll for
// newer entries.
type logsBody struct {
	Logs      []merge.LogEntry `json:"logs"`
	NextAfter int64            `json:"next_after"`
}

func (s *Server) taskLogs(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParams(r, "id", "after", "limit")
	if err != nil {
		return err
	}
	after, err := intParam(q, "after")
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit")
	if err != nil {
		return err
	}
	id, err := idParam(r)
	if err != nil {
		return err
	}
	entries, err := s.svc.TaskLogs(r.Context(), id, after, clampInt(limit))
	if err != nil {
		return err
	}
	b := logsBody{Logs: entries, NextAfter: after}
	if b.Logs == nil {
		b.Logs = []merge.LogEntry{}
	}
	if n := len(entries); n > 0 {
		b.NextAfter = entries[n-1].Seq
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

func (s *Server) taskStats(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	st, err := s.svc.Stats(r.Context())
	if err != nil {
		return err
	}
	// Every status is present, zero or not, so clients need no defaults.
	counts := make(map[merge.Status]int64, len(merge.Statuses))
	for _, status := range merge.Statuses {
		counts[status] = st.ByStatus[status]
	}
	st.ByStatus = counts
	writeJSON(w, http.StatusOK, st)
	return nil
}

// clampInt narrows a parsed limit to int, saturating so that the service's range check still
// refuses it.
func clampInt(n int64) int {
	const maxInt = int64(^uint(0) >> 1)
	switch {
	case n > maxInt:
		return int(maxInt)
	case n < -maxInt:
		return int(-maxInt)
	}
	return int(n)
}

// principal is the name of the caller recorded on tasks.
func principal(r *http.Request) string {
	if st := state(r); st != nil {
		return st.principal
	}
	return ""
}
