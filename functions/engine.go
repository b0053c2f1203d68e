package functions

import (
	"context"
	"net/http"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Engine previews, runs and rolls back merges. Package app implements it over shared/engine;
// a Server without one answers these operations with 503.
type Engine interface {
	// PreviewTask is the exact plan of a task's merge; it changes nothing.
	PreviewTask(ctx context.Context, id string) (*merge.Preview, error)
	// PreviewTable is the exact plan of a merge of a table that has no task.
	PreviewTable(ctx context.Context, r PreviewRequest) (*merge.Preview, error)
	// Execute starts a pending task (or resumes one whose worker died) and returns it. A task
	// already running is returned as it is, without a second execution; a finished one is an
	// ErrConflict.
	Execute(ctx context.Context, id, by string) (*merge.Task, error)
	// Rollback points the tables a finished task merged back at their kept backups.
	Rollback(ctx context.Context, id, by string) (*merge.Task, error)
}

// PreviewRequest is a merge preview of a table without a task.
type PreviewRequest struct {
	ClusterID      string
	Database       string
	Table          string
	Partitions     []merge.PartitionSpec
	Strategy       merge.Strategy
	TargetFileSize int64
}

// WithEngine lets s preview, execute and roll back tasks with e.
func (s *Server) WithEngine(e Engine) *Server {
	s.engine = e
	return s
}

// Merge operations. The standalone functions take the task's id as ?id=; PreviewMerge takes
// the table as ?cluster_id=&database_name=&table_name=.
var engineOperations = []operation{
	{method: http.MethodGet, path: "/api/v1/tasks/{id}/preview", fn: "PreviewTask", role: RoleViewer, handle: (*Server).previewTask},
	{method: http.MethodPost, path: "/api/v1/tasks/{id}/execute", fn: "ExecuteTask", role: RoleOperator, handle: (*Server).executeTask},
	{method: http.MethodPost, path: "/api/v1/tasks/{id}/rollback", fn: "RollbackTask", role: RoleOperator, handle: (*Server).rollbackTask},
	{method: http.MethodPost, path: "/api/v1/tables/{cluster_id}/{db}/{table}/merge-preview", fn: "PreviewMerge", role: RoleViewer, handle: (*Server).previewMerge},
}

func init() { register(engineOperations) }

func (s *Server) merges() (Engine, error) {
	if s.engine == nil {
		return nil, merge.Errorf(merge.ErrUnavailable, "this server does not run merges")
	}
	return s.engine, nil
}

func (s *Server) previewTask(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r, "id"); err != nil {
		return err
	}
	id, err := idParam(r)
	if err != nil {
		return err
	}
	e, err := s.merges()
	if err != nil {
		return err
	}
	pv, err := e.PreviewTask(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pv)
	return nil
}

func (s *Server) executeTask(w http.ResponseWriter, r *http.Request) error {
	return s.taskAction(w, r, http.StatusAccepted, Engine.Execute)
}

func (s *Server) rollbackTask(w http.ResponseWriter, r *http.Request) error {
	return s.taskAction(w, r, http.StatusOK, Engine.Rollback)
}

// taskAction serves an operation that changes one task on behalf of the caller.
func (s *Server) taskAction(w http.ResponseWriter, r *http.Request, status int, do func(Engine, context.Context, string, string) (*merge.Task, error)) error {
	if _, err := queryParams(r, "id"); err != nil {
		return err
	}
	id, err := idParam(r)
	if err != nil {
		return err
	}
	e, err := s.merges()
	if err != nil {
		return err
	}
	t, err := do(e, r.Context(), id, principal(r))
	if err != nil {
		return err
	}
	writeJSON(w, status, t)
	return nil
}

// mergePreviewBody is the merge-preview request as the API spells it.
type mergePreviewBody struct {
	Partitions     partitionFilter `json:"partitions"`
	Strategy       merge.Strategy  `json:"strategy"`
	TargetFileSize int64           `json:"target_file_size_bytes"`
}

func (s *Server) previewMerge(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParams(r, "cluster_id", "database_name", "table_name")
	if err != nil {
		return err
	}
	req := PreviewRequest{ClusterID: r.PathValue("cluster_id"), Database: r.PathValue("db"), Table: r.PathValue("table")}
	if req.ClusterID == "" {
		req.ClusterID, req.Database, req.Table = q.Get("cluster_id"), q.Get("database_name"), q.Get("table_name")
	}
	var b mergePreviewBody
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &b); err != nil {
			return err
		}
	}
	req.Partitions, req.Strategy, req.TargetFileSize = b.Partitions, b.Strategy, b.TargetFileSize
	e, err := s.merges()
	if err != nil {
		return err
	}
	pv, err := e.PreviewTable(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pv)
	return nil
}
