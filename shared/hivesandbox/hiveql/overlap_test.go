package hiveql

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// overlapWarehouse holds the tables the overlap tests aim at: t (managed, two rows), p
// (partitioned, one row in dt=1), database d with table d.u, and an external table e
// outside the warehouse directory, under ext/e.
func overlapWarehouse(t *testing.T) (*Warehouse, *Session) {
	t.Helper()
	w := newWarehouse(t)
	s := w.NewSession("hive")
	run(t, s, "create table t (a string)", "insert into t values ('1'), ('2')",
		"create table p (a string) partitioned by (dt string)",
		"insert into p partition (dt='1') values ('x')",
		"create database d", "create table d.u (a string)", "insert into d.u values ('u')",
		"create external table e (a string) location '"+filepath.Join(w.Dir(), "ext", "e")+"'",
		"insert into e values ('e')")
	return w, s
}

// checkOverlapVictims fails the test unless every table of overlapWarehouse still holds its
// rows.
func checkOverlapVictims(t *testing.T, s *Session) {
	t.Helper()
	for q, want := range map[string]string{
		"select count(*) from t": "2", "select count(*) from p": "1",
		"select count(*) from d.u": "1", "select count(*) from e": "1",
	} {
		if got := render(run(t, s, q)); strings.Join(got, ",") != want {
			t.Errorf("%s = %v, want %s", q, got, want)
		}
	}
}

