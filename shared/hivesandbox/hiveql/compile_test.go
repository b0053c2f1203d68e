package hiveql

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// trace records the events of one statement in the order they arrive.
type trace struct {
	events []string
	plans  []Plan
	logs   []string
}

func (tr *trace) hooks() Events {
	return Events{
		Compiled: func(ctx context.Context, p Plan) error {
			tr.events = append(tr.events, "compiled")
			tr.plans = append(tr.plans, p)
			return nil
		},
		Log: func(line string) {
			tr.events = append(tr.events, "log")
			tr.logs = append(tr.logs, line)
		},
		Progress:     func(done, total int) { tr.events = append(tr.events, "progress") },
		BeforeCommit: func(context.Context) error { tr.events = append(tr.events, "commit"); return nil },
	}
}

func TestCompiledEvent(t *testing.T) {
	w := newWarehouse(t)
	setup := w.NewSession("hive")
	run(t, setup, "CREATE TABLE t (a int, b string)", "INSERT INTO t VALUES (1, 'x')")
	tests := []struct {
		name string
		stmt string
		// compiled tells whether the statement gets past compiling; cols is then its schema.
		compiled bool
		cols     []Column
		// wantErr is a substring of the error; "" means success.
		wantErr string
	}{
		{name: "parse error", stmt: "SELEKT 1", wantErr: "ParseException"},
		{name: "missing table", stmt: "SELECT a FROM nope", wantErr: "Table not found 'nope'"},
		{name: "missing column", stmt: "SELECT zz FROM t", wantErr: "Invalid table alias"},
		{name: "insert arity", stmt: "INSERT OVERWRITE TABLE t SELECT 1", wantErr: "[Error 10044]"},
		{name: "values arity", stmt: "INSERT INTO t VALUES (1)", wantErr: "[Error 10044]"},
		{name: "drop a missing table", stmt: "DROP TABLE nope", wantErr: "Table not found nope"},
		{name: "use a missing database", stmt: "USE nope", wantErr: "Database does not exist: nope"},
		{name: "rename into a missing database", stmt: "ALTER TABLE t RENAME TO nope.t2", wantErr: "Database does not exist: nope"},
		{name: "concatenate a text table", stmt: "ALTER TABLE t CONCATENATE", wantErr: "[Error 30030]"},
		{name: "query", stmt: "SELECT count(*), sum(hash(*)) FROM t", compiled: true,
			cols: []Column{{Name: "_c0", Type: "BIGINT"}, {Name: "_c1", Type: "BIGINT"}}},
		{name: "constant query", stmt: "SELECT 1", compiled: true, cols: []Column{{Name: "_c0", Type: "INT"}}},
		{name: "insert", stmt: "INSERT OVERWRITE TABLE t SELECT a, b FROM t", compiled: true},
		{name: "insert values", stmt: "INSERT INTO t VALUES (2, 'y')", compiled: true},
		{name: "show", stmt: "SHOW TABLES", compiled: true, cols: []Column{{Name: "tab_name", Type: "STRING"}}},
		{name: "set prints", stmt: "SET hive.merge.mapfiles", compiled: true, cols: []Column{{Name: "set", Type: "STRING"}}},
		{name: "set assigns", stmt: "SET hive.merge.mapfiles=true", compiled: true},
		{name: "drop if exists", stmt: "DROP TABLE IF EXISTS nope", compiled: true},
		{name: "metastore refusal is an execution error", stmt: "CREATE DATABASE default",
			compiled: true, wantErr: "Execution Error, return code 1"},
		{name: "compaction on a non-ACID table is an execution error", stmt: "ALTER TABLE t COMPACT 'major'",
			compiled: true, wantErr: "Compaction is not allowed on non-ACID table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := w.NewSession("hive")
			var tr trace
			_, err := s.Execute(context.Background(), tt.stmt, tr.hooks())
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("%s: %v", tt.stmt, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("%s: error %v, want one containing %q", tt.stmt, err, tt.wantErr)
			}
			if !tt.compiled {
				if len(tr.plans) != 0 {
					t.Errorf("Compiled was called for a statement that fails to compile: %v", tr.events)
				}
				if err != nil && !strings.HasPrefix(err.Error(), compilePrefix) {
					t.Errorf("error before Compiled is %q, want a compile error", err)
				}
				return
			}
			if len(tr.plans) != 1 || tr.events[0] != "compiled" {
				t.Fatalf("events = %v, want Compiled once and first", tr.events)
			}
			p := tr.plans[0]
			if p.HasResultSet != (tt.cols != nil) || !slices.Equal(p.Columns, tt.cols) {
				t.Errorf("plan = %+v, want columns %v", p, tt.cols)
			}
			if !strings.HasPrefix(p.QueryID, "hive_") {
				t.Errorf("QueryID = %q, want hive_...", p.QueryID)
			}
			for _, l := range tr.logs {
				if id, ok := strings.CutPrefix(l, "Query ID = "); ok && id != p.QueryID {
					t.Errorf("log says Query ID = %s, plan says %s", id, p.QueryID)
				}
			}
		})
	}
}

