// Package functions is hivemerge's HTTP surface: the Cloud Functions entry points and the REST
// router, both over the same thin handlers.
package functions

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Server serves hivemerge's operations over HTTP, either as the REST router (Handler) or as one
// standalone function per operation (Functions).
type Server struct {
	svc    *merge.Service
	engine Engine // nil: merges are not run here
	auth   *Authenticator
	log    *slog.Logger
	router http.Handler
	// origins refuses state-changing requests a browser sends from another site. Bearer
	// tokens make that harmless, except for anonymous access on a developer's machine,
	// which any web page the developer visits could otherwise reach.
	origins *http.CrossOriginProtection
	// pages seals the page tokens of task listings.
	pages pageSealer
	// discovery serves scans and metrics; nil until WithDiscovery.
	discovery Discovery
	// sched holds the policy service and the scheduler's jobs (WithScheduling).
	sched Scheduling
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
	s := &Server{svc: svc, auth: auth, log: logger, origins: http.NewCrossOriginProtection(), pages: pageSealer{key: auth.pageKey()}}
	mux := s.newMux()
	s.router = withConsole(s.boundary(apiFunction, s.checkHost(func(w http.ResponseWriter, r *http.Request) error {
		mux.ServeHTTP(w, r)
		return nil // the route's handler left its error in the request state
	})))
	return s
}

// Handler returns the REST router: /health, /docs and /api/v1, with the web console at
// /console/.
func (s *Server) Handler() http.Handler { return s.router }

// Function is one operation served on its own, as Cloud Functions deploys it.
type Function struct {
	Name    string
	Handler http.Handler
}

// Functions returns every standalone function bound to s, ordered by name, plus "API", the
// whole REST router with the web console. They are the handlers init registers with the
// functions framework.
func (s *Server) Functions() []Function {
	fns := []Function{{Name: apiFunction, Handler: s.router}}
	for _, o := range operations() {
		if o.fn != "" {
			fns = append(fns, Function{Name: o.fn, Handler: s.boundary(o.fn, s.checkHost(s.route([]operation{o})))})
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
	return slices.Concat(healthOperations, docsOperations, taskOperations, engineOperations, clusterOperations, schedulerOperations, discoveryOperations, policyOperations)
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
		h := s.route(byPath[p])
		mux.HandleFunc(muxPattern(p), func(w http.ResponseWriter, r *http.Request) {
			setError(r, h(w, r))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Under /api/ only a known caller learns which paths exist.
		if strings.HasPrefix(r.URL.Path, "/api/") {
			if _, err := s.authenticate(r); err != nil {
				setError(r, err)
				return
			}
		}
		setError(r, merge.Errorf(merge.ErrNotFound, "no such path: %s", excerpt(r.URL.Path)))
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

// route serves the operations of one path (a standalone function's one operation): the one
// for the request's method, or 405 with Allow. A path that needs a role tells its methods only
// to a caller it knows, so an anonymous one cannot map the API by trying methods.
func (s *Server) route(ops []operation) handlerFunc {
	public := !slices.ContainsFunc(ops, func(o operation) bool { return o.role != RoleNone })
	return func(w http.ResponseWriter, r *http.Request) error {
		var allow []string
		for _, o := range ops {
			if o.method == r.Method || (r.Method == http.MethodHead && o.method == http.MethodGet) {
				return s.guard(o)(w, r)
			}
			allow = append(allow, o.method)
			if o.method == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
		if !public {
			if _, err := s.authenticate(r); err != nil {
				return err
			}
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return merge.Errorf(errMethodNotAllowed, "method %s is not allowed here; use %s", excerpt(r.Method), strings.Join(allow, " or "))
	}
}

// guard authenticates the caller when o needs a role, checks the role, and runs o.
func (s *Server) guard(o operation) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if o.role != RoleNone {
			if err := s.origins.Check(r); err != nil {
				return merge.Errorf(merge.ErrForbidden, "cross-origin request refused: %v", err)
			}
			p, err := s.authenticate(r)
			if err != nil {
				return err
			}
			if p.Role < o.role {
				return merge.Errorf(merge.ErrForbidden, "%s may not do this: it needs the %s role", p.Name, o.role)
			}
			r = r.WithContext(context.WithValue(r.Context(), roleKey{}, p.Role))
		}
		return o.handle(s, w, r)
	}
}

// authenticate identifies the caller and records it for the request's log line.
func (s *Server) authenticate(r *http.Request) (Principal, error) {
	p, err := s.auth.Authenticate(r.Context(), r)
	if err != nil {
		return Principal{}, err
	}
	setPrincipal(r, p)
	return p, nil
}

type roleKey struct{}

// callerRole is the role of the caller an operation's guard let in; RoleNone on public paths.
func callerRole(r *http.Request) Role {
	role, _ := r.Context().Value(roleKey{}).(Role)
	return role
}

// checkHost refuses, when anonymous access is on, any request whose Host is not a loopback
// name. Anonymous access trusts whoever can reach a loopback listener, and a web page can:
// DNS rebinding points the page's own name at 127.0.0.1, and the browser then sends the
// page's requests here as same-origin. The Host header still carries the page's name.
func (s *Server) checkHost(h handlerFunc) handlerFunc {
	if s.auth.Anonymous() == RoleNone {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		if !loopbackHost(r.Host) {
			return merge.Errorf(merge.ErrForbidden, "anonymous access answers loopback Host names only (localhost, 127.0.0.1, [::1]), not %q; "+
				"to serve another name, unset HIVEMERGE_ALLOW_ANONYMOUS and send a bearer token (HIVEMERGE_API_TOKEN)", excerpt(r.Host))
		}
		return h(w, r)
	}
}

// loopbackHost reports whether a Host header names this machine's loopback interface:
// localhost, 127.0.0.0/8 or ::1, with or without a port.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.IsLoopback()
}

// maxEcho bounds how much of a caller's id or path an error message repeats.
const maxEcho = 64

// excerpt is s as an error message may repeat it: at most maxEcho bytes, cut at a character
// boundary, with "..." when cut.
func excerpt(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	n := maxEcho
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
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
