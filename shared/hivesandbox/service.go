package hivesandbox

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/beltran/gohive/hiveserver"

	"github.com/hivemerge/hivemerge/shared/hivesandbox/hiveql"
)

// service implements HiveServer2's TCLIService over the sandbox engine.
type service struct {
	s *Server
}

var _ hiveserver.TCLIService = (*service)(nil)

func okStatus() *hiveserver.TStatus {
	return &hiveserver.TStatus{StatusCode: hiveserver.TStatusCode_SUCCESS_STATUS}
}

// errStatus is a failed call as HiveServer2 reports it; gohive turns it into a HiveError with
// the message and the code.
func errStatus(e *hiveql.Error) *hiveserver.TStatus {
	st := &hiveserver.TStatus{StatusCode: hiveserver.TStatusCode_ERROR_STATUS, ErrorMessage: &e.Message, ErrorCode: &e.Code}
	if e.SQLState != "" {
		st.SqlState = &e.SQLState
	}
	return st
}

// protocolError is an error of the service itself (bad handle, wrong state), which Hive raises
// as a HiveSQLException without SQLState.
func protocolError(format string, args ...any) *hiveserver.TStatus {
	return errStatus(hiveql.Errorf("", 0, format, args...))
}

// Bounds on what clients that never close their handles can pile up. HTTP sessions are not
// tied to a connection, so only CloseSession or these limits stop their growth.
const (
	maxSessions      = 4096
	maxOpsPerSession = 1024
)

// maxProtocol is the newest protocol version the sandbox speaks.
const maxProtocol = hiveserver.TProtocolVersion_HIVE_CLI_SERVICE_PROTOCOL_V10

type httpUserKey struct{}

// dropKey holds the function that drops the current client connection (fault injection).
type dropKey struct{}

var identifier = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

func (h *service) OpenSession(ctx context.Context, req *hiveserver.TOpenSessionReq) (*hiveserver.TOpenSessionResp, error) {
	s := h.s
	resp := &hiveserver.TOpenSessionResp{ServerProtocolVersion: min(req.ClientProtocol, maxProtocol)}
	conn, _ := ctx.Value(connKey{}).(*binaryConn)

	// The authenticated name wins over the one the client claims, as in HiveServer2.
	user := req.GetUsername()
	if conn != nil && conn.user != "" {
		user = conn.user
	} else if u, ok := ctx.Value(httpUserKey{}).(string); ok && u != "" {
		user = u
	}
	if user == "" {
		user = "anonymous"
	}

	key, id := newHandle()
	sess := &session{
		key:    key,
		handle: &hiveserver.TSessionHandle{SessionId: id},
		user:   user,
		hs:     s.wh.NewSession(user),
		owner:  conn,
		turn:   make(chan struct{}, 1),
		ops:    make(map[handleKey]*operation),
	}
	sess.log = s.log.With("session", key.String(), "user", user)

	// Hive's JDBC driver and gohive send "set:hiveconf:k", "set:hivevar:k" and "use:database";
	// bare keys are session properties too.
	var useDB string
	for _, k := range slices.Sorted(maps.Keys(req.Configuration)) {
		v := req.Configuration[k]
		switch {
		case k == "use:database":
			useDB = v
		case strings.HasPrefix(k, "set:hiveconf:"):
			sess.hs.Set(strings.TrimPrefix(k, "set:hiveconf:"), v)
		case strings.HasPrefix(k, "set:hivevar:"):
			sess.hs.Set("hivevar:"+strings.TrimPrefix(k, "set:hivevar:"), v)
		case strings.HasPrefix(k, "set:system:"):
			sess.log.Debug("ignoring system property", "key", k)
		default:
			sess.hs.Set(k, v)
		}
	}
	if useDB != "" && !strings.EqualFold(useDB, "default") {
		if !identifier.MatchString(useDB) {
			resp.Status = protocolError("Failed to open new session: invalid database name %q", useDB)
			return resp, nil
		}
		if _, err := sess.hs.Execute(ctx, "USE `"+useDB+"`", hiveql.Events{}); err != nil {
			e := hiveError(err)
			resp.Status = errStatus(hiveql.Errorf(e.SQLState, e.Code, "Failed to open new session: %s", e.Message))
			return resp, nil
		}
	}

	s.mu.Lock()
	if s.closed || len(s.sessions) >= maxSessions {
		s.mu.Unlock()
		resp.Status = protocolError("Failed to open new session: the sandbox is shutting down or has %d open sessions", maxSessions)
		return resp, nil
	}
	s.sessions[key] = sess
	s.mu.Unlock()
	if conn != nil {
		conn.mu.Lock()
		gone := conn.sessions == nil
		if !gone {
			conn.sessions[key] = sess
		}
		conn.mu.Unlock()
		if gone {
			s.closeSession(sess)
			return nil, thrift.ErrAbandonRequest
		}
	}
	sess.log.Info("session opened", "protocol", resp.ServerProtocolVersion.String(), "database", sess.hs.Database())
	resp.Status = okStatus()
	resp.SessionHandle = sess.handle
	resp.Configuration = map[string]string{}
	return resp, nil
}