func TestCompiledErrorAbortsStatement(t *testing.T) {
	w := newWarehouse(t)
	s := w.NewSession("hive")
	stop := errors.New("stopped at compile")
	ev := Events{Compiled: func(context.Context, Plan) error { return stop }}
	for _, stmt := range []string{"CREATE DATABASE never", "CREATE TABLE never (a int)", "SET never.set=1"} {
		if _, err := s.Execute(context.Background(), stmt, ev); !errors.Is(err, stop) {
			t.Errorf("%s: %v, want the Compiled error", stmt, err)
		}
	}
	res := run(t, s, "SHOW DATABASES")
	if got := render(res); !slices.Equal(got, []string{"default"}) {
		t.Errorf("databases = %q, want only default", got)
	}
	if got := render(run(t, s, "SHOW TABLES")); len(got) != 0 {
		t.Errorf("tables = %q, want none", got)
	}
	if got := render(run(t, s, "SET never.set")); !slices.Equal(got, []string{"never.set is undefined"}) {
		t.Errorf("SET never.set = %q", got)
	}
}

func TestStatementConf(t *testing.T) {
	w := newWarehouse(t)
	s := w.NewSession("hive")
	run(t, s, "SET hive.merge.mapfiles=true", "SET hivevar:who=session")
	tests := []struct {
		name string
		stmt string
		conf map[string]string
		want string
	}{
		{name: "bare key", stmt: "SET hive.merge.mapfiles", conf: map[string]string{"hive.merge.mapfiles": "false"}, want: "hive.merge.mapfiles=false"},
		{name: "hiveconf key", stmt: "SET hive.merge.mapfiles", conf: map[string]string{"set:hiveconf:hive.merge.mapfiles": "false"}, want: "hive.merge.mapfiles=false"},
		{name: "unset default", stmt: "SET sandbox.only", conf: map[string]string{"sandbox.only": "1"}, want: "sandbox.only=1"},
		{name: "variable", stmt: "SET hivevar:who", conf: map[string]string{"hivevar:who": "statement"}, want: "hivevar:who=statement"},
		{name: "substitution sees the overlay", stmt: "SHOW DATABASES LIKE '${hivevar:pattern}'", conf: map[string]string{"hivevar:pattern": "def*"}, want: "default"},
		{name: "substitution can be turned off", stmt: "SET x=${hivevar:who}", conf: map[string]string{"hive.variable.substitute": "false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.Run(context.Background(), Statement{SQL: tt.stmt, Conf: tt.conf})
			if err != nil {
				t.Fatal(err)
			}
			if got := render(res); tt.want != "" && !slices.Equal(got, []string{tt.want}) {
				t.Errorf("%s = %q, want %q", tt.stmt, got, tt.want)
			}
		})
	}
	// Nothing leaked into the session; the last statement's SET did reach it, unexpanded.
	for stmt, want := range map[string]string{
		"SET hive.merge.mapfiles": "hive.merge.mapfiles=true",
		"SET sandbox.only":        "sandbox.only is undefined",
		"SET hivevar:who":         "hivevar:who=session",
		"SET x":                   "x=${hivevar:who}",
	} {
		if got := render(run(t, s, stmt)); !slices.Equal(got, []string{want}) {
			t.Errorf("after the overlays, %s = %q, want %q", stmt, got, want)
		}
	}
}
