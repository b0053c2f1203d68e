package hiveql

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// insertOfSize is an INSERT ... VALUES statement of exactly n bytes.
func insertOfSize(n int) string {
	const head, tail = "insert into t values ('", "')"
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

func TestStatementSizeLimit(t *testing.T) {
	w := newWarehouse(t)
	s := w.NewSession("hive")
	run(t, s, "create table t (a string)")
	tooLong := func(n, limit int) string {
		return fmt.Sprintf(compilePrefix+"FAILED: the sandbox refuses a statement of %d bytes: its limit is %d bytes", n, limit)
	}

	limit := DefaultMaxStatementBytes
	run(t, s, insertOfSize(limit))
	if err := hiveErr(t, s, insertOfSize(limit+1)); err.Message != tooLong(limit+1, limit) || err.SQLState != "42000" {
		t.Errorf("one byte over: got %q (%s)", err.Message, err.SQLState)
	}

	// A variable that repeats itself doubles the statement at every substitution round.
	run(t, s, "set hive.variable.substitute.depth=20", "set hivevar:x=${x}${x}")
	if err := hiveErr(t, s, "insert into t values ('${x}')"); !strings.HasPrefix(err.Message, compilePrefix+"FAILED: the sandbox refuses a statement of ") {
		t.Errorf("substitution past the limit: got %q", err.Message)
	}

	w.SetMaxStatementBytes(100)
	run(t, s, insertOfSize(100))
	if err := hiveErr(t, s, insertOfSize(101)); err.Message != tooLong(101, 100) {
		t.Errorf("lowered limit: got %q", err.Message)
	}
	w.SetMaxStatementBytes(0)
	if got := w.MaxStatementBytes(); got != DefaultMaxStatementBytes {
		t.Errorf("SetMaxStatementBytes(0) left %d", got)
	}
	if got := render(run(t, s, "select count(*) from t")); strings.Join(got, ",") != "2" {
		t.Errorf("t holds %v rows, want the 2 accepted", got)
	}
}

// One substitution round may multiply a statement: a few bytes of references to a large
// variable. The expansion stops at the limit instead of building the whole text first.
func TestSubstitutionStopsAtTheLimit(t *testing.T) {
	w := newWarehouse(t)
	s := w.NewSession("hive")
	run(t, s, "set hivevar:v="+strings.Repeat("x", 512<<10))
	stmt := "select '" + strings.Repeat("${v}", 200) + "'"
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := hiveErr(t, s, stmt)
	runtime.ReadMemStats(&after)
	if !strings.HasPrefix(err.Message, compilePrefix+"FAILED: the sandbox refuses a statement of ") {
		t.Errorf("got %q", err.Message)
	}
	// 200 copies would be 100 MiB; stopping at the limit costs a few.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 32<<20 {
		t.Errorf("substitution allocated %d MiB before refusing", grew>>20)
	}
}
