package functions

import "net/http"

// healthOperations answer liveness probes. /health needs no token: a probe has none.
var healthOperations = []operation{
	{method: http.MethodGet, path: "/health", role: RoleNone, handle: (*Server).health},
}

type healthBody struct {
	Status string `json:"status"`
}

// health says the process serves requests. It deliberately does not call the store: a slow
// Firestore should not make a platform restart healthy instances.
func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, healthBody{Status: "ok"})
	return nil
}
