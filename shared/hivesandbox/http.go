package hivesandbox

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
)

// CLIServicePath is where the HTTP transport serves Thrift, as HiveServer2's default
// hive.server2.thrift.http.path ("cliservice") and gohive's default HTTPPath expect.
const CLIServicePath = "/cliservice"

// FaultsPath is the fault admin endpoint: GET lists, POST adds (one fault or an array),
// DELETE clears; DELETE FaultsPath/{id} removes one.
const FaultsPath = "/sandbox/faults"

func (s *Server) newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

func (s *Server) serveHTTP(srv *http.Server, ln net.Listener) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.log.Error("HTTP server stopped", "addr", ln.Addr().String(), "err", err)
	}
}

// httpHandler serves the Thrift HTTP transport plus the admin endpoints.
func (s *Server) httpHandler() http.Handler {
	thriftHandler := thrift.NewThriftHandlerFunc(s.proc, thrift.NewTBinaryProtocolFactoryConf(nil), thrift.NewTBinaryProtocolFactoryConf(nil))
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+CLIServicePath, func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if user, _, ok := r.BasicAuth(); ok {
			ctx = context.WithValue(ctx, httpUserKey{}, user)
		}
		// Dropping an HTTP "connection" means hijacking it and closing the socket, so the
		// client sees the same abrupt end as on the binary transport.
		dw := &droppableWriter{ResponseWriter: w}
		ctx = context.WithValue(ctx, dropKey{}, func() {
			if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
				dw.dropped = true
				c.Close()
			}
		})
		thriftHandler(dw, r.WithContext(ctx))
	})
	s.adminRoutes(mux)
	return s.guard(mux)
}

// droppableWriter swallows what the Thrift handler writes after its connection was dropped,
// which net/http would otherwise log as writes on a hijacked connection. The drop happens on
// the handler's own goroutine, so dropped needs no lock.
type droppableWriter struct {
	http.ResponseWriter
	dropped bool
}

func (w *droppableWriter) Write(b []byte) (int, error) {
	if w.dropped {
		return 0, net.ErrClosed
	}
	return w.ResponseWriter.Write(b)
}

func (w *droppableWriter) WriteHeader(code int) {
	if !w.dropped {
		w.ResponseWriter.WriteHeader(code)
	}
}

// adminHandler serves the admin endpoints alone, for Config.AdminAddr.
func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	s.adminRoutes(mux)
	return s.guard(mux)
}

// guard requires HTTP Basic credentials from Config.Users when users are configured,
// as HiveServer2 in HTTP mode with LDAP or custom authentication does. It also registers
// every call with the server's shutdown.
func (s *Server) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Count the call in wg so that Close waits for it, unless Close has begun.
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			http.Error(w, "the sandbox is shutting down", http.StatusServiceUnavailable)
			return
		}
		s.wg.Add(1)
		s.mu.Unlock()
		defer s.wg.Done()

		w.Header().Set("Server", ServerName+"/"+ServerVersion)
		if s.cfg.Users == nil || r.URL.Path == "/healthz" {
			h.ServeHTTP(w, r)
			return
		}
		user, password, ok := r.BasicAuth()
		want, known := s.cfg.Users[user]
		if !ok || !known || subtle.ConstantTimeCompare([]byte(password), []byte(want)) != 1 {
			s.log.Warn("HTTP authentication failed", "user", user, "remote", r.RemoteAddr, "path", r.URL.Path)
			w.Header().Set("WWW-Authenticate", `Basic realm="hivemerge sandbox"`)
			http.Error(w, "Authentication Error: "+badCredentials, http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "server": ServerName, "version": ServerVersion})
	})
	mux.HandleFunc("GET "+FaultsPath, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.fault.snapshot())
	})
	mux.HandleFunc("POST "+FaultsPath, func(w http.ResponseWriter, r *http.Request) {
		faults, err := ReadFaults(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		added := make([]FaultStatus, 0, len(faults))
		for _, f := range faults {
			in, err := s.fault.add(f)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			s.log.Info("fault injected", "fault_id", in.id, "match", f.Match, "action", f.Action, "times", f.Times, "via", "admin")
			added = append(added, FaultStatus{ID: in.id, Fault: f})
		}
		writeJSON(w, http.StatusCreated, added)
	})
	mux.HandleFunc("DELETE "+FaultsPath, func(w http.ResponseWriter, r *http.Request) {
		s.fault.clear()
		s.log.Info("faults cleared", "via", "admin")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE "+FaultsPath+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil || !s.fault.remove(id) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such fault"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
