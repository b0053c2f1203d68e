package hiveql

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A backticked table name is joined to its database's directory to make the table's
// location, so a name holding a separator or made of dots would land in another database's
// directory, and DROP TABLE would delete that database's data while the catalog still lists
// its tables.
func TestPathNamesAreRefused(t *testing.T) {
	w := newWarehouse(t)
	s := w.NewSession("hive")
	run(t, s, "create database victim", "create table victim.t (a string)",
		"insert into victim.t values ('keep')", "create database z", "use z")
	victim := filepath.Join(w.Dir(), "warehouse", "victim.db")

	const (
		table = compilePrefix + "FAILED: SemanticException [Error 10255]: Invalid table name "
		db    = compilePrefix + "FAILED: SemanticException "
	)
	tests := []struct {
		stmt, want string
	}{
		{"create table `z/../../victim.db` (a string)", table + "z/../../victim.db"},
		{"drop table `z/../../victim.db`", table + "z/../../victim.db"},
		{"drop table if exists `z/../../victim.db` purge", table + "z/../../victim.db"},
		{"create table `..` (a string)", table + ".."},
		{"create table `.` (a string)", table + "."},
		{"create table `...` (a string)", table + "..."},
		{"create table `a/b` (a string)", table + "a/b"},
		{`create table ` + "`a\\b`" + ` (a string)`, table + `a\b`},
		{"create table `a\x00b` (a string)", table + "a\x00b"},
		{"create table `a\nb` (a string)", table + "a\nb"},
		{"create table `..`.t (a string)", table + "...t"},
		{"create table z.`..` (a string)", table + "z..."},
		{"create table ok like `../victim.db/t`", table + "../victim.db/t"},
		{"create table `../victim.db` like victim.t", table + "../victim.db"},
		{"alter table victim.t rename to `../t2`", table + "../t2"},
		{"alter table victim.t rename to `..`.t2", table + "...t2"},
		{"insert into table `../victim.db/t` values ('x')", table + "../victim.db/t"},
		{"insert overwrite table `..` select 'x'", table + ".."},
		{"select * from `../victim.db`", table + "../victim.db"},
		{"alter table `..` set location '" + victim + "'", table + ".."},
		{"use `..`", db + ".. is not a valid database name"},
		{"use `victim/..`", db + "victim/.. is not a valid database name"},
		{"create database `..`", db + ".. is not a valid database name"},
		{"create database `a/b`", db + "a/b is not a valid database name"},
		{"create database `.`", db + ". is not a valid database name"},
		{"drop database `..` cascade", db + ".. is not a valid database name"},
		{"show tables in `..`", db + ".. is not a valid database name"},
		{"describe database `../victim`", db + "../victim is not a valid database name"},
	}
	for _, tt := range tests {
		t.Run(tt.stmt, func(t *testing.T) {
			err := hiveErr(t, s, tt.stmt)
			if err.Message != tt.want {
				t.Errorf("%q:\n got %q\nwant %q", tt.stmt, err.Message, tt.want)
			}
			if err.SQLState != "42000" {
				t.Errorf("SQLState %q, want 42000", err.SQLState)
			}
		})
	}
	// Whatever was tried, the victim database keeps its directory and its rows.
	if got := render(run(t, s, "select a from victim.t")); strings.Join(got, ",") != "keep" {
		t.Errorf("victim.t holds %v, want keep", got)
	}
	if n := countFiles(t, victim); n != 1 {
		t.Errorf("victim.db holds %d files, want 1", n)
	}
	if got := render(run(t, s, "show tables in z")); len(got) != 0 {
		t.Errorf("z lists %v, want no table", got)
	}
}

// Names that are a single path element stay usable, dots and all.
func TestOddNamesStayUsable(t *testing.T) {
	w := newWarehouse(t)
	s := w.NewSession("hive")
	for _, name := range []string{"a.b", "..a", "a..", "_tmp", ".hidden", "a b", "a-b"} {
		q := "`" + name + "`"
		run(t, s, "create table "+q+" (a string)", "insert into "+q+" values ('x')")
		if got := render(run(t, s, "select a from "+q)); strings.Join(got, ",") != "x" {
			t.Errorf("%s holds %v", name, got)
		}
		if _, err := os.Stat(filepath.Join(w.Dir(), "warehouse", name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		run(t, s, "drop table "+q)
	}
}

// Partition columns and values reach directory names too, escaped as Hive's
// FileUtils.escapePathName does, so no column or value can climb out of its table.
func TestPartitionPathsStayInsideTheTable(t *testing.T) {
	w := newWarehouse(t)
	s := w.NewSession("hive")
	run(t, s, "create table victim (a string)", "insert into victim values ('keep')",
		"create table p (a string) partitioned by (`../..` string, `k/..` string)",
		"insert into p partition (`../..`='../../victim', `k/..`='..') values ('x')",
		"insert into p partition (`../..`='..', `k/..`='/') values ('y')",
		"set hive.exec.dynamic.partition.mode=nonstrict",
		"insert into p partition (`../..`, `k/..`) select 'z', '../..', '..\\\\..' from victim",
		"alter table p add partition (`../..`='a\\\\..', `k/..`='.')")
	table := filepath.Join(w.Dir(), "warehouse", "p")
	for _, row := range render(run(t, s, "show partitions p")) {
		dir := filepath.Join(table, row)
		if !within(dir, table) || strings.Count(row, "/") != 1 {
			t.Errorf("partition %q leaves the table directory", row)
		}
		for _, elem := range strings.Split(row, "/") {
			if elem == "." || elem == ".." {
				t.Errorf("partition %q has a %q element", row, elem)
			}
		}
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("partition %q: %v", row, err)
		}
	}
	run(t, s, "drop table p")
	if got := render(run(t, s, "select a from victim")); strings.Join(got, ",") != "keep" {
		t.Errorf("victim holds %v", got)
	}
	if _, err := os.Stat(table); !os.IsNotExist(err) {
		t.Errorf("drop left %s: %v", table, err)
	}
}

// A catalog edited by hand may hold a name the parser refuses; the sandbox refuses to act on
// such a table, as on one whose location it refuses, rather than deleting by that name.
func TestTamperedNameIsRefused(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	run(t, w.NewSession("hive"), "create database d", "create table d.p (a string)", "insert into d.p values ('x')")
	w.Close()
	tamper(t, dir, func(c *catalog) {
		p := c.Databases["d"].Tables["p"]
		delete(c.Databases["d"].Tables, "p")
		p.Name = "../p"
		c.Databases["d"].Tables[p.Name] = p
	})
	w, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	he := hiveErr(t, w.NewSession("hive"), "drop database d cascade")
	if want := "Table d.../p cannot be used: ../p is not a valid table name"; !strings.Contains(he.Message, want) {
		t.Errorf("got %q, want %q", he.Message, want)
	}
	if n := countFiles(t, filepath.Join(dir, "warehouse", "d.db")); n != 1 {
		t.Errorf("d.db holds %d files, want 1", n)
	}
}