func (s *Server) lookupSession(h *hiveserver.TSessionHandle) (*session, *hiveserver.TStatus) {
	var id *hiveserver.THandleIdentifier
	if h != nil {
		id = h.SessionId
	}
	key, ok := keyOf(id)
	if ok {
		s.mu.Lock()
		sess := s.sessions[key]
		s.mu.Unlock()
		if sess != nil {
			return sess, nil
		}
	}
	return nil, protocolError("Invalid SessionHandle: SessionHandle [%s]", key)
}

func (s *Server) lookupOperation(h *hiveserver.TOperationHandle) (*operation, *hiveserver.TStatus) {
	var id *hiveserver.THandleIdentifier
	typ := hiveserver.TOperationType_UNKNOWN
	if h != nil {
		id, typ = h.OperationId, h.OperationType
	}
	key, ok := keyOf(id)
	if ok {
		s.mu.Lock()
		op := s.ops[key]
		s.mu.Unlock()
		if op != nil {
			return op, nil
		}
	}
	return nil, protocolError("Invalid OperationHandle: OperationHandle [opType=%s, getHandleIdentifier()=%s]", typ, key)
}

// closeSession removes a session and stops its operations.
func (s *Server) closeSession(sess *session) {
	s.mu.Lock()
	delete(s.sessions, sess.key)
	sess.mu.Lock()
	for k := range sess.ops {
		delete(s.ops, k)
	}
	sess.mu.Unlock()
	s.mu.Unlock()
	if c := sess.owner; c != nil {
		c.mu.Lock()
		delete(c.sessions, sess.key)
		c.mu.Unlock()
	}
	sess.closeOps()
	sess.log.Info("session closed")
}

func (h *service) CloseSession(ctx context.Context, req *hiveserver.TCloseSessionReq) (*hiveserver.TCloseSessionResp, error) {
	sess, st := h.s.lookupSession(req.SessionHandle)
	if st != nil {
		return &hiveserver.TCloseSessionResp{Status: st}, nil
	}
	h.s.closeSession(sess)
	return &hiveserver.TCloseSessionResp{Status: okStatus()}, nil
}

func (h *service) GetInfo(ctx context.Context, req *hiveserver.TGetInfoReq) (*hiveserver.TGetInfoResp, error) {
	str := func(v string) *hiveserver.TGetInfoResp {
		return &hiveserver.TGetInfoResp{Status: okStatus(), InfoValue: &hiveserver.TGetInfoValue{StringValue: &v}}
	}
	length := func(v int64) *hiveserver.TGetInfoResp {
		return &hiveserver.TGetInfoResp{Status: okStatus(), InfoValue: &hiveserver.TGetInfoValue{LenValue: &v}}
	}
	if _, st := h.s.lookupSession(req.SessionHandle); st != nil {
		empty := ""
		return &hiveserver.TGetInfoResp{Status: st, InfoValue: &hiveserver.TGetInfoValue{StringValue: &empty}}, nil
	}
	switch req.InfoType {
	case hiveserver.TGetInfoType_CLI_SERVER_NAME, hiveserver.TGetInfoType_CLI_DBMS_NAME:
		return str(ServerName), nil
	case hiveserver.TGetInfoType_CLI_DBMS_VER:
		return str(ServerVersion), nil
	case hiveserver.TGetInfoType_CLI_MAX_COLUMN_NAME_LEN, hiveserver.TGetInfoType_CLI_MAX_SCHEMA_NAME_LEN,
		hiveserver.TGetInfoType_CLI_MAX_TABLE_NAME_LEN:
		return length(128), nil
	case hiveserver.TGetInfoType_CLI_TXN_CAPABLE:
		return length(0), nil
	case hiveserver.TGetInfoType_CLI_ODBC_KEYWORDS:
		return str(""), nil
	}
	empty := ""
	return &hiveserver.TGetInfoResp{
		Status:    protocolError("Unrecognized GetInfoType value: %s", req.InfoType),
		InfoValue: &hiveserver.TGetInfoValue{StringValue: &empty},
	}, nil
}

