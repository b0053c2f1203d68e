package hivesandbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/beltran/gohive/hiveserver"

	"github.com/hivemerge/hivemerge/shared/hivesandbox/hiveql"
)

// handleKey identifies a session or an operation: the GUID of its THandleIdentifier.
type handleKey [16]byte

func newHandle() (handleKey, *hiveserver.THandleIdentifier) {
	var k handleKey
	secret := make([]byte, 16)
	rand.Read(k[:])
	rand.Read(secret)
	k[6] = k[6]&0x0f | 0x40 // a version 4 UUID, as Hive's handles are
	k[8] = k[8]&0x3f | 0x80
	return k, &hiveserver.THandleIdentifier{GUID: k[:], Secret: secret}
}

func keyOf(id *hiveserver.THandleIdentifier) (handleKey, bool) {
	var k handleKey
	if id == nil || len(id.GUID) != len(k) {
		return k, false
	}
	copy(k[:], id.GUID)
	return k, true
}

func (k handleKey) String() string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", k[0:4], k[4:6], k[6:8], k[8:10], k[10:16])
}

// session is one HiveServer2 session.
type session struct {
	key    handleKey
	handle *hiveserver.TSessionHandle
	user   string
	hs     *hiveql.Session
	owner  *binaryConn // nil over HTTP, where sessions outlive connections
	log    *slog.Logger

	// turn admits one statement at a time: the engine's Session runs statements serially, as
	// a HiveServer2 session does, and later statements wait in PENDING.
	turn chan struct{}

	mu     sync.Mutex
	ops    map[handleKey]*operation
	closed bool
}

// closeOps cancels every operation of the session and waits for them to end.
func (sess *session) closeOps() {
	sess.mu.Lock()
	sess.closed = true
	ops := make([]*operation, 0, len(sess.ops))
	for _, op := range sess.ops {
		ops = append(ops, op)
	}
	sess.ops = nil
	sess.mu.Unlock()
	for _, op := range ops {
		op.stop(hiveserver.TOperationState_CLOSED_STATE)
		<-op.done
	}
}

// runFunc is the work of one operation.
type runFunc func(ctx context.Context, ev hiveql.Events) (*hiveql.Result, error)

// maxLogLines bounds the log kept per operation; older lines are dropped first.
const maxLogLines = 10000

// operation is one statement or metadata call, running in its own goroutine.
type operation struct {
	key    handleKey
	handle *hiveserver.TOperationHandle
	sess   *session
	stmt   string
	log    *slog.Logger

	cancel   context.CancelFunc
	compiled chan struct{} // closed once the engine has compiled the statement, or at done
	done     chan struct{} // closed when the goroutine has returned

	compileOnce sync.Once

	timeout time.Duration // QueryTimeout; 0 is none

	mu    sync.Mutex
	state hiveserver.TOperationState
	// planned records that the engine compiled the statement: a later failure is an
	// execution error, which belongs to GetOperationStatus rather than ExecuteStatement.
	planned       bool
	queryID       string
	stopState     hiveserver.TOperationState // requested terminal state when stopped
	err           *hiveql.Error
	result        *hiveql.Result
	hasResult     bool
	rowsSent      int
	logs          []string
	logsSent      int
	progressDone  int
	progressTotal int
	startTime     time.Time
	endTime       time.Time
}

func (op *operation) markCompiled() { op.compileOnce.Do(func() { close(op.compiled) }) }

func (op *operation) setState(st hiveserver.TOperationState) {
	op.mu.Lock()
	defer op.mu.Unlock()
	if !terminal(op.state) {
		op.state = st
	}
}

func terminal(st hiveserver.TOperationState) bool {
	switch st {
	case hiveserver.TOperationState_FINISHED_STATE, hiveserver.TOperationState_ERROR_STATE,
		hiveserver.TOperationState_CANCELED_STATE, hiveserver.TOperationState_CLOSED_STATE,
		hiveserver.TOperationState_TIMEDOUT_STATE:
		return true
	}
	return false
}