// One table's DROP or INSERT OVERWRITE deletes the files at its location, so no location may
// be, contain, or lie inside another table's, nor hold a database directory other than its
// own database's.
func TestOverlappingLocationsAreRefused(t *testing.T) {
	tests := []struct {
		name string
		// stmts run in order; the last must fail with a refusal naming want.
		stmts func(wh string) []string
		want  string
	}{
		{name: "external table at another table's location", want: "it is the location of table default.t",
			stmts: func(wh string) []string {
				return []string{"create external table x (a string) location '" + wh + "/t'"}
			}},
		{name: "managed table at another table's location", want: "it is the location of table default.t",
			stmts: func(wh string) []string {
				return []string{"create table x (a string) location 'file://" + wh + "/t'"}
			}},
		{name: "table inside another table", want: "it lies inside the location of table default.t",
			stmts: func(wh string) []string {
				return []string{"create external table x (a string) location '" + wh + "/t/sub'"}
			}},
		{name: "table inside a partition", want: "it lies inside the location of table default.p",
			stmts: func(wh string) []string {
				return []string{"create external table x (a string) location '" + wh + "/p/dt=1/sub'"}
			}},
		{name: "table containing another table", want: "it contains the location of table default.e",
			stmts: func(wh string) []string {
				return []string{"create table x (a string) location '" + filepath.Dir(wh) + "/ext'"}
			}},
		{name: "table at a database directory", want: "it is or contains the directory of database d",
			stmts: func(wh string) []string {
				return []string{"create external table x (a string) location '" + wh + "/d.db'"}
			}},
		{name: "table at its own database's directory", want: "it is or contains the directory of database d",
			stmts: func(wh string) []string {
				return []string{"create table d.x (a string) location '" + wh + "/d.db'"}
			}},
		{name: "table inside another database", want: "it lies inside the directory of database d",
			stmts: func(wh string) []string {
				return []string{"create table x (a string) location '" + wh + "/d.db/x'"}
			}},
		{name: "table named like a database directory", want: "it is or contains the directory of database d",
			stmts: func(string) []string { return []string{"create table `d.db` (a string)"} }},
		{name: "database named like a table's directory", want: "it is the location of table default.n.db",
			stmts: func(string) []string { return []string{"create table `n.db` (a string)", "create database n"} }},
		{name: "database inside a table", want: "it lies inside the location of table default.t",
			stmts: func(wh string) []string { return []string{"create database n location '" + wh + "/t/n'"} }},
		{name: "database containing a table", want: "it contains the location of table default.e",
			stmts: func(wh string) []string {
				return []string{"create database n location '" + filepath.Dir(wh) + "/ext'"}
			}},
		{name: "database inside a database", want: "it lies inside the directory of database d",
			stmts: func(wh string) []string { return []string{"create database n location '" + wh + "/d.db/n'"} }},
		{name: "database containing a database", want: "it is or contains the directory of database n",
			stmts: func(wh string) []string {
				return []string{"create database n location '" + filepath.Dir(wh) + "/dbs/n'",
					"create database o location '" + filepath.Dir(wh) + "/dbs/n/..'"}
			}},
		{name: "create table like at another table's location", want: "it is the location of table default.t",
			stmts: func(wh string) []string {
				return []string{"create external table x like t location '" + wh + "/t'"}
			}},
		{name: "table set location to another table's", want: "it is the location of table d.u",
			stmts: func(wh string) []string { return []string{"alter table t set location '" + wh + "/d.db/u'"} }},
		{name: "table set location to an external table's visible directory", want: "it is the location of table default.e",
			stmts: func(wh string) []string {
				return []string{"alter table t set location '" + filepath.Dir(wh) + "/ext/e'"}
			}},
		{name: "table set location to another table's hidden guest", want: "it lies inside the location of table default.p",
			stmts: func(wh string) []string {
				return []string{"create external table x (a string) location '" + wh + "/p/.staging'",
					"alter table t set location '" + wh + "/p/.staging'"}
			}},
		{name: "table set location containing a database", want: "it is or contains the directory of database n",
			stmts: func(wh string) []string {
				return []string{"create database n location '" + filepath.Dir(wh) + "/dbs/n'",
					"alter table e set location '" + filepath.Dir(wh) + "/dbs'"}
			}},
		{name: "partition set location inside another table", want: "it lies inside the location of table default.t",
			stmts: func(wh string) []string {
				return []string{"alter table p partition (dt='1') set location '" + wh + "/t/dt=1'"}
			}},
		{name: "partition set location at another table's hidden directory", want: "it lies inside the location of table default.t",
			stmts: func(wh string) []string {
				return []string{"alter table p partition (dt='1') set location '" + wh + "/t/.staging'"}
			}},
		{name: "partition set location to its own table's", want: "it is or contains the location of its own table default.p",
			stmts: func(wh string) []string {
				return []string{"alter table p partition (dt='1') set location '" + wh + "/p'"}
			}},
		{name: "partition set location to a sibling partition's", want: "it is the location of partition dt=2 of its own table",
			stmts: func(wh string) []string {
				return []string{"alter table p add partition (dt='2') location '" + wh + "/p2'",
					"alter table p partition (dt='1') set location '" + wh + "/p2'"}
			}},
		{name: "add partition at another table's location", want: "it is the location of table default.t",
			stmts: func(wh string) []string {
				return []string{"alter table p add partition (dt='2') location '" + wh + "/t'"}
			}},
		{name: "add partition containing another table", want: "it contains the location of table default.e",
			stmts: func(wh string) []string {
				return []string{"alter table p add partition (dt='2') location '" + filepath.Dir(wh) + "/ext'"}
			}},
		{name: "add partition at another table's partition", want: "it is the location of partition dt=2 of table default.q",
			stmts: func(wh string) []string {
				return []string{"create table q (a string) partitioned by (dt string)",
					"alter table q add partition (dt='2') location '" + wh + "/q2'",
					"alter table p add partition (dt='2') location '" + wh + "/q2'"}
			}},
		{name: "managed table inside another table's hidden directory", want: "it lies inside the location of table default.t",
			stmts: func(wh string) []string {
				return []string{"create table x (a string) location '" + wh + "/t/.staging'"}
			}},
		{name: "second external table at a hidden directory already used", want: "it is the location of table default.x",
			stmts: func(wh string) []string {
				return []string{"create external table x (a string) location '" + wh + "/t/.staging'",
					"create external table y (a string) location '" + wh + "/t/.staging'"}
			}},
		{name: "external table containing a hidden guest", want: "it contains the location of table default.x",
			stmts: func(wh string) []string {
				return []string{"create external table x (a string) location '" + wh + "/t/.staging/x'",
					"create external table y (a string) location '" + wh + "/t/.staging'"}
			}},
		{name: "hidden guest made managed", want: "it lies inside the location of table default.t",
			stmts: func(wh string) []string {
				return []string{"create external table x (a string) location '" + wh + "/t/.staging'",
					"alter table x set tblproperties ('EXTERNAL'='FALSE')"}
			}},
		{name: "rename moving onto another table's location", want: "it is the location of table default.x",
			stmts: func(wh string) []string {
				return []string{"create external table x (a string) location '" + wh + "/n'", "alter table d.u rename to default.n"}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, s := overlapWarehouse(t)
			wh := filepath.Join(w.Dir(), "warehouse")
			stmts := tt.stmts(wh)
			run(t, s, stmts[:len(stmts)-1]...)
			last := stmts[len(stmts)-1]
			_, err := s.Execute(context.Background(), last, Events{})
			if err == nil {
				t.Fatalf("%s succeeded", last)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s:\n got %q\nwant it to contain %q", last, err, tt.want)
			}
			// Whatever a client tries next, the other tables keep their rows.
			for _, q := range []string{"insert overwrite table x select 'y'", "drop table x purge",
				"insert overwrite table p partition (dt='2') select 'y'", "alter table p drop partition (dt='2')",
				"drop table y purge", "drop database n cascade", "drop database o cascade"} {
				s.Execute(context.Background(), q, Events{})
			}
			checkOverlapVictims(t, s)
		})
	}
}

