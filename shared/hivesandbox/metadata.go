package hivesandbox

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/beltran/gohive/hiveserver"

	"github.com/hivemerge/hivemerge/shared/hivesandbox/hiveql"
)

// The metadata calls of TCLIService are operations with result sets, like statements. The
// sandbox answers the ones a JDBC-style client needs to browse (catalogs, schemas, tables,
// table types) from SHOW statements, and refuses the rest clearly.

// metadataOp runs fn as an operation of the session and waits for it, as HiveServer2 does
// for metadata operations.
func (s *Server) metadataOp(ctx context.Context, h *hiveserver.TSessionHandle, typ hiveserver.TOperationType, name string, fn runFunc) (*hiveserver.TStatus, *hiveserver.TOperationHandle) {
	sess, st := s.lookupSession(h)
	if st != nil {
		return st, nil
	}
	op, err := s.startOperation(sess, typ, name, true, 0, fn, nil)
	if err != nil {
		return errStatus(hiveError(err)), nil
	}
	select {
	case <-op.done:
	case <-ctx.Done():
	}
	if st := s.answer(op, true); st.StatusCode != hiveserver.TStatusCode_SUCCESS_STATUS {
		return st, nil
	}
	return okStatus(), op.handle
}

func notSupported(call string) *hiveserver.TStatus {
	return protocolError("%s is not supported by the hivemerge sandbox", call)
}

func stringColumns(names ...string) []hiveql.Column {
	cols := make([]hiveql.Column, len(names))
	for i, n := range names {
		cols[i] = hiveql.Column{Name: n, Type: "STRING"}
	}
	return cols
}

