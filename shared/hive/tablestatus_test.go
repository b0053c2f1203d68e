package hive

import (
	"errors"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// SHOW TABLE EXTENDED LIKE 'x' with no table x returns no rows (Hive throws only when a
// PARTITION is given): that is "not found", not malformed output.
func TestTableStatusNoMatch(t *testing.T) {
	f := readFixture(t, "testdata/fixtures/show-table-extended-no-match.txt")
	if len(f.rows) != 0 {
		t.Fatalf("the fixture should have no rows: %q", f.rows)
	}
	st, err := ParseTableStatus(f.rows)
	if err != nil || len(st) != 0 {
		t.Fatalf("empty output: %v, %v; want no blocks and no error", st, err)
	}
	orders := hql.Table{Database: "sales", Name: "orders"}
	cases := []struct {
		name string
		rows string
	}{
		{"no rows", ""},
		{"only masked rows", qtestMask + "\n"},
		{"only an empty row", "\n"},
		{"another table only", "tableName:orders_old\ntotalNumberFiles:1\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tableStatusOf(orders, rowsOf(tc.rows))
			if !errors.Is(err, merge.ErrNotFound) {
				t.Fatalf("got %v, want merge.ErrNotFound", err)
			}
			var pe *ParseError
			if errors.As(err, &pe) {
				t.Errorf("a missing table is not a parse error: %v", err)
			}
			if !strings.Contains(err.Error(), "sales.orders") {
				t.Errorf("error %q does not name the table", err)
			}
		})
	}
	got, err := tableStatusOf(orders, rowsOf("tableName:orders_old\n\ntableName:ORDERS\ntotalNumberFiles:3\n"))
	if err != nil || got.TableName != "ORDERS" || *got.TotalNumberFiles != 3 {
		t.Errorf("got %+v, %v", got, err)
	}
}