// The merge engine rewrites a partition through a temporary EXTERNAL table located in a new
// hidden directory inside the source table's directory, which the source's readers and its
// INSERT OVERWRITE skip; it then points the partition there and drops the temporary table,
// which leaves the files in place. The overlap rules must let that flow through.
func TestMergeStagingFlow(t *testing.T) {
	tests := []struct {
		name string
		// partCols declares the source's partition columns, spec names the partition merged.
		partCols, spec, where string
		// staging is the temporary table's location relative to the source table's.
		staging func(round int) string
	}{
		{name: "hidden merge directory", partCols: "dt string", spec: "dt='2024-01-01'", where: "dt='2024-01-01'",
			staging: func(r int) string { return ".hivemerge-" + string(rune('0'+r)) + "/dt=2024-01-01" }},
		{name: "hidden sibling of the partition", partCols: "dt string", spec: "dt='2024-01-01'", where: "dt='2024-01-01'",
			staging: func(r int) string { return ".dt=2024-01-01.merged-" + string(rune('0'+r)) }},
		{name: "hidden sibling of a second-level partition", partCols: "dt string, hr string",
			spec: "dt='2024-01-01', hr='00'", where: "dt='2024-01-01' and hr='00'",
			staging: func(r int) string { return "dt=2024-01-01/.hr=00.merged-" + string(rune('0'+r)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWarehouse(t)
			s := w.NewSession("hive")
			run(t, s, "create table other (a string)", "insert into other values ('o')",
				"create table src (a string) partitioned by ("+tt.partCols+")")
			for _, v := range []string{"a", "b", "c", "d"} {
				run(t, s, "insert into src partition ("+tt.spec+") values ('"+v+"')")
			}
			run(t, s, "insert into src partition ("+tt.spec+") values ('keep')")
			srcDir := filepath.Join(w.Dir(), "warehouse", "src")
			for round := 1; round <= 2; round++ {
				staging := filepath.Join(srcDir, tt.staging(round))
				tmp := "tmp_merge_" + string(rune('0'+round))
				run(t, s,
					"create external table "+tmp+" (a string) location '"+staging+"'",
					"insert overwrite table "+tmp+" select a from src where "+tt.where,
					"alter table src partition ("+tt.spec+") set location 'file://"+staging+"'",
					"drop table "+tmp)
				if n := countFiles(t, staging); n != 1 {
					t.Errorf("round %d: staging holds %d files after dropping %s, want the merged 1", round, n, tmp)
				}
				if got := render(run(t, s, "select count(*) from src where "+tt.where)); strings.Join(got, ",") != "5" {
					t.Errorf("round %d: count = %v, want 5", round, got)
				}
			}
			// The source's own writes still work on the moved partition.
			run(t, s, "insert overwrite table src partition ("+tt.spec+") select a from src where "+tt.where+" and a = 'keep'")
			if got := render(run(t, s, "select a from src")); strings.Join(got, ",") != "keep" {
				t.Errorf("after overwrite src holds %v, want keep", got)
			}
			if got := render(run(t, s, "select a from other")); strings.Join(got, ",") != "o" {
				t.Errorf("other holds %v", got)
			}
			run(t, s, "drop table src")
			if _, err := os.Stat(srcDir); !os.IsNotExist(err) {
				t.Errorf("drop left %s: %v", srcDir, err)
			}
		})
	}
}

// The temporary table may still exist when the partition moves to its location: dropping an
// external table never deletes files, so the partition keeps its rows.
func TestPartitionMayJoinItsExternalStagingTable(t *testing.T) {
	w := newWarehouse(t)
	s := w.NewSession("hive")
	staging := filepath.Join(w.Dir(), "warehouse", "src", ".hivemerge-1")
	run(t, s, "create table src (a string) partitioned by (dt string)",
		"insert into src partition (dt='1') values ('a')", "insert into src partition (dt='1') values ('b')",
		"create external table tmp (a string) partitioned by (dt string) location '"+staging+"'",
		"insert overwrite table tmp partition (dt='1') select a from src where dt='1'",
		"alter table src partition (dt='1') set location '"+staging+"/dt=1'")
	if got := render(run(t, s, "select count(*) from src")); strings.Join(got, ",") != "2" {
		t.Errorf("count = %v, want 2", got)
	}
	// While they share it, neither table may delete the other's files: the temporary table
	// cannot become managed, and neither overwrites the shared directory.
	for _, q := range []string{"alter table tmp set tblproperties ('EXTERNAL'='FALSE')",
		"insert overwrite table tmp partition (dt='1') select a from src",
		"insert overwrite table src partition (dt='1') select a from src",
		"alter table src drop partition (dt='1')"} {
		if _, err := s.Execute(context.Background(), q, Events{}); err == nil {
			t.Errorf("%s succeeded while both tables share the directory", q)
		}
	}
	run(t, s, "drop table tmp")
	if got := render(run(t, s, "select count(*) from src")); strings.Join(got, ",") != "2" {
		t.Errorf("after dropping tmp count = %v, want 2", got)
	}
	run(t, s, "insert overwrite table src partition (dt='1') select a from src where a = 'a'")
	if got := render(run(t, s, "select a from src")); strings.Join(got, ",") != "a" {
		t.Errorf("after the overwrite src holds %v, want a", got)
	}
}

// An unpartitioned table is merged the same way, its whole location moving to the staging
// directory: a hidden directory inside it or a hidden sibling in its database's directory.
func TestTableMergeStagingFlow(t *testing.T) {
	for _, staging := range []string{"d.db/src/.hivemerge-1", "d.db/.src.merged-1"} {
		t.Run(staging, func(t *testing.T) {
			w := newWarehouse(t)
			s := w.NewSession("hive")
			run(t, s, "create database d", "use d", "create table src (a string)")
			for _, v := range []string{"a", "b", "c"} {
				run(t, s, "insert into src values ('"+v+"')")
			}
			old := filepath.Join(w.Dir(), "warehouse", "d.db", "src")
			dir := filepath.Join(w.Dir(), "warehouse", staging)
			run(t, s, "create external table tmp (a string) location '"+dir+"'",
				"insert overwrite table tmp select a from src",
				"alter table src set location '"+dir+"'",
				"drop table tmp")
			if got := render(run(t, s, "select count(*) from src")); strings.Join(got, ",") != "3" {
				t.Errorf("count = %v, want 3", got)
			}
			if n := countFiles(t, dir); n != 1 {
				t.Errorf("staging holds %d files, want 1", n)
			}
			// Rolling back points the table at its old files again.
			run(t, s, "alter table src set location '"+old+"'")
			if got := render(run(t, s, "select count(*) from src")); strings.Join(got, ",") != "3" {
				t.Errorf("after rollback count = %v, want 3", got)
			}
		})
	}
}

// A catalog written before the rules on locations, or edited by hand, may hold overlapping
// locations: a DROP then refuses to delete a directory that holds another table's files.
func TestDropKeepsOtherTablesFiles(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *catalog, dir string)
		stmt string
		want string
	}{
		{name: "table holding an external table", stmt: "drop table t",
			edit: func(c *catalog, dir string) { c.Databases[defaultDB].Tables["t"].Location = filepath.Join(dir, "ext") },
			want: "refuses to delete " + "<dir>/ext: it holds the location of table default.e"},
		{name: "table at an external table's location", stmt: "drop table t purge",
			edit: func(c *catalog, dir string) {
				c.Databases[defaultDB].Tables["t"].Location = filepath.Join(dir, "ext", "e")
			},
			want: "refuses to delete <dir>/ext/e: it holds the location of table default.e"},
		{name: "partition holding an external table", stmt: "alter table p drop partition (dt='1')",
			edit: func(c *catalog, dir string) {
				c.Databases[defaultDB].Tables["p"].Partitions["dt=1"].Location = filepath.Join(dir, "ext")
			},
			want: "refuses to delete <dir>/ext: it holds the location of table default.e"},
		{name: "overwrite of a table holding an external table", stmt: "insert overwrite table t select a from e",
			edit: func(c *catalog, dir string) { c.Databases[defaultDB].Tables["t"].Location = filepath.Join(dir, "ext") },
			want: "MoveTask. MetaException(message:the sandbox refuses to delete <dir>/ext: it holds the location of table default.e"},
		{name: "overwrite of a partition at an external table's location", stmt: "insert overwrite table p partition (dt='1') select a from e",
			edit: func(c *catalog, dir string) {
				c.Databases[defaultDB].Tables["p"].Partitions["dt=1"].Location = filepath.Join(dir, "ext", "e")
			},
			want: "refuses to delete <dir>/ext/e: it holds the location of table default.e"},
		{name: "concatenate of a table holding an external table", stmt: "alter table o concatenate",
			edit: func(c *catalog, dir string) { c.Databases[defaultDB].Tables["o"].Location = filepath.Join(dir, "ext") },
			want: "refuses to delete <dir>/ext: it holds the location of table default.e"},
		{name: "database holding another database's table", stmt: "drop database d cascade",
			edit: func(c *catalog, dir string) {
				c.Databases[defaultDB].Tables["e"].Location = filepath.Join(dir, "warehouse", "d.db", "e")
			},
			want: "refuses to delete <dir>/warehouse/d.db: it holds the location of table default.e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			run(t, w.NewSession("hive"), "create table t (a string)", "insert into t values ('t')",
				"create table p (a string) partitioned by (dt string)", "insert into p partition (dt='1') values ('p')",
				"create database d", "create table d.u (a string)", "create table o (a string) stored as orc",
				"create external table e (a string) location '"+filepath.Join(dir, "ext", "e")+"'",
				"insert into e values ('e')")
			w.Close()
			if tt.name == "database holding another database's table" {
				if err := os.Rename(filepath.Join(dir, "ext", "e"), filepath.Join(dir, "warehouse", "d.db", "e")); err != nil {
					t.Fatal(err)
				}
			}
			tamper(t, dir, func(c *catalog) { tt.edit(c, dir) })
			w, err = Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			s := w.NewSession("hive")
			he := hiveErr(t, s, tt.stmt)
			if want := strings.ReplaceAll(tt.want, "<dir>", dir); !strings.Contains(he.Message, want) {
				t.Errorf("%s:\n got %q\nwant %q", tt.stmt, he.Message, want)
			}
			if got := render(run(t, s, "select a from e")); strings.Join(got, ",") != "e" {
				t.Errorf("e holds %v after the refusal", got)
			}
		})
	}
}

