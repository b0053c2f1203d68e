package functions

import (
	"net/http"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Cluster registry operations. Reading it is a viewer's right (the console lists clusters to
// create tasks); changing it is an admin's. A standalone function takes the cluster id as ?id=;
// UpdateCluster may take it from the body's "id" instead. Testing a connection is an admin's:
// it reads the cluster's password and makes this server dial a host the registry names.
var clusterOperations = []operation{
	{method: http.MethodGet, path: "/api/v1/clusters", aliases: []string{"/api/v1/clusters/"}, fn: "ListClusters", role: RoleViewer, handle: (*Server).listClusters},
	{method: http.MethodPost, path: "/api/v1/clusters", aliases: []string{"/api/v1/clusters/"}, fn: "CreateCluster", role: RoleAdmin, handle: (*Server).createCluster},
	{method: http.MethodGet, path: "/api/v1/clusters/{id}", fn: "GetCluster", role: RoleViewer, handle: (*Server).getCluster},
	{method: http.MethodPut, path: "/api/v1/clusters/{id}", fn: "UpdateCluster", role: RoleAdmin, handle: (*Server).updateCluster},
	{method: http.MethodDelete, path: "/api/v1/clusters/{id}", fn: "DeleteCluster", role: RoleAdmin, handle: (*Server).deleteCluster},
	{method: http.MethodPost, path: "/api/v1/clusters/{id}/test", fn: "TestClusterConnection", role: RoleAdmin, handle: (*Server).testCluster},
}

func init() { register(clusterOperations) }

// clusterBody is a cluster as a client sends it. It has no password field, so a password sent
// anyway is refused as an unknown field instead of being stored; password_ref must name where
// the secret lives.
type clusterBody struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Host            string `json:"host"`
	Port            int    `json:"port"`
	Transport       string `json:"transport"`
	Auth            string `json:"auth"`
	TLS             bool   `json:"tls"`
	Username        string `json:"username"`
	PasswordRef     string `json:"password_ref"`
	FSDefault       string `json:"fs_default"`
	MaxRunningTasks int    `json:"max_running_tasks"`
}

func (b clusterBody) cluster() merge.Cluster {
	return merge.Cluster{
		ID:              b.ID,
		Name:            b.Name,
		Host:            b.Host,
		Port:            b.Port,
		Transport:       b.Transport,
		Auth:            b.Auth,
		TLS:             b.TLS,
		Username:        b.Username,
		PasswordRef:     b.PasswordRef,
		FSDefault:       b.FSDefault,
		MaxRunningTasks: b.MaxRunningTasks,
	}
}

// clustersBody is the list response.
type clustersBody struct {
	Clusters []*merge.Cluster `json:"clusters"`
}

func (s *Server) listClusters(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	cs, err := s.svc.ListClusters(r.Context())
	if err != nil {
		return err
	}
	shown := make([]*merge.Cluster, 0, len(cs))
	for _, c := range cs {
		shown = append(shown, visible(c, callerRole(r)))
	}
	writeJSON(w, http.StatusOK, clustersBody{Clusters: shown})
	return nil
}

// visible is c as a caller with role sees it. Where the password lives is for admins only,
// who manage that secret: to anyone else it is a map to a secret they have no use for.
func visible(c *merge.Cluster, role Role) *merge.Cluster {
	if role >= RoleAdmin {
		return c
	}
	shown := *c
	shown.PasswordRef = ""
	return &shown
}

func (s *Server) getCluster(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r, "id"); err != nil {
		return err
	}
	id, err := idParam(r)
	if err != nil {
		return err
	}
	c, err := s.svc.GetCluster(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, visible(c, callerRole(r)))
	return nil
}

func (s *Server) createCluster(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	var b clusterBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	c, err := s.svc.CreateCluster(r.Context(), b.cluster())
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/clusters/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) updateCluster(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r, "id"); err != nil {
		return err
	}
	var b clusterBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	id, err := idParam(r)
	switch {
	case err != nil && b.ID == "":
		return merge.Errorf(merge.ErrInvalid, "the cluster id is required: in the path, as ?id= or as the body's id")
	case err != nil:
		id = b.ID
	case b.ID != "" && b.ID != id:
		return merge.Errorf(merge.ErrInvalid, "the body's id %q differs from the cluster being updated, %q", excerpt(b.ID), excerpt(id))
	}
	b.ID = id
	c, err := s.svc.UpdateCluster(r.Context(), b.cluster())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) deleteCluster(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r, "id"); err != nil {
		return err
	}
	id, err := idParam(r)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteCluster(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// testCluster connects to a cluster and reports how far it got. A cluster that cannot be
// reached is a 200 with ok false: the request succeeded, the cluster did not. The body may be
// empty or {}.
func (s *Server) testCluster(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r, "id"); err != nil {
		return err
	}
	if r.ContentLength != 0 {
		var empty struct{}
		if err := decodeJSON(w, r, &empty); err != nil {
			return err
		}
	}
	id, err := idParam(r)
	if err != nil {
		return err
	}
	res, err := s.svc.TestCluster(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