func (op *operation) appendLog(line string) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.logs = append(op.logs, line)
	if len(op.logs) > maxLogLines {
		drop := len(op.logs) - maxLogLines
		op.logs = op.logs[drop:]
		op.logsSent = max(op.logsSent-drop, 0)
	}
}

// stop cancels a running operation; the state it ends in is st (CANCELED or CLOSED).
func (op *operation) stop(st hiveserver.TOperationState) {
	op.mu.Lock()
	if op.stopState == 0 || st == hiveserver.TOperationState_CLOSED_STATE {
		op.stopState = st
	}
	if !terminal(op.state) {
		op.state = st
	} else if st == hiveserver.TOperationState_CLOSED_STATE {
		op.state = st
	}
	op.mu.Unlock()
	op.cancel()
}

// run executes fn and records its outcome. Faults matched by the statement are applied here.
func (op *operation) run(ctx context.Context, fn runFunc, fault *injected, s *Server) {
	// done closes before the final markCompiled, so that a waiter woken by compiled can tell
	// from done whether the operation had ended.
	defer op.markCompiled()
	defer close(op.done)
	defer op.cancel()

	// While another statement of the session runs, this one waits in PENDING, uncompiled:
	// the engine compiles against the session's state, which that statement may change.
	op.setState(hiveserver.TOperationState_PENDING_STATE)
	select {
	case op.sess.turn <- struct{}{}:
	case <-ctx.Done():
		op.finish(ctx, nil, ctx.Err())
		return
	}
	res, err := op.execute(ctx, fn, fault, s)
	// The session's next statement may start as soon as a client can see this one ended.
	<-op.sess.turn
	op.finish(ctx, res, err)
}

func (op *operation) execute(ctx context.Context, fn runFunc, fault *injected, s *Server) (*hiveql.Result, error) {
	op.mu.Lock()
	op.startTime = time.Now()
	op.mu.Unlock()
	op.setState(hiveserver.TOperationState_RUNNING_STATE)

	committed := false
	ev := hiveql.Events{
		Compiled: func(ctx context.Context, p hiveql.Plan) error {
			op.mu.Lock()
			op.planned, op.queryID, op.hasResult = true, p.QueryID, p.HasResultSet
			op.mu.Unlock()
			op.markCompiled()
			// Faults at the start of a statement hit its execution, as a failed job would.
			if fault == nil || fault.fault.AtCommit || fault.fault.Action == FaultConcurrentWrite {
				return nil
			}
			return s.fire(ctx, op, fault)
		},
		Progress: func(done, total int) {
			op.mu.Lock()
			op.progressDone, op.progressTotal = done, total
			op.mu.Unlock()
		},
		Log: op.appendLog,
		BeforeCommit: func(ctx context.Context) error {
			committed = true
			if fault == nil || !(fault.fault.AtCommit || fault.fault.Action == FaultConcurrentWrite) {
				return nil
			}
			return s.fire(ctx, op, fault)
		},
	}
	res, err := fn(ctx, ev)
	if err == nil && !committed && fault != nil && fault.fault.Action == FaultConcurrentWrite {
		// The statement never reached a commit point (a query, a DDL statement): the writer
		// lands right after it, before its result is visible.
		err = s.fire(ctx, op, fault)
	}
	return res, err
}