func (h *service) ExecuteStatement(ctx context.Context, req *hiveserver.TExecuteStatementReq) (*hiveserver.TExecuteStatementResp, error) {
	s := h.s
	sess, st := s.lookupSession(req.SessionHandle)
	if st != nil {
		return &hiveserver.TExecuteStatementResp{Status: st}, nil
	}
	stmt := req.Statement
	fault := s.fault.match(stmt)
	if fault != nil && fault.fault.Action == FaultDropConnection {
		if s.fault.use(fault) {
			sess.log.Info("fault fired: dropping the connection", "fault_id", fault.id, "statement", logStatement(stmt))
			if drop, ok := ctx.Value(dropKey{}).(func()); ok {
				drop()
			}
			notify(s.ctx, fault.fault.Fired)
			return nil, thrift.ErrAbandonRequest
		}
		fault = nil
	}
	// confOverlay holds for this statement only, as in HiveServer2.
	overlay := maps.Clone(req.ConfOverlay)
	timeout := time.Duration(req.QueryTimeout) * time.Second
	op, err := s.startOperation(sess, hiveserver.TOperationType_EXECUTE_STATEMENT, stmt, false, timeout,
		func(ctx context.Context, ev hiveql.Events) (res *hiveql.Result, err error) {
			// An engine bug must fail one statement, not take down every client's server.
			defer func() {
				if r := recover(); r != nil {
					sess.log.Error("statement panicked", "statement", logStatement(stmt), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
					res, err = nil, hiveql.Errorf("08S01", 1, "Error while processing statement: FAILED: Execution Error, the sandbox failed internally: %v", r)
				}
			}()
			return sess.hs.Run(ctx, hiveql.Statement{SQL: stmt, Conf: overlay, Events: ev})
		}, fault)
	if err != nil {
		return &hiveserver.TExecuteStatementResp{Status: errStatus(hiveError(err))}, nil
	}

	// HiveServer2 compiles an asynchronous statement before it answers, so compile errors
	// come back here and the handle knows whether there will be rows; a synchronous one
	// runs to its end.
	ready := op.compiled
	if !req.RunAsync {
		ready = op.done
	}
	select {
	case <-ready:
	case <-ctx.Done():
		return nil, thrift.ErrAbandonRequest
	}
	st = s.answer(op, !req.RunAsync)
	if st.StatusCode != hiveserver.TStatusCode_SUCCESS_STATUS {
		return &hiveserver.TExecuteStatementResp{Status: st}, nil
	}
	return &hiveserver.TExecuteStatementResp{Status: st, OperationHandle: op.handle}, nil
}

// answer is the status of an operation that has compiled or ended, and completes its
// handle. A failure is reported right away, and its handle closed, when the caller waited for
// the end (sync) or when the statement failed to compile; otherwise it is left to
// GetOperationStatus.
func (s *Server) answer(op *operation, sync bool) *hiveserver.TStatus {
	op.mu.Lock()
	state, e, has, planned := op.state, op.err, op.hasResult, op.planned
	op.mu.Unlock()
	op.handle.HasResultSet = has
	select {
	case <-op.done:
	default:
		return okStatus()
	}
	if planned && !sync {
		return okStatus()
	}
	switch state {
	case hiveserver.TOperationState_FINISHED_STATE:
		return okStatus()
	case hiveserver.TOperationState_ERROR_STATE, hiveserver.TOperationState_TIMEDOUT_STATE:
	default:
		e = hiveql.Errorf("", 0, "The operation was %s", strings.ToLower(strings.TrimSuffix(state.String(), "_STATE")))
	}
	s.forget(op)
	return errStatus(e)
}

// startOperation registers an operation of sess and starts it.
func (s *Server) startOperation(sess *session, typ hiveserver.TOperationType, stmt string, hasResult bool, timeout time.Duration, fn runFunc, fault *injected) (*operation, error) {
	key, id := newHandle()
	op := &operation{
		key:       key,
		handle:    &hiveserver.TOperationHandle{OperationId: id, OperationType: typ, HasResultSet: hasResult},
		sess:      sess,
		stmt:      stmt,
		log:       sess.log.With("operation", key.String()),
		compiled:  make(chan struct{}),
		done:      make(chan struct{}),
		state:     hiveserver.TOperationState_INITIALIZED_STATE,
		hasResult: hasResult,
		timeout:   timeout,
	}
	ctx, cancel := context.WithCancel(s.ctx)
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(s.ctx, timeout)
	}
	op.cancel = cancel

	s.mu.Lock()
	defer s.mu.Unlock()
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if s.closed || sess.closed {
		cancel()
		return nil, errors.New("the session is closed")
	}
	if len(sess.ops) >= maxOpsPerSession {
		cancel()
		return nil, fmt.Errorf("the session has %d open operations; close some (CloseOperation)", maxOpsPerSession)
	}
	sess.ops[key] = op
	s.ops[key] = op
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		op.run(ctx, fn, fault, s)
	}()
	return op, nil
}

