// Package hiveql is the sandbox's catalog, storage and HiveQL interpreter: the part of the Hive
// sandbox that knows tables and rows but nothing about the wire protocol.
package hiveql

import (
	"context"
	"fmt"
)

// Column describes one result column. Type is the HiveServer2 type name without the _TYPE
// suffix, as Hive reports it in result-set metadata: STRING, BIGINT, INT, DOUBLE, BOOLEAN.
type Column struct {
	Name string
	Type string
}

// Result is the result set of one statement. Values in Rows are string, int64, float64, bool or
// nil (SQL NULL), matching the column's Type.
type Result struct {
	Columns []Column
	Rows    [][]any
}

// Events are the optional callbacks of one statement execution. Any field may be nil.
type Events struct {
	// Progress reports work done so far, for GetOperationStatus/GetProgress.
	Progress func(done, total int)
	// Log receives the lines a client sees through FetchResults on the log orientation.
	Log func(line string)
	// BeforeCommit runs after a writing statement has read its input and before it publishes
	// its output. Fault injection uses it to act as a concurrent writer or to stall a statement
	// at its most delicate moment; an error aborts the statement and discards its output.
	BeforeCommit func(ctx context.Context) error
	// Compiled runs once the statement has parsed and passed its semantic checks, before any
	// execution work, as HiveServer2's compile step ends. A statement that fails before it
	// has a compile error; one that fails after it, an execution error. It is not called with
	// the catalog locked, so it may block (fault injection stalls a statement here); an error
	// aborts the statement before it changes anything.
	Compiled func(ctx context.Context, p Plan) error
}

// Plan is what compiling a statement tells about it before it runs.
type Plan struct {
	// QueryID is the id the statement's log shows in its "Query ID = ..." line.
	QueryID string
	// HasResultSet tells whether the statement returns rows; Columns is then their schema.
	HasResultSet bool
	Columns      []Column
}

// Statement is one statement with its per-statement settings.
type Statement struct {
	SQL string
	// Conf overlays the session's settings for this statement only, as HiveServer2's
	// confOverlay does; keys are read like Session.Set's (hivevar: keys define variables).
	Conf   map[string]string
	Events Events
}

// Error is a statement failure as Hive reports it. Message is the full text a Hive client sees,
// for example "Error while compiling statement: FAILED: SemanticException [Error 10001]: Line 1:14
// Table not found 'x'"; SQLState and Code are what HiveServer2 puts in the TStatus.
type Error struct {
	SQLState string
	Code     int32
	Message  string
}

func (e *Error) Error() string { return e.Message }

// Errorf builds an Error with Hive's SQLState and error code.
func Errorf(sqlState string, code int32, format string, args ...any) *Error {
	return &Error{SQLState: sqlState, Code: code, Message: fmt.Sprintf(format, args...)}
}

// The engine is implemented in the other files of this package with this surface, which the
// wire server (package hivesandbox) relies on:
//
//	func Open(dir string) (*Warehouse, error)           // catalog and data under dir; survives restarts
//	func (w *Warehouse) Close() error
//	func (w *Warehouse) NewSession(user string) *Session // own current database and SET properties
//	func (s *Session) Set(key, value string)             // session configuration from OpenSession
//	func (s *Session) Database() string
//	func (s *Session) Execute(ctx context.Context, stmt string, ev Events) (*Result, error)
//	func (s *Session) Run(ctx context.Context, st Statement) (*Result, error) // with a confOverlay
//	func (w *Warehouse) AppendFile(ctx context.Context, db, table string, partition map[string]string, rows [][]string) (string, error)
//	func Generate(ctx context.Context, w *Warehouse, opts GenerateOptions) (GenerateReport, error)
//
// Execute returns a nil Result for statements without a result set, an *Error for anything Hive
// would refuse, and ctx.Err() (with the statement's output discarded) when ctx ends first.
//
// Beyond that contract the engine offers:
//
//	func (w *Warehouse) Dir() string                                // the directory given to Open
//	func (w *Warehouse) AllowLocations(roots ...string) error       // more roots for LOCATION
//	func (w *Warehouse) SetMaxStatementBytes(n int)                 // longest statement accepted
//	func (w *Warehouse) MaxStatementBytes() int
//	func (w *Warehouse) WaitCompactions(ctx context.Context) error  // until no compaction is pending
//
// and ALTER TABLE ... COMPACT '...' AND WAIT blocks the statement until its compaction ends.
//
// Every location the engine creates, reads, replaces or deletes lies strictly below the
// directory given to Open or a root given to AllowLocations: a LOCATION elsewhere is refused
// with a SemanticException before anything changes, and a catalog entry read from disk that
// points elsewhere makes every statement on its table fail. Locations also may not overlap one
// another (see checkOverlapLocked), names must be one path element, and a statement longer
// than MaxStatementBytes fails before it is parsed.