// finish records the outcome of the operation.
func (op *operation) finish(ctx context.Context, res *hiveql.Result, err error) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.endTime = time.Now()
	if op.startTime.IsZero() {
		op.startTime = op.endTime
	}
	if ctx.Err() != nil && err == nil {
		// The statement finished after a cancel arrived; its result is not delivered.
		op.log.Warn("statement completed after it was cancelled", "statement", logStatement(op.stmt))
	}
	switch {
	case op.stopState != 0:
		op.state = op.stopState
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		op.state = hiveserver.TOperationState_TIMEDOUT_STATE
		op.err = hiveql.Errorf("HYT00", 0, "Query timed out after %d seconds", int(op.timeout.Seconds()))
	case ctx.Err() != nil:
		// The server is closing.
		op.state = hiveserver.TOperationState_CANCELED_STATE
	case err != nil:
		op.state = hiveserver.TOperationState_ERROR_STATE
		op.err = hiveError(err)
	default:
		op.state = hiveserver.TOperationState_FINISHED_STATE
		op.result = res
		op.hasResult = res != nil
	}
	attrs := []any{"statement", logStatement(op.stmt), "state", strings.TrimSuffix(op.state.String(), "_STATE"),
		"duration_ms", op.endTime.Sub(op.startTime).Milliseconds(), "rows", rowCount(op.result)}
	if op.err != nil {
		attrs = append(attrs, "sql_state", op.err.SQLState, "error_code", op.err.Code, "error", op.err.Message)
	}
	op.log.Info("statement ended", attrs...)
}

// maxLoggedStatement bounds the statement text in one log line: a client may send megabytes.
const maxLoggedStatement = 4096

// logStatement is stmt as logged: cut at maxLoggedStatement bytes, saying how long it was.
func logStatement(stmt string) string {
	if len(stmt) <= maxLoggedStatement {
		return stmt
	}
	return fmt.Sprintf("%s... (%d bytes)", strings.ToValidUTF8(stmt[:maxLoggedStatement], ""), len(stmt))
}

func rowCount(res *hiveql.Result) int {
	if res == nil {
		return 0
	}
	return len(res.Rows)
}

// hiveError turns any failure into what HiveServer2 reports: engine errors keep their
// SQLState and code; anything else is an internal error of the sandbox.
func hiveError(err error) *hiveql.Error {
	var he *hiveql.Error
	if errors.As(err, &he) {
		return he
	}
	return hiveql.Errorf("08S01", 40000, "Error while processing statement: FAILED: sandbox internal error: %v", err)
}

// fire applies one fault to the operation; a nil return lets the statement go on.
func (s *Server) fire(ctx context.Context, op *operation, in *injected) error {
	if !s.fault.use(in) {
		return nil
	}
	f := in.fault
	op.appendLog(fmt.Sprintf("sandbox: injected fault %d (%s) hits this statement", in.id, f.Action))
	op.log.Info("fault fired", "fault_id", in.id, "action", f.Action, "statement", logStatement(op.stmt))
	if f.Action != FaultConcurrentWrite {
		if err := notify(ctx, f.Fired); err != nil {
			return err
		}
	}
	switch f.Action {
	case FaultFail:
		msg := f.Message
		if msg == "" {
			msg = "Error while processing statement: FAILED: Execution Error, return code 2 from org.apache.hadoop.hive.ql.exec.mr.MapRedTask (sandbox fault injection)"
		}
		return hiveql.Errorf("08S01", 2, "%s", msg)
	case FaultHang:
		<-ctx.Done()
		return ctx.Err()
	case FaultSlow:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	case FaultConcurrentWrite:
		w := f.Write
		path, err := s.wh.AppendFile(ctx, w.DB, w.Table, w.Partition, w.Rows)
		if err != nil {
			// A broken fault is the test author's problem, not the statement's: report it
			// loudly but let the statement go on.
			op.log.Error("concurrent write fault failed", "fault_id", in.id, "err", err)
			op.appendLog("sandbox: concurrent write failed: " + err.Error())
			return nil
		}
		op.appendLog("sandbox: concurrent writer added " + path)
		op.log.Info("concurrent writer added a file", "fault_id", in.id, "path", path)
		return notify(ctx, f.Fired)
	}
	return nil
}

// notify sends on a fault's Fired channel, giving up when the statement is cancelled.
func notify(ctx context.Context, ch chan<- struct{}) error {
	if ch == nil {
		return nil
	}
	select {
	case ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