// likePattern compiles a JDBC search pattern (% and _ wildcards, \ escapes) into a
// case-insensitive regexp; empty or nil matches everything, and so does "*", which Hive
// accepts too.
func likePattern(p *string) *regexp.Regexp {
	if p == nil || *p == "" || *p == "*" {
		return regexp.MustCompile(`.*`)
	}
	var b strings.Builder
	b.WriteString("(?i)^")
	esc := false
	for _, r := range *p {
		switch {
		case esc:
			b.WriteString(regexp.QuoteMeta(string(r)))
			esc = false
		case r == '\\':
			esc = true
		case r == '%':
			b.WriteString(".*")
		case r == '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// firstColumn runs a SHOW statement and returns its first column.
func firstColumn(ctx context.Context, hs *hiveql.Session, stmt string) ([]string, error) {
	res, err := hs.Execute(ctx, stmt, hiveql.Events{})
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, nil
	}
	out := make([]string, 0, len(res.Rows))
	for _, row := range res.Rows {
		if len(row) > 0 {
			out = append(out, fmt.Sprint(row[0]))
		}
	}
	return out, nil
}

func (s *Server) databases(ctx context.Context, hs *hiveql.Session, pattern *string) ([]string, error) {
	dbs, err := firstColumn(ctx, hs, "SHOW DATABASES")
	if err != nil {
		return nil, err
	}
	re := likePattern(pattern)
	var out []string
	for _, db := range dbs {
		if re.MatchString(db) {
			out = append(out, db)
		}
	}
	return out, nil
}

func (h *service) GetCatalogs(ctx context.Context, req *hiveserver.TGetCatalogsReq) (*hiveserver.TGetCatalogsResp, error) {
	st, op := h.s.metadataOp(ctx, req.SessionHandle, hiveserver.TOperationType_GET_CATALOGS, "GetCatalogs",
		func(ctx context.Context, ev hiveql.Events) (*hiveql.Result, error) {
			// Hive has no catalogs: an empty result with the JDBC column.
			return &hiveql.Result{Columns: stringColumns("TABLE_CAT")}, nil
		})
	return &hiveserver.TGetCatalogsResp{Status: st, OperationHandle: op}, nil
}

func (h *service) GetSchemas(ctx context.Context, req *hiveserver.TGetSchemasReq) (*hiveserver.TGetSchemasResp, error) {
	sess, st := h.s.lookupSession(req.SessionHandle)
	if st != nil {
		return &hiveserver.TGetSchemasResp{Status: st}, nil
	}
	pattern := (*string)(req.SchemaName)
	st, op := h.s.metadataOp(ctx, req.SessionHandle, hiveserver.TOperationType_GET_SCHEMAS, "GetSchemas",
		func(ctx context.Context, ev hiveql.Events) (*hiveql.Result, error) {
			dbs, err := h.s.databases(ctx, sess.hs, pattern)
			if err != nil {
				return nil, err
			}
			res := &hiveql.Result{Columns: stringColumns("TABLE_SCHEM", "TABLE_CATALOG")}
			for _, db := range dbs {
				res.Rows = append(res.Rows, []any{db, ""})
			}
			return res, nil
		})
	return &hiveserver.TGetSchemasResp{Status: st, OperationHandle: op}, nil
}

func (h *service) GetTables(ctx context.Context, req *hiveserver.TGetTablesReq) (*hiveserver.TGetTablesResp, error) {
	sess, st := h.s.lookupSession(req.SessionHandle)
	if st != nil {
		return &hiveserver.TGetTablesResp{Status: st}, nil
	}
	schemas, tables := (*string)(req.SchemaName), likePattern((*string)(req.TableName))
	wantType := func(string) bool { return true }
	if len(req.TableTypes) > 0 {
		wantType = func(t string) bool {
			for _, w := range req.TableTypes {
				if strings.EqualFold(w, t) {
					return true
				}
			}
			return false
		}
	}
	st, op := h.s.metadataOp(ctx, req.SessionHandle, hiveserver.TOperationType_GET_TABLES, "GetTables",
		func(ctx context.Context, ev hiveql.Events) (*hiveql.Result, error) {
			res := &hiveql.Result{Columns: stringColumns("TABLE_CAT", "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE", "REMARKS",
				"TYPE_CAT", "TYPE_SCHEM", "TYPE_NAME", "SELF_REFERENCING_COL_NAME", "REF_GENERATION")}
			// Hive's default table type mapping (CLASSIC) reports managed and external tables
			// alike as TABLE; the sandbox has no views.
			if !wantType("TABLE") {
				return res, nil
			}
			dbs, err := h.s.databases(ctx, sess.hs, schemas)
			if err != nil {
				return nil, err
			}
			for _, db := range dbs {
				if !identifier.MatchString(db) {
					continue
				}
				names, err := firstColumn(ctx, sess.hs, "SHOW TABLES IN `"+db+"`")
				if err != nil {
					return nil, err
				}
				for _, t := range names {
					if tables.MatchString(t) {
						res.Rows = append(res.Rows, []any{"", db, t, "TABLE", "", nil, nil, nil, nil, nil})
					}
				}
			}
			return res, nil
		})
	return &hiveserver.TGetTablesResp{Status: st, OperationHandle: op}, nil
}

func (h *service) GetTableTypes(ctx context.Context, req *hiveserver.TGetTableTypesReq) (*hiveserver.TGetTableTypesResp, error) {
	st, op := h.s.metadataOp(ctx, req.SessionHandle, hiveserver.TOperationType_GET_TABLE_TYPES, "GetTableTypes",
		func(ctx context.Context, ev hiveql.Events) (*hiveql.Result, error) {
			return &hiveql.Result{Columns: stringColumns("TABLE_TYPE"), Rows: [][]any{{"TABLE"}, {"VIEW"}}}, nil
		})
	return &hiveserver.TGetTableTypesResp{Status: st, OperationHandle: op}, nil
}

func (h *service) GetTypeInfo(ctx context.Context, req *hiveserver.TGetTypeInfoReq) (*hiveserver.TGetTypeInfoResp, error) {
	return &hiveserver.TGetTypeInfoResp{Status: notSupported("GetTypeInfo")}, nil
}

func (h *service) GetColumns(ctx context.Context, req *hiveserver.TGetColumnsReq) (*hiveserver.TGetColumnsResp, error) {
	return &hiveserver.TGetColumnsResp{Status: notSupported("GetColumns (use DESCRIBE FORMATTED)")}, nil
}

func (h *service) GetFunctions(ctx context.Context, req *hiveserver.TGetFunctionsReq) (*hiveserver.TGetFunctionsResp, error) {
	return &hiveserver.TGetFunctionsResp{Status: notSupported("GetFunctions")}, nil
}

func (h *service) GetPrimaryKeys(ctx context.Context, req *hiveserver.TGetPrimaryKeysReq) (*hiveserver.TGetPrimaryKeysResp, error) {
	return &hiveserver.TGetPrimaryKeysResp{Status: notSupported("GetPrimaryKeys")}, nil
}

func (h *service) GetCrossReference(ctx context.Context, req *hiveserver.TGetCrossReferenceReq) (*hiveserver.TGetCrossReferenceResp, error) {
	return &hiveserver.TGetCrossReferenceResp{Status: notSupported("GetCrossReference")}, nil
}

func (h *service) GetDelegationToken(ctx context.Context, req *hiveserver.TGetDelegationTokenReq) (*hiveserver.TGetDelegationTokenResp, error) {
	return &hiveserver.TGetDelegationTokenResp{Status: notSupported("GetDelegationToken (no Kerberos)")}, nil
}

func (h *service) CancelDelegationToken(ctx context.Context, req *hiveserver.TCancelDelegationTokenReq) (*hiveserver.TCancelDelegationTokenResp, error) {
	return &hiveserver.TCancelDelegationTokenResp{Status: notSupported("CancelDelegationToken (no Kerberos)")}, nil
}

func (h *service) RenewDelegationToken(ctx context.Context, req *hiveserver.TRenewDelegationTokenReq) (*hiveserver.TRenewDelegationTokenResp, error) {
	return &hiveserver.TRenewDelegationTokenResp{Status: notSupported("RenewDelegationToken (no Kerberos)")}, nil
}

func (h *service) GetQueryId(ctx context.Context, req *hiveserver.TGetQueryIdReq) (*hiveserver.TGetQueryIdResp, error) {
	op, st := h.s.lookupOperation(req.OperationHandle)
	if st != nil {
		// TGetQueryIdResp has no status field: Hive raises the error as an exception too.
		return nil, fmt.Errorf("%s", st.GetErrorMessage())
	}
	op.mu.Lock()
	id := op.queryID
	op.mu.Unlock()
	if id == "" {
		// Metadata operations never reach the engine's compiler.
		id = "sandbox_" + strings.ReplaceAll(op.key.String(), "-", "")
	}
	return &hiveserver.TGetQueryIdResp{QueryId: id}, nil
}

func (h *service) SetClientInfo(ctx context.Context, req *hiveserver.TSetClientInfoReq) (*hiveserver.TSetClientInfoResp, error) {
	if _, st := h.s.lookupSession(req.SessionHandle); st != nil {
		return &hiveserver.TSetClientInfoResp{Status: st}, nil
	}
	return &hiveserver.TSetClientInfoResp{Status: okStatus()}, nil
}
