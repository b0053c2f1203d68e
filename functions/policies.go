package functions

import (
	"net/http"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Policy operations. Reading policies is a viewer's right; changing them changes what the
// scheduler does to tables on its own, which is an operator's action, like creating tasks by
// hand. A standalone function takes the policy name as ?name=.
var policyOperations = []operation{
	{method: http.MethodGet, path: "/api/v1/policies", aliases: []string{"/api/v1/policies/"}, fn: "ListPolicies", role: RoleViewer, handle: (*Server).listPolicies},
	{method: http.MethodPost, path: "/api/v1/policies", aliases: []string{"/api/v1/policies/"}, fn: "CreatePolicy", role: RoleOperator, handle: (*Server).createPolicy},
	{method: http.MethodGet, path: "/api/v1/policies/{name}", fn: "GetPolicy", role: RoleViewer, handle: (*Server).getPolicy},
	{method: http.MethodPut, path: "/api/v1/policies/{name}", fn: "UpdatePolicy", role: RoleOperator, handle: (*Server).updatePolicy},
	{method: http.MethodDelete, path: "/api/v1/policies/{name}", fn: "DeletePolicy", role: RoleOperator, handle: (*Server).deletePolicy},
	// A dry run only reads what a viewer may read (the policy and the metrics) and writes
	// nothing, so it is a viewer's right too.
	{method: http.MethodPost, path: "/api/v1/policies/{name}/dry-run", fn: "DryRunPolicy", role: RoleViewer, handle: (*Server).dryRunPolicy},
}

func init() { register(policyOperations) }

// nameParam returns the name an operation works on: the {name} path segment under the REST
// router, the ?name= query parameter for a standalone function.
func nameParam(r *http.Request) (string, error) {
	if n := r.PathValue("name"); n != "" {
		return n, nil
	}
	if n := r.URL.Query().Get("name"); n != "" {
		return n, nil
	}
	return "", merge.Errorf(merge.ErrInvalid, "the name query parameter is required")
}

// policiesBody is the list response.
type policiesBody struct {
	Policies []*merge.Policy `json:"policies"`
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	sc, err := s.scheduling()
	if err != nil {
		return err
	}
	ps, err := sc.Policies.List(r.Context())
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []*merge.Policy{}
	}
	writeJSON(w, http.StatusOK, policiesBody{Policies: ps})
	return nil
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r, "name"); err != nil {
		return err
	}
	name, err := nameParam(r)
	if err != nil {
		return err
	}
	sc, err := s.scheduling()
	if err != nil {
		return err
	}
	p, err := sc.Policies.Get(r.Context(), name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// decodePolicy reads a policy body over the defaults, so absent fields take them.
func decodePolicy(w http.ResponseWriter, r *http.Request) (merge.Policy, error) {
	p := merge.DefaultPolicy()
	err := decodeJSON(w, r, &p)
	return p, err
}

func (s *Server) createPolicy(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	p, err := decodePolicy(w, r)
	if err != nil {
		return err
	}
	sc, err := s.scheduling()
	if err != nil {
		return err
	}
	out, err := sc.Policies.Create(r.Context(), p, principal(r))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/policies/"+out.Name)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) updatePolicy(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r, "name"); err != nil {
		return err
	}
	p, err := decodePolicy(w, r)
	if err != nil {
		return err
	}
	name, err := nameParam(r)
	switch {
	case err != nil && p.Name == "":
		return merge.Errorf(merge.ErrInvalid, "the policy name is required: in the path, as ?name= or as the body's name")
	case err != nil:
		name = p.Name
	case p.Name != "" && p.Name != name:
		return merge.Errorf(merge.ErrInvalid, "the body's name %q differs from the policy being updated, %q", excerpt(p.Name), excerpt(name))
	}
	p.Name = name
	sc, err := s.scheduling()
	if err != nil {
		return err
	}
	out, err := sc.Policies.Update(r.Context(), p, principal(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) deletePolicy(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r, "name"); err != nil {
		return err
	}
	name, err := nameParam(r)
	if err != nil {
		return err
	}
	sc, err := s.scheduling()
	if err != nil {
		return err
	}
	if err := sc.Policies.Delete(r.Context(), name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// dryRunPolicy evaluates a stored policy now, as batch-create would, and answers what it would
// create. The body may be empty or {}.
func (s *Server) dryRunPolicy(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r, "name"); err != nil {
		return err
	}
	if err := emptyBody(w, r); err != nil {
		return err
	}
	name, err := nameParam(r)
	if err != nil {
		return err
	}
	sc, err := s.scheduling()
	if err != nil {
		return err
	}
	if sc.Planner == nil {
		return merge.Errorf(merge.ErrUnavailable, "policy dry runs are not configured on this server")
	}
	plan, err := sc.Planner.DryRun(r.Context(), sc.Policies, name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, plan)
	return nil
}
