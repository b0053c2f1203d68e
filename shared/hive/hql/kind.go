package hql

import "strings"

// Kind is what a statement does to Hive, which decides whether a client may send it again after
// its connection dropped without an answer.
type Kind int

const (
	// KindWrite changes data or metadata (INSERT, CREATE, ALTER, DROP, MSCK...), or is a
	// statement this package does not build: it is never sent twice automatically.
	KindWrite Kind = iota
	// KindRead only reads: DESCRIBE, SHOW, SELECT.
	KindRead
	// KindSession changes the session's own state: SET, USE.
	KindSession
	// KindStats recomputes statistics (ANALYZE ... COMPUTE STATISTICS): it writes metadata, but
	// the same values every time.
	KindStats
)

func (k Kind) String() string {
	switch k {
	case KindRead:
		return "read"
	case KindSession:
		return "session"
	case KindStats:
		return "stats"
	}
	return "write"
}

// Repeatable reports whether running a statement of this kind twice leaves Hive as running it
// once does, so that it can be sent again on a new session.
func (k Kind) Repeatable() bool { return k != KindWrite }

// KindOf returns the kind of a statement built by this package, from its leading keywords
// (the builders' first words name what they do). Anything else is KindWrite.
func KindOf(stmt string) Kind {
	w := strings.Fields(stmt)
	if len(w) == 0 {
		return KindWrite
	}
	switch strings.ToUpper(w[0]) {
	case "DESCRIBE", "SHOW", "SELECT":
		return KindRead
	case "SET", "USE":
		return KindSession
	case "ANALYZE":
		if n := len(w); n >= 3 && strings.EqualFold(w[n-2], "COMPUTE") && strings.EqualFold(w[n-1], "STATISTICS") {
			return KindStats
		}
	}
	return KindWrite
}
