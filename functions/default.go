package functions

import (
	"log/slog"
	"net/http"
	"os"
	"sync"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/hivemerge/hivemerge/shared/cloudlog"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// The functions framework calls registered functions without a main to build anything, so
// they share one Server built on first use by the builder the deployed entry package (gcf)
// sets with SetBuilder. This package registers the functions; it builds no backend itself.
var defaultServer struct {
	mu    sync.Mutex
	build func() (*Server, error)
	srv   *Server
	fns   map[string]http.Handler
}

func init() {
	functions.HTTP(apiFunction, defaultFunction(apiFunction))
}

// register makes each operation with a function name a function of the framework.
func register(ops []operation) {
	for _, o := range ops {
		if o.fn != "" {
			functions.HTTP(o.fn, defaultFunction(o.fn))
		}
	}
}

// SetBuilder sets how the registered functions build their Server. The builder runs at the
// first request and again after a failure.
func SetBuilder(build func() (*Server, error)) {
	defaultServer.mu.Lock()
	defer defaultServer.mu.Unlock()
	defaultServer.build = build
}

// defaultFunction serves the function name of the default Server.
func defaultFunction(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fns, err := defaultFunctions()
		if err != nil {
			// Configuration errors are the operator's to fix; the caller learns only that the
			// service is unavailable.
			cloudlog.New(os.Stderr, slog.LevelInfo).Error("hivemerge is not configured", "error", err.Error(), "function", name)
			writeError(w, err)
			return
		}
		fns[name].ServeHTTP(w, r)
	}
}

// defaultFunctions builds the default Server once it is first needed. Unlike sync.Once it
// retries after a failure, so a transient error at a cold start does not stick for the life
// of the instance.
func defaultFunctions() (map[string]http.Handler, error) {
	defaultServer.mu.Lock()
	defer defaultServer.mu.Unlock()
	if defaultServer.srv != nil {
		return defaultServer.fns, nil
	}
	if defaultServer.build == nil {
		return nil, merge.Errorf(merge.ErrUnavailable, "no server is configured: the deployed entry package sets one")
	}
	srv, err := defaultServer.build()
	if err != nil {
		return nil, err
	}
	fns := map[string]http.Handler{}
	for _, f := range srv.Functions() {
		fns[f.Name] = f.Handler
	}
	defaultServer.srv, defaultServer.fns = srv, fns
	return fns, nil
}
