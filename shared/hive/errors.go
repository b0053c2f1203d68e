package hive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/beltran/gohive"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Error is a statement that Hive refused or that failed while running. Kind is the domain error
// it corresponds to (merge.ErrNotFound, merge.ErrInvalid, ...) or nil for failures that have no
// better name than "the statement failed" (execution errors such as "return code 2 from
// DDLTask"); errors.Is(err, merge.ErrNotFound) sees through it.
type Error struct {
	// SQLState is Hive's SQLSTATE ("42S02", "42000", "08S01"). gohive v1.8.1 drops it for
	// errors reported by ExecuteStatement (compilation errors), so it is often empty.
	SQLState string `json:"sql_state,omitempty"`
	// Code is Hive's error code (ErrorMsg: 10001 table not found, 40000 generic compile
	// error, 1 or 2 for execution errors). When the server sends none, it is taken from the
	// "[Error NNNNN]" marker of the message.
	Code int32 `json:"code,omitempty"`
	// Message is the text Hive reported.
	Message string `json:"message"`
	Kind    error  `json:"-"`
}

func (e *Error) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("hive error %d: %s", e.Code, e.Message)
	}
	return "hive error: " + e.Message
}

func (e *Error) Unwrap() error { return e.Kind }

var errorCodeRE = regexp.MustCompile(`\[Error (\d{5})\]`)

// Hive ErrorMsg codes that mean an object does not exist.
var notFoundCodes = map[int32]bool{
	10001: true, // INVALID_TABLE: Table not found
	10006: true, // INVALID_PARTITION: Partition not found
	10072: true, // DATABASE_NOT_EXISTS
}

// newError builds an Error from what HiveServer2 reported and classifies it.
func newError(sqlState string, code int32, message string) *Error {
	message = strings.TrimSpace(message)
	e := &Error{SQLState: sqlState, Code: code, Message: message}
	if e.Code == 0 {
		if m := errorCodeRE.FindStringSubmatch(message); m != nil {
			n, _ := strconv.Atoi(m[1])
			e.Code = int32(n)
		}
	}
	e.Kind = classify(e)
	return e
}

func classify(e *Error) error {
	msg := e.Message
	lower := strings.ToLower(msg)
	specific := e.Code
	if m := errorCodeRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		specific = int32(n)
	}
	switch {
	case notFoundCodes[specific] || notFoundCodes[e.Code],
		strings.Contains(lower, "table not found"),
		strings.Contains(lower, "database does not exist"),
		strings.Contains(lower, "partition not found"),
		strings.Contains(msg, "NoSuchObjectException"):
		return merge.ErrNotFound
	case strings.Contains(msg, "HiveAccessControlException"),
		strings.Contains(msg, "AccessControlException"),
		strings.Contains(lower, "permission denied"):
		return merge.ErrForbidden
	case strings.Contains(lower, "error in acquiring locks"),
		strings.Contains(lower, "already exists"),
		strings.Contains(msg, "AlreadyExistsException"):
		return merge.ErrConflict
	case strings.HasPrefix(e.SQLState, "42"),
		specific >= 10000 && specific < 20000,
		strings.Contains(msg, "ParseException"),
		strings.Contains(msg, "SemanticException"),
		strings.Contains(msg, "Error while compiling statement"),
		strings.Contains(msg, "Error in semantic analysis"):
		return merge.ErrInvalid
	}
	return nil
}

// sessionGone reports whether the server no longer knows the session or the operation: the
// statement was not run and a fresh connection can retry it.
func sessionGone(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	// gohive's HiveError prints the raw TStatus; the server's text is in Message.
	var he gohive.HiveError
	if errors.As(err, &he) {
		s += " " + he.Message
	}
	return strings.Contains(s, "Invalid SessionHandle") || strings.Contains(s, "Invalid OperationHandle")
}

// unavailable wraps a failure to reach Hive (or to hear back in time) as merge.ErrUnavailable,
// keeping the cause visible to errors.Is.
func unavailable(op string, err error) error {
	return fmt.Errorf("%w: hive %s: %w", merge.ErrUnavailable, op, err)
}

// errDropped marks a transport failure in the middle of a statement: the connection broke
// while the statement was sent or running, so whether Hive ran it is unknown.
var errDropped = errors.New("connection dropped, the statement may or may not have run")

// dropped wraps a transport failure of a statement as merge.ErrUnavailable and errDropped.
func dropped(op string, err error) error {
	return fmt.Errorf("%w: hive %s: %w: %w", merge.ErrUnavailable, op, errDropped, err)
}

// authFailure reports whether err is the server refusing the credentials.
func authFailure(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "Bad SASL negotiation status") ||
		strings.Contains(s, "HTTP Response code: 401") ||
		strings.Contains(s, "HTTP Response code: 403") ||
		strings.Contains(s, "Error validating the login") ||
		strings.Contains(s, "Peer indicated failure")
}

// transportFailure reports whether err comes from the connection rather than from Hive: the
// connection is then unusable (a reply may still be in flight) and must be discarded.
func transportFailure(err error) bool {
	if err == nil {
		return false
	}
	var te thrift.TTransportException
	var pe thrift.TProtocolException
	var ne net.Error
	var ae thrift.TApplicationException
	switch {
	case errors.As(err, &te), errors.As(err, &pe), errors.As(err, &ne), errors.As(err, &ae):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNREFUSED):
		return true
	}
	s := err.Error()
	return strings.Contains(s, "out of order sequence response") ||
		strings.Contains(s, "connection reset") ||
		strings.Contains(s, "broken pipe") ||
		strings.Contains(s, "use of closed network connection")
}

// fromGohive translates an error gohive left in Cursor.Err. Statement errors become *Error;
// connection errors merge.ErrUnavailable.
func fromGohive(op string, err error) error {
	if err == nil {
		return nil
	}
	var he gohive.HiveError
	if errors.As(err, &he) {
		msg := he.Message
		if msg == "" {
			msg = he.Error()
		}
		if sessionGone(err) {
			return unavailable(op, newError("", int32(he.ErrorCode), msg))
		}
		return newError("", int32(he.ErrorCode), msg)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if authFailure(err) {
		return fmt.Errorf("%w: hive %s: %w", merge.ErrUnauthenticated, op, err)
	}
	return unavailable(op, err)
}