// forget removes a finished operation from the handle tables.
func (s *Server) forget(op *operation) {
	s.mu.Lock()
	delete(s.ops, op.key)
	s.mu.Unlock()
	op.sess.mu.Lock()
	delete(op.sess.ops, op.key)
	op.sess.mu.Unlock()
}

func (h *service) GetOperationStatus(ctx context.Context, req *hiveserver.TGetOperationStatusReq) (*hiveserver.TGetOperationStatusResp, error) {
	op, st := h.s.lookupOperation(req.OperationHandle)
	if st != nil {
		unknown := hiveserver.TOperationState_UKNOWN_STATE
		return &hiveserver.TGetOperationStatusResp{Status: st, OperationState: &unknown}, nil
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	state := op.state
	resp := &hiveserver.TGetOperationStatusResp{Status: okStatus(), OperationState: &state}
	if op.err != nil {
		e := *op.err
		resp.ErrorMessage, resp.ErrorCode = &e.Message, &e.Code
		if e.SQLState != "" {
			resp.SqlState = &e.SQLState
		}
	}
	if !op.startTime.IsZero() {
		ms := op.startTime.UnixMilli()
		resp.OperationStarted = &ms
	}
	if !op.endTime.IsZero() {
		ms := op.endTime.UnixMilli()
		resp.OperationCompleted = &ms
	}
	if terminal(state) {
		has := op.hasResult
		resp.HasResultSet = &has
	}
	if req.GetProgressUpdate != nil && *req.GetProgressUpdate {
		resp.ProgressUpdateResponse = op.progressLocked(state)
	}
	return resp, nil
}

// progressLocked renders progress the way Hive on Tez does: one row per vertex (the sandbox
// has one), and the completed fraction in ProgressedPercentage (0 to 1, as in Hive).
func (op *operation) progressLocked(state hiveserver.TOperationState) *hiveserver.TProgressUpdateResp {
	done, total := op.progressDone, op.progressTotal
	frac := 0.0
	if total > 0 {
		frac = min(float64(done)/float64(total), 1)
	}
	status, vertex := hiveserver.TJobExecutionStatus_IN_PROGRESS, "RUNNING"
	switch state {
	case hiveserver.TOperationState_FINISHED_STATE:
		frac, status, vertex = 1, hiveserver.TJobExecutionStatus_COMPLETE, "SUCCEEDED"
		if total == 0 {
			done, total = 1, 1
		}
	case hiveserver.TOperationState_INITIALIZED_STATE, hiveserver.TOperationState_PENDING_STATE:
		vertex = "INITED"
	default:
		if terminal(state) {
			status, vertex = hiveserver.TJobExecutionStatus_COMPLETE, "KILLED"
		}
	}
	var start int64
	elapsed := time.Duration(0)
	if !op.startTime.IsZero() {
		start = op.startTime.UnixMilli()
		end := op.endTime
		if end.IsZero() {
			end = time.Now()
		}
		elapsed = end.Sub(op.startTime)
	}
	running := 0
	if status == hiveserver.TJobExecutionStatus_IN_PROGRESS && total > done {
		running = 1
	}
	return &hiveserver.TProgressUpdateResp{
		HeaderNames: []string{"VERTICES", "MODE", "STATUS", "TOTAL", "COMPLETED", "RUNNING", "PENDING", "FAILED", "KILLED"},
		Rows: [][]string{{"Stage-1 (sandbox)", "local", vertex, fmt.Sprint(total), fmt.Sprint(done),
			fmt.Sprint(running), fmt.Sprint(max(total-done-running, 0)), "0", "0"}},
		ProgressedPercentage: frac,
		Status:               status,
		FooterSummary:        fmt.Sprintf("VERTICES: 01/01  %3.0f%%  ELAPSED TIME: %.2f s", 100*frac, elapsed.Seconds()),
		StartTime:            start,
	}
}

func (h *service) CancelOperation(ctx context.Context, req *hiveserver.TCancelOperationReq) (*hiveserver.TCancelOperationResp, error) {
	op, st := h.s.lookupOperation(req.OperationHandle)
	if st != nil {
		return &hiveserver.TCancelOperationResp{Status: st}, nil
	}
	op.stop(hiveserver.TOperationState_CANCELED_STATE)
	// Wait until the statement has really stopped, so that a client that sees the cancel
	// acknowledged can trust that no more output will appear.
	select {
	case <-op.done:
	case <-ctx.Done():
	}
	op.log.Info("operation cancelled", "statement", logStatement(op.stmt))
	return &hiveserver.TCancelOperationResp{Status: okStatus()}, nil
}

func (h *service) CloseOperation(ctx context.Context, req *hiveserver.TCloseOperationReq) (*hiveserver.TCloseOperationResp, error) {
	op, st := h.s.lookupOperation(req.OperationHandle)
	if st != nil {
		return &hiveserver.TCloseOperationResp{Status: st}, nil
	}
	h.s.forget(op)
	op.stop(hiveserver.TOperationState_CLOSED_STATE)
	select {
	case <-op.done:
	case <-ctx.Done():
	}
	return &hiveserver.TCloseOperationResp{Status: okStatus()}, nil
}

func (h *service) GetResultSetMetadata(ctx context.Context, req *hiveserver.TGetResultSetMetadataReq) (*hiveserver.TGetResultSetMetadataResp, error) {
	op, st := h.s.lookupOperation(req.OperationHandle)
	if st != nil {
		return &hiveserver.TGetResultSetMetadataResp{Status: st}, nil
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.state != hiveserver.TOperationState_FINISHED_STATE {
		return &hiveserver.TGetResultSetMetadataResp{Status: wrongState(op.state)}, nil
	}
	return &hiveserver.TGetResultSetMetadataResp{Status: okStatus(), Schema: schemaOf(op.result)}, nil
}

// wrongState is Hive 3's answer to fetching from an operation that has not finished.
func wrongState(st hiveserver.TOperationState) *hiveserver.TStatus {
	return protocolError("Expected states: [FINISHED], but found %s", strings.TrimSuffix(st.String(), "_STATE"))
}

// fetchLimit caps one FetchResults batch so that a reply stays well below the 16 MB frames
// gohive accepts.
const fetchLimit = 10000

func (h *service) FetchResults(ctx context.Context, req *hiveserver.TFetchResultsReq) (*hiveserver.TFetchResultsResp, error) {
	op, st := h.s.lookupOperation(req.OperationHandle)
	if st != nil {
		return &hiveserver.TFetchResultsResp{Status: st}, nil
	}
	limit := int(req.MaxRows)
	if limit <= 0 || limit > fetchLimit {
		limit = fetchLimit
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	first := req.Orientation == hiveserver.TFetchOrientation_FETCH_FIRST
	if req.FetchType == 1 {
		// The log orientation: lines not fetched yet (all of them on FETCH_FIRST).
		if first {
			op.logsSent = 0
		}
		end := min(op.logsSent+limit, len(op.logs))
		lines := slices.Clone(op.logs[op.logsSent:end])
		op.logsSent = end
		more := end < len(op.logs)
		return &hiveserver.TFetchResultsResp{Status: okStatus(), HasMoreRows: &more, Results: stringColumn(lines)}, nil
	}
	if op.state != hiveserver.TOperationState_FINISHED_STATE {
		return &hiveserver.TFetchResultsResp{Status: wrongState(op.state)}, nil
	}
	if first {
		op.rowsSent = 0
	}
	total := rowCount(op.result)
	end := min(op.rowsSent+limit, total)
	rs, err := rowSet(op.result, op.rowsSent, end)
	if err != nil {
		op.log.Error("cannot encode the engine's result", "statement", logStatement(op.stmt), "err", err)
		return &hiveserver.TFetchResultsResp{Status: errStatus(hiveError(err))}, nil
	}
	op.rowsSent = end
	more := end < total
	return &hiveserver.TFetchResultsResp{Status: okStatus(), HasMoreRows: &more, Results: rs}, nil
}
