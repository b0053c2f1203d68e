// Package functions is hivemerge's HTTP surface: the Cloud Functions entry points and the REST
// router, both over the same thin handlers.
package functions

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Server serves hivemerge's operations over HTTP, either as the REST router (Handler) or as one
// standalone function per operation (Functions).
type Server struct {
	svc    *merge.Service
	auth   *Authenticator
	log    *slog.Logger
	router http.Handler
	// origins refuses state-changing requests a browser sends from another site. Bearer
	// tokens make that harmless, except for anonymous access on a developer's machine,
	// which any web page the developer visits could otherwise reach.
	origins *http.CrossOriginProtection
}

// NewServer returns a Server over svc. A nil auth rejects every request that needs a role; a
// nil logger discards logs.
func NewServer(svc *merge.Service, auth *Authenticator, logger *slog.Logger) *Server {
	if auth == nil {
		auth = &Authenticator{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{svc: svc, auth: auth, log: logger, origins: http.NewCrossOriginProtection()}
	mux := s.newMux()
	s.router = s.boundary(apiFunction, func(w http.ResponseWriter, r *http.Request) error {
		mux.ServeHTTP(w, r)
		return nil // the route's handler left its error in the request state
	})
	return s
}

// Handler returns the REST router: /health, /docs and /api/v1.
func (s *Server) Handler() http.Handler { return s.router }

// Function is one operation served on its own, as Cloud Functions deploys it.
type Function struct {
	Name    string
	Handler http.Handler
}

// Functions returns every standalone function bound to s, ordered by name, plus "API", the
// whole REST router. They are the handlers init registers with the functions framework.
func (s *Server) Functions() []Function {
	fns := []Function{{Name: apiFunction, Handler: s.router}}
	for _, o := range operations() {
		if o.fn != "" {
			fns = append(fns, Function{Name: o.fn, Handler: s.boundary(o.fn, s.standalone(o))})
		}
	}
	slices.SortFunc(fns, func(a, b Function) int { return strings.Compare(a.Name, b.Name) })
	return fns
}

// apiFunction is the function that serves the whole REST router.
const apiFunction = "API"

// handlerFunc is an HTTP handler that returns its error instead of writing it, so that one
// place (boundary) turns errors into responses and log lines.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// operation is one API operation: where the router serves it, which standalone function serves
// it too, and the least role it needs.
type operation struct {
	method string
	// path is the canonical REST pattern, as in the OpenAPI document; aliases are patterns
	// that serve the same operation (a collection without its trailing slash).
	path    string
	aliases []string
	// fn names the standalone function; empty when the operation is only routed.
	fn     string
	role   Role
	handle func(*Server, http.ResponseWriter, *http.Request) error
}

// operations lists every operation, grouped by file.
func operations() []operation {
	return slices.Concat(healthOperations, docsOperations, taskOperations, clusterOperations, schedulerOperations)
}

// newMux routes every operation's paths. Patterns carry no method: a path's handler dispatches
// on the method itself so that a known path with another method answers 405 in JSON (the
// ServeMux would answer in plain text, and method patterns conflict with the fallbacks).
func (s *Server) newMux() *http.ServeMux {
	byPath := map[string][]operation{}
	var paths []string
	for _, o := range operations() {
		for _, p := range append([]string{o.path}, o.aliases...) {
			if _, ok := byPath[p]; !ok {
				paths = append(paths, p)
			}
			byPath[p] = append(byPath[p], o)
		}
	}
	mux := http.NewServeMux()
	for _, p := range paths {
		ops := byPath[p]
		mux.HandleFunc(muxPattern(p), func(w http.ResponseWriter, r *http.Request) {
			o, err := match(ops, r.Method, w.Header())
			if err == nil {
				err = s.guard(o)(w, r)
			}
			setError(r, err)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		setError(r, merge.Errorf(merge.ErrNotFound, "no such path: %s", r.URL.Path))
	})
	return mux
}

// muxPattern turns a route path into a ServeMux pattern. A trailing slash means the collection
// itself, not a subtree.
func muxPattern(path string) string {
	if strings.HasSuffix(path, "/") {
		return path + "{$}"
	}
	return path
}

// match picks the operation for method, or sets Allow and fails with 405. GET also serves HEAD.
func match(ops []operation, method string, h http.Header) (operation, error) {
	var allow []string
	for _, o := range ops {
		if o.method == method || (method == http.MethodHead && o.method == http.MethodGet) {
			return o, nil
		}
		allow = append(allow, o.method)
		if o.method == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
	}
	h.Set("Allow", strings.Join(allow, ", "))
	return operation{}, merge.Errorf(errMethodNotAllowed, "method %s is not allowed here; use %s", method, strings.Join(allow, " or "))
}

// standalone serves o as its own function: any path, o's method only.
func (s *Server) standalone(o operation) handlerFunc {
	ops := []operation{o}
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, err := match(ops, r.Method, w.Header()); err != nil {
			return err
		}
		return s.guard(o)(w, r)
	}
}

// guard authenticates the caller when o needs a role, checks the role, and runs o.
func (s *Server) guard(o operation) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if o.role != RoleNone {
			if err := s.origins.Check(r); err != nil {
				return merge.Errorf(merge.ErrForbidden, "cross-origin request refused: %v", err)
			}
			p, err := s.auth.Authenticate(r.Context(), r)
			if err != nil {
				return err
			}
			setPrincipal(r, p)
			if p.Role < o.role {
				return merge.Errorf(merge.ErrForbidden, "%s may not do this: it needs the %s role", p.Name, o.role)
			}
		}
		return o.handle(s, w, r)
	}
}

// idParam returns the id an operation works on: the {id} path segment under the REST router,
// the ?id= query parameter for a standalone function.
func idParam(r *http.Request) (string, error) {
	if id := r.PathValue("id"); id != "" {
		return id, nil
	}
	if id := r.URL.Query().Get("id"); id != "" {
		return id, nil
	}
	return "", merge.Errorf(merge.ErrInvalid, "the id query parameter is required")
}

// String describes o for messages and tests.
func (o operation) String() string { return fmt.Sprintf("%s %s", o.method, o.path) }
