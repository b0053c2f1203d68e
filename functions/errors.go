package functions

import (
	"errors"
	"net/http"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// errMethodNotAllowed is the one error kind the HTTP layer adds to the domain's.
var errMethodNotAllowed = errors.New("method not allowed")

// errorKinds maps error kinds to HTTP. It is the only place that does: handlers return domain
// errors and never choose a status. msg is what the caller sees when the error carries no
// user-facing message of its own.
var errorKinds = []struct {
	kind   error
	status int
	code   string
	msg    string
}{
	{merge.ErrInvalid, http.StatusBadRequest, "invalid_argument", "the request is not valid"},
	{merge.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated", "a valid bearer token is required"},
	{merge.ErrForbidden, http.StatusForbidden, "permission_denied", "the caller may not do this"},
	{merge.ErrNotFound, http.StatusNotFound, "not_found", "not found"},
	{errMethodNotAllowed, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed"},
	{merge.ErrConflict, http.StatusConflict, "conflict", "the request conflicts with the current state"},
	// A full cluster is not the task's fault and not the server's: the caller retries later.
	{merge.ErrBusy, http.StatusTooManyRequests, "busy", "the cluster runs as many tasks as it allows; retry later"},
	{merge.ErrUnavailable, http.StatusServiceUnavailable, "unavailable", "a backend is unavailable; retry later"},
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// ReasonCode and ReasonArgs are a refusal's reason as a catalog message, for translation.
	ReasonCode string     `json:"reason_code,omitempty"`
	ReasonArgs merge.Args `json:"reason_args,omitempty"`
}

// classify returns the status and body for err. Only messages of *merge.Error and reasons of
// *merge.Refusal reach the caller: anything else may carry internals (paths, backend errors),
// so it gets its kind's generic message, and an error of no known kind is an internal error.
func classify(err error) (int, errorBody) {
	for _, k := range errorKinds {
		if errors.Is(err, k.kind) {
			d := errorDetail{Code: k.code, Message: k.msg}
			if me, ok := errors.AsType[*merge.Error](err); ok && me.Msg != "" {
				d.Message = me.Msg
			} else if rf, ok := errors.AsType[*merge.Refusal](err); ok && rf.Reason != "" {
				d.Message, d.ReasonCode, d.ReasonArgs = rf.Reason, rf.ReasonCode, rf.ReasonArgs
			}
			return k.status, errorBody{d}
		}
	}
	return http.StatusInternalServerError, errorBody{errorDetail{Code: "internal", Message: "internal error"}}
}

// writeError writes err as a JSON error response.
func writeError(w http.ResponseWriter, err error) int {
	status, body := classify(err)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hivemerge"`)
	}
	writeJSON(w, status, body)
	return status
}
