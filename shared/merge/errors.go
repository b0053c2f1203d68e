package merge

import (
	"errors"
	"fmt"
)

// Domain errors. Adapters translate backend failures into these (wrapped with %w) so callers can
// branch with errors.Is without knowing which backend answered.
var (
	ErrNotFound        = errors.New("not found")
	ErrInvalid         = errors.New("invalid argument")
	ErrConflict        = errors.New("conflict")
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrForbidden       = errors.New("forbidden")
	// ErrUnavailable means a backend (Hive, a filesystem, the store) could not be reached or
	// timed out; the operation may succeed when retried.
	ErrUnavailable = errors.New("unavailable")
)

// Error is a domain error with a message meant for the user. Its Kind is one of the Err values
// above, so errors.Is(err, ErrNotFound) works through any amount of %w wrapping.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

// Errorf returns an *Error of the given kind with a formatted user-facing message.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}