// A DROP PARTITION refused on one of its specs drops none of them.
func TestDropPartitionRefusalChangesNothing(t *testing.T) {
	w := newWarehouse(t)
	s := w.NewSession("hive")
	run(t, s, "create table p (a string) partitioned by (dt string)",
		"insert into p partition (dt='1') values ('x')", "insert into p partition (dt='2') values ('y')")
	hiveErr(t, s, "alter table p drop partition (dt='1'), partition (dt='3')")
	if got := render(run(t, s, "show partitions p")); strings.Join(got, ",") != "dt=1,dt=2" {
		t.Errorf("after the refusal p has partitions %v", got)
	}
	if got := render(run(t, s, "select count(*) from p")); strings.Join(got, ",") != "2" {
		t.Errorf("after the refusal count = %v, want 2", got)
	}
}

// The merge planner's layout: the staging table is a partitioned EXTERNAL table whose
// partitions are added at hidden directories beside the source partitions, wherever those
// lie: inside the source table, or beside a partition's custom location outside it.
func TestStagingPartitionsBesideTheirSource(t *testing.T) {
	w := newWarehouse(t)
	s := w.NewSession("hive")
	src := filepath.Join(w.Dir(), "warehouse", "src")
	custom := filepath.Join(w.Dir(), "warehouse", "custom", "src_0104")
	run(t, s, "create table src (a string) partitioned by (d string, h int)",
		"insert into src partition (d='1', h=0) values ('x'), ('y')",
		"alter table src add partition (d='2', h=0) location '"+custom+"'",
		"insert into src partition (d='2', h=0) values ('z')",
		"create external table stage (a string) partitioned by (d string, h int) location '"+filepath.Join(src, ".hivemerge-1")+"'")
	for _, c := range []struct{ spec, where, staging string }{
		{"d='1', h=0", "d='1' and h=0", filepath.Join(src, "d=1", ".hivemerge-1", "h=0")},
		{"d='2', h=0", "d='2' and h=0", filepath.Join(filepath.Dir(custom), ".hivemerge-1", "src_0104")},
	} {
		run(t, s, "alter table stage add partition ("+c.spec+") location '"+c.staging+"'",
			"insert overwrite table stage partition ("+c.spec+") select a from src where "+c.where,
			"alter table src partition ("+c.spec+") set location 'file://"+c.staging+"'")
	}
	run(t, s, "drop table stage")
	if got := render(run(t, s, "select count(*) from src")); strings.Join(got, ",") != "3" {
		t.Errorf("count = %v after the swaps, want 3", got)
	}
	// A managed table may not take the same place.
	if _, err := s.Execute(context.Background(), "create table intruder (a string) location '"+filepath.Join(src, "d=1", ".hivemerge-2")+"'", Events{}); err == nil {
		t.Error("a managed table was created inside src")
	}
}
