package functions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"time"
)

// requestIDRe bounds what a caller-supplied X-Request-Id may be, so it cannot forge log
// structure or grow log lines without limit.
var requestIDRe = regexp.MustCompile(`^[A-Za-z0-9._:/+=-]{1,128}$`)

// requestID returns the caller's X-Request-Id when it is well formed, else a new one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); requestIDRe.MatchString(id) {
		return id
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestState is what the layers of one request tell the boundary: who called and what
// failed. It travels in the request's context.
type requestState struct {
	principal string
	err       error
}

type stateKey struct{}

func state(r *http.Request) *requestState {
	st, _ := r.Context().Value(stateKey{}).(*requestState)
	return st
}

func setError(r *http.Request, err error) {
	if st := state(r); st != nil {
		st.err = err
	}
}

func setPrincipal(r *http.Request, p Principal) {
	if st := state(r); st != nil {
		st.principal = p.Name
	}
}

type loggerKey struct{}

// Logger returns the request's logger, which carries its request id, or the default logger.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// boundary is where a request enters and leaves: it assigns the request id, recovers panics,
// writes the error a handler returned, and logs the request once. fn names the function
// serving it ("API" for the router).
func (s *Server) boundary(fn string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r)
		w.Header().Set("X-Request-Id", id)
		logger := s.log.With("request_id", id)
		st := &requestState{}
		ctx := context.WithValue(r.Context(), stateKey{}, st)
		ctx = context.WithValue(ctx, loggerKey{}, logger)
		r = r.WithContext(ctx)
		rec := &recorder{ResponseWriter: w}

		err := func() (err error) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
				}
			}()
			return h(rec, r)
		}()
		if err == nil {
			err = st.err
		}
		if err != nil && rec.status == 0 {
			writeError(rec, err)
		}

		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		attrs := []slog.Attr{
			slog.String("function", fn),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		}
		if st.principal != "" {
			attrs = append(attrs, slog.String("principal", st.principal))
		}
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
			if err != nil {
				// The full error goes to the log only: the caller saw a generic message.
				attrs = append(attrs, slog.String("error", err.Error()))
			}
		case status >= 400 && err != nil:
			level = slog.LevelWarn
			_, body := classify(err)
			attrs = append(attrs, slog.String("error", body.Error.Message))
		}
		logger.LogAttrs(ctx, level, "request", attrs...)
	})
}

// recorder remembers the status a handler wrote.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
