package hiveql

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// count returns COUNT(*) and SUM(HASH(*)) of a table, the validation pair the engines use.
func countAndChecksum(t testing.TB, s *Session, table string) (int64, any) {
	t.Helper()
	res := run(t, s, "select count(*), sum(hash(*)) from "+table)
	return res.Rows[0][0].(int64), res.Rows[0][1]
}

// tableFiles counts the visible files of a table directory or partition.
func locationOf(t testing.TB, w *Warehouse, db, table, part string) string {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	tb, ok := w.lookupTable(db, table)
	if !ok {
		t.Fatalf("no table %s.%s", db, table)
	}
	if part == "" {
		return tb.Location
	}
	p, ok := tb.Partitions[part]
	if !ok {
		t.Fatalf("no partition %s of %s.%s", part, db, table)
	}
	return p.Location
}

func TestConcatenateRefusals(t *testing.T) {
	_, mm := fixture(t, "concatenate-error-insert-only-mm.txt")
	_, noSpec := fixture(t, "concatenate-error-partitioned-no-spec.txt")
	tests := []struct {
		name   string
		create string
		stmt   string
		code   int32
		msg    string // the message after "Error while compiling statement: "
	}{
		{"textfile", "create table t (a int)", "alter table t concatenate", 30030,
			"FAILED: SemanticException [Error 30030]: Concatenate/Merge only supported for RCFile and ORCFile formats"},
		{"parquet", "create table t (a int) stored as parquet", "alter table t concatenate", 30030,
			"FAILED: SemanticException [Error 30030]: Concatenate/Merge only supported for RCFile and ORCFile formats"},
		{"external", "create external table t (a int) stored as orc", "alter table t concatenate", 30034,
			"FAILED: SemanticException [Error 30034]: Concatenate/Merge can only be performed on managed tables"},
		{"bucketed", "create table t (a int) clustered by (a) into 4 buckets stored as rcfile", "alter table t concatenate", 30031,
			"FAILED: SemanticException [Error 30031]: Concatenate/Merge can not be performed on bucketed tables"},
		{"transactional", "create table t (a int) stored as orc tblproperties ('transactional'='true')", "alter table t concatenate", 30035,
			"FAILED: SemanticException [Error 30035]: Concatenate/Merge can not be performed on transactional tables"},
		{"insert-only", "create table concat_mm (a int) stored as orc tblproperties ('transactional'='true', 'transactional_properties'='insert_only')", "alter table concat_mm concatenate", 40000, mm[0]},
		{"partitioned without spec", "create table srcpart2 (key int) partitioned by (ds string) stored as rcfile", "alter table srcpart2 concatenate", 40000, noSpec[0]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newWarehouse(t).NewSession("hive")
			run(t, s, tc.create)
			err := hiveErr(t, s, tc.stmt)
			if err.Code != tc.code || err.SQLState != "42000" {
				t.Errorf("code %d state %s, want %d 42000", err.Code, err.SQLState, tc.code)
			}
			if want := compilePrefix + tc.msg; err.Message != want {
				t.Errorf("message\n got %q\nwant %q", err.Message, want)
			}
		})
	}
}

func TestInsertOverwriteFileCount(t *testing.T) {
	// Every source row is "xx,NNNNNN\n": 10 bytes, so sizes are exact.
	const rowsPerFile = 10
	tests := []struct {
		name      string
		files     int // source files (one INSERT each)
		settings  []string
		wantFiles int
	}{
		{"mr default merges small outputs", 10, nil, 1},
		{"mapfiles off keeps one file per mapper", 10, []string{"set hive.merge.mapfiles=false"}, 10},
		{"tez default does not merge", 10, []string{"set hive.execution.engine=tez"}, 10},
		{"tez with tezfiles merges", 10, []string{"set hive.execution.engine=tez", "set hive.merge.tezfiles=true"}, 1},
		{"size per task cuts merged output", 10, []string{"set hive.merge.size.per.task=250"}, 4},
		{"average above threshold skips merge", 10, []string{"set hive.merge.smallfiles.avgsize=50"}, 10},
		{"single output is never merged", 1, nil, 1},
		{"split size makes more mappers", 2, []string{"set hive.merge.mapfiles=false", "set mapreduce.input.fileinputformat.split.maxsize=30"}, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWarehouse(t)
			s := w.NewSession("hive")
			run(t, s, "create table src (k string, v int) row format delimited fields terminated by ','",
				"create table dst (k string, v int) row format delimited fields terminated by ','")
			for f := range tc.files {
				var vals []string
				for r := range rowsPerFile {
					vals = append(vals, fmt.Sprintf("('xx', %d)", 100000+f*rowsPerFile+r))
				}
				run(t, s, "insert into src values "+strings.Join(vals, ","))
			}
			run(t, s, tc.settings...)
			run(t, s, "insert overwrite table dst select * from src")
			if got := countFiles(t, locationOf(t, w, "default", "dst", "")); got != tc.wantFiles {
				t.Errorf("dst has %d files, want %d", got, tc.wantFiles)
			}
			n, sum := countAndChecksum(t, s, "dst")
			n0, sum0 := countAndChecksum(t, s, "src")
			if n != n0 || sum != sum0 {
				t.Errorf("dst count/checksum %d/%v, src %d/%v", n, sum, n0, sum0)
			}
			res := run(t, s, "show tblproperties dst('numFiles')")
			if got := res.Rows[0][0]; got != fmt.Sprint(tc.wantFiles) {
				t.Errorf("numFiles = %v, want %d", got, tc.wantFiles)
			}
		})
	}
}

func TestDynamicPartitionFileCount(t *testing.T) {
	w := newWarehouse(t)
	s := w.NewSession("hive")
	run(t, s, "create table src (k string) partitioned by (dt date, hr int)",
		"create table dst (k string) partitioned by (dt date, hr int)")
	for _, p := range []string{"dt='2024-01-01', hr=0", "dt='2024-01-01', hr=1"} {
		for i := range 3 {
			run(t, s, fmt.Sprintf("insert into src partition (%s) values ('row%d')", p, i))
		}
	}
	if err := hiveErr(t, s, "insert overwrite table dst partition (dt, hr) select k, dt, hr from src"); err.Code != 10096 {
		t.Fatalf("strict mode: got %v", err)
	}
	run(t, s, "set hive.exec.dynamic.partition.mode=nonstrict", "set hive.merge.mapfiles=false",
		"insert overwrite table dst partition (dt, hr) select k, dt, hr from src where dt = '2024-01-01' and hr in (0, 1)")
	for _, p := range []string{"dt=2024-01-01/hr=0", "dt=2024-01-01/hr=1"} {
		if got := countFiles(t, locationOf(t, w, "default", "dst", p)); got != 3 {
			t.Errorf("%s: %d files, want one per mapper (3)", p, got)
		}
	}
	run(t, s, "set hive.merge.mapfiles=true", "insert overwrite table dst partition (dt='2024-01-01', hr) select k, hr from src")
	for _, p := range []string{"dt=2024-01-01/hr=0", "dt=2024-01-01/hr=1"} {
		if got := countFiles(t, locationOf(t, w, "default", "dst", p)); got != 1 {
			t.Errorf("%s after merge: %d files, want 1", p, got)
		}
	}
	if got := render(run(t, s, "show partitions dst")); strings.Join(got, ",") != "dt=2024-01-01/hr=0,dt=2024-01-01/hr=1" {
		t.Errorf("partitions %v", got)
	}
}

func TestRewritesKeepRowsAndChecksums(t *testing.T) {
	tests := []struct {
		name    string
		create  string
		target  string // table counted afterwards
		rewrite []string
	}{
		{"insert overwrite same partition", "create table t (id bigint, s string, d double) partitioned by (dt date) stored as orc", "t",
			[]string{"insert overwrite table t partition (dt='2024-01-01') select id, s, d from t where dt = '2024-01-01'"}},
		{"concatenate orc", "create table t (id bigint, s string, d double) partitioned by (dt date) stored as orc", "t",
			[]string{"alter table t partition (dt='2024-01-01') concatenate"}},
		{"concatenate rcfile", "create table t (id bigint, s string, d double) partitioned by (dt date) stored as rcfile", "t",
			[]string{"alter table t partition (dt='2024-01-01') concatenate"}},
		{"major compaction", "create table t (id bigint, s string, d double) partitioned by (dt date) stored as orc tblproperties ('transactional'='true')", "t",
			[]string{"alter table t partition (dt='2024-01-01') compact 'major' and wait"}},
		{"minor compaction", "create table t (id bigint, s string, d double) partitioned by (dt date) stored as orc tblproperties ('transactional'='true')", "t",
			[]string{"alter table t partition (dt='2024-01-01') compact 'minor' and wait"}},
		{"safe merge through a temporary table and SET LOCATION", "create table t (id bigint, s string, d double) partitioned by (dt date) row format delimited fields terminated by '|'", "t",
			[]string{
				"create external table t_tmp like t location '${hiveconf:tmpdir}'",
				"insert overwrite table t_tmp partition (dt='2024-01-01') select id, s, d from t where dt='2024-01-01'",
				"alter table t partition (dt='2024-01-01') set location '${hiveconf:tmpdir}/dt=2024-01-01'",
				"drop table t_tmp",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWarehouse(t)
			// The temporary table lives in a hidden directory inside t, which t's readers
			// skip and no other table uses.
			s := w.NewSession("hive")
			s.Set("tmpdir", filepath.Join(w.Dir(), "warehouse", "t", ".merged-1"))
			run(t, s, tc.create)
			for i := range 5 {
				run(t, s, fmt.Sprintf("insert into t partition (dt='2024-01-01') values (%d, 'a|%d', %d.5), (%d, NULL, NULL)", i, i, i, 100+i))
			}
			n0, sum0 := countAndChecksum(t, s, tc.target)
			run(t, s, tc.rewrite...)
			if err := w.WaitCompactions(context.Background()); err != nil {
				t.Fatal(err)
			}
			n, sum := countAndChecksum(t, s, tc.target)
			if n != n0 || sum != sum0 || n != 10 {
				t.Errorf("after rewrite count/checksum %d/%v, before %d/%v", n, sum, n0, sum0)
			}
			if got := countFiles(t, locationOf(t, w, "default", "t", "dt=2024-01-01")); got != 1 {
				t.Errorf("%d files after rewrite, want 1", got)
			}
			res := run(t, s, "describe formatted t partition (dt='2024-01-01')")
			for _, r := range res.Rows {
				if r[1] == pad("numRows") && r[2] != pad("10") {
					t.Errorf("numRows = %q", r[2])
				}
			}
		})
	}
}

func TestCompactionLifecycle(t *testing.T) {
	w := newWarehouse(t)
	s := w.NewSession("hive")
	run(t, s, "create table acid (a int) stored as orc tblproperties ('transactional'='true')",
		"insert into acid values (1)", "insert into acid values (2)", "insert into acid values (3)")
	loc := locationOf(t, w, "default", "acid", "")
	var logs []string
	_, err := s.Execute(context.Background(), "alter table acid compact 'major'", Events{Log: func(l string) { logs = append(logs, l) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) == 0 || logs[len(logs)-1] != "Compaction enqueued with id 1" {
		t.Errorf("logs %q", logs)
	}
	if err := w.WaitCompactions(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows := run(t, s, "show compactions").Rows
	if len(rows) != 2 || rows[1][5] != stateSucceeded || rows[1][4] != "MAJOR" {
		t.Fatalf("show compactions: %v", rows)
	}
	ents, _ := os.ReadDir(loc)
	var dirs []string
	for _, e := range ents {
		dirs = append(dirs, e.Name())
	}
	if strings.Join(dirs, ",") != "base_0000003" {
		t.Errorf("after major compaction the location holds %v, want only base_0000003", dirs)
	}
	if he := hiveErr(t, s, "alter table acid compact 'full'"); he.Code != 10282 {
		t.Errorf("bad type: %v", he)
	}
	run(t, s, "create table plain (a int)")
	if err := hiveErr(t, s, "alter table plain compact 'major'"); err.Code != 10286 || !strings.Contains(err.Message, "Compaction is not allowed on non-ACID table default.plain") {
		t.Errorf("non-ACID: %v", err)
	}
}

func TestAppendFileLeavesStatsStale(t *testing.T) {
	w := newWarehouse(t)
	s := w.NewSession("hive")
	run(t, s, "create database sales", "create table sales.orders (id bigint, note string) partitioned by (dt date, hr string)",
		"insert into sales.orders partition (dt='2024-01-01', hr='00') values (1, 'a')")
	path, err := w.AppendFile(context.Background(), "sales", "orders", map[string]string{"dt": "2024-01-01", "hr": "00"}, [][]string{{"2", "b"}, {"3", `\N`}})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "000000_0_copy_1" {
		t.Errorf("appended file %s, want Hive's copy naming", path)
	}
	if _, err := w.AppendFile(context.Background(), "sales", "orders", map[string]string{"dt": "2024-01-02", "hr": "05"}, [][]string{{"4", "d"}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := countAndChecksum(t, s, "sales.orders"); n != 4 {
		t.Errorf("count %d, want 4", n)
	}
	if got := run(t, s, "show tblproperties sales.orders('numFiles')"); got != nil && len(got.Rows) != 1 {
		t.Fatal(got)
	}
	res := run(t, s, "describe formatted sales.orders partition (dt='2024-01-01', hr='00')")
	for _, r := range res.Rows {
		if r[1] == pad("numFiles") && r[2] != pad("1") {
			t.Errorf("numFiles %q: AppendFile must leave statistics stale", r[2])
		}
	}
	ext := render(run(t, s, "show table extended in sales like 'orders' partition (dt='2024-01-01', hr='00')"))
	if !strings.Contains(strings.Join(ext, "\n"), "totalNumberFiles:2") {
		t.Errorf("SHOW TABLE EXTENDED must list live files:\n%s", strings.Join(ext, "\n"))
	}
	if got := render(run(t, s, "show partitions sales.orders")); len(got) != 2 {
		t.Errorf("partitions %v", got)
	}
}

func TestCatalogSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := w.NewSession("hive")
	run(t, s, "create database web", "use web",
		"create external table clicks (id bigint) partitioned by (dt date, hr int) stored as parquet location '"+filepath.Join(dir, "ext", "clicks")+"'",
		"alter table clicks add partition (dt='2024-01-01', hr=1) location '"+filepath.Join(dir, "custom")+"'",
		"insert into clicks partition (dt='2024-01-01', hr=1) values (1), (2)",
		"create table acid (a int) stored as orc tblproperties ('transactional'='true')",
		"insert into acid values (7)", "alter table acid compact 'major' and wait")
	before := render(run(t, s, "describe formatted clicks partition (dt='2024-01-01', hr=1)"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	s2 := w2.NewSession("hive")
	if got := render(run(t, s2, "show databases")); strings.Join(got, ",") != "default,web" {
		t.Errorf("databases %v", got)
	}
	after := render(run(t, s2, "describe formatted web.clicks partition (dt='2024-01-01', hr=1)"))
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Errorf("describe changed across reopen:\n%s\n---\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
	if n, _ := countAndChecksum(t, s2, "web.clicks"); n != 2 {
		t.Errorf("count %d after reopen", n)
	}
	if rows := run(t, s2, "show compactions").Rows; len(rows) != 2 || rows[1][5] != stateSucceeded {
		t.Errorf("compactions after reopen: %v", rows)
	}
	run(t, s2, "insert into web.acid values (8)")
	if n, _ := countAndChecksum(t, s2, "web.acid"); n != 2 {
		t.Errorf("acid count %d after reopen (write ids must continue)", n)
	}
}

func TestCancelDiscardsOutput(t *testing.T) {
	tests := []struct {
		name string
		stmt string
		// cancelAt says which callback cancels the statement.
		cancelAt string
	}{
		{"insert overwrite cancelled before commit", "insert overwrite table dst select * from src", "commit"},
		{"insert overwrite cancelled while mapping", "insert overwrite table dst select * from src", "progress"},
		{"concatenate cancelled before commit", "alter table dst concatenate", "commit"},
		{"concatenate cancelled while reading", "alter table dst concatenate", "progress"},
		{"before commit hook fails", "insert overwrite table dst select * from src", "hook-error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWarehouse(t)
			s := w.NewSession("hive")
			run(t, s, "create table src (a int) stored as orc", "create table dst (a int) stored as orc")
			for i := range 4 {
				run(t, s, fmt.Sprintf("insert into src values (%d)", i), fmt.Sprintf("insert into dst values (%d)", 10+i))
			}
			loc := locationOf(t, w, "default", "dst", "")
			_, sumBefore := countAndChecksum(t, s, "dst")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			hookErr := errors.New("injected")
			ev := Events{}
			switch tc.cancelAt {
			case "commit":
				ev.BeforeCommit = func(context.Context) error { cancel(); return nil }
			case "progress":
				ev.Progress = func(done, total int) {
					if done > 0 {
						cancel()
					}
				}
			case "hook-error":
				ev.BeforeCommit = func(context.Context) error { return hookErr }
			}
			_, err := s.Execute(ctx, tc.stmt, ev)
			want := context.Canceled
			if tc.cancelAt == "hook-error" {
				want = hookErr
			}
			if !errors.Is(err, want) {
				t.Fatalf("got %v, want %v", err, want)
			}
			if got := countFiles(t, loc); got != 4 {
				t.Errorf("dst has %d files, want its 4 originals", got)
			}
			if _, sum := countAndChecksum(t, s, "dst"); sum != sumBefore {
				t.Errorf("checksum changed: %v -> %v", sumBefore, sum)
			}
			ents, _ := os.ReadDir(loc)
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), ".hive-staging") {
					t.Errorf("staging directory %s left behind", e.Name())
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, stmt, want string
	}{
		{"unknown verb", "frobnicate the table", "line 1:0 cannot recognize input near 'frobnicate' 'the' 'table'"},
		{"update", "update t set a = 1", "line 1:0 cannot recognize input near 'update' 't' 'set'"},
		{"delete", "delete from t where a = 1", "line 1:0 cannot recognize input near 'delete' 'from' 't'"},
		{"merge", "merge into t using s on t.a = s.a when matched then delete", "line 1:0 cannot recognize input near 'merge' 'into' 't'"},
		{"distinct", "select distinct a from t", "line 1:7 cannot recognize input near 'distinct' 'a' 'from'"},
		{"truncated create", "create table", "line 1:12 cannot recognize input near '<EOF>' '<EOF>' '<EOF>' in table name"},
		{"group by", "select count(*) from t group by a", "line 1:23 cannot recognize input near 'group' 'by' 'a'"},
		{"join", "select * from t join u on t.a = u.a", "line 1:16 cannot recognize input near 'join' 'u' 'on'"},
		{"short input", "show", "line 1:4 cannot recognize input near '<EOF>' '<EOF>' '<EOF>'"},
		{"substitution left unexpanded", "select ${hiveconf:nope}", "line 1:7 cannot recognize input near '$' '{' 'hiveconf'"},
	}
	s := newWarehouse(t).NewSession("hive")
	run(t, s, "create table t (a int)")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := hiveErr(t, s, tc.stmt)
			if err.SQLState != "42000" || err.Code != 40000 {
				t.Errorf("state %s code %d", err.SQLState, err.Code)
			}
			if want := compilePrefix + "FAILED: ParseException " + tc.want; err.Message != want {
				t.Errorf("\n got %q\nwant %q", err.Message, want)
			}
		})
	}
}

func TestParserAccepts(t *testing.T) {
	w := newWarehouse(t)
	stmts := []string{
		"create database if not exists sales comment 'x'",
		"create schema if not exists ops",
		"use sales",
		"create table if not exists orders (id bigint comment 'id', amount decimal(10,2), note varchar(20), ok boolean) partitioned by (dt date, hr string) clustered by (id) sorted by (id asc) into 4 buckets row format delimited fields terminated by '\\t' lines terminated by '\\n' stored as orc tblproperties ('orc.compress'='ZLIB', 'a'='b')",
		"create external table if not exists sales.ext like sales.orders location '" + filepath.Join(w.Dir(), "parser-test-ext") + "'",
		"create table `select` (`from` int, `where` string)",
		"describe formatted orders",
		"desc orders",
		"describe extended orders",
		"alter table orders add if not exists partition (dt='2024-01-01', hr='00') partition (dt=date '2024-01-02', hr='01')",
		"describe formatted `sales`.`orders` partition (dt='2024-01-01', hr='00')",
		"show partitions orders partition (dt='2024-01-01')",
		"show table extended like orders",
		"show table extended in sales like 'ord*'",
		"show tblproperties orders",
		"show tblproperties orders('orc.compress')",
		"show tables",
		"show tables in sales like 'o*'",
		"show databases like 's*'",
		"show compactions",
		"show compactions sales.orders",
		"show create table orders",
		"alter table orders set tblproperties ('k'='v')",
		"alter table orders unset tblproperties if exists ('k', 'nope')",
		"select count(1), count(*), sum(hash(id, note)), sum(crc32(concat_ws('|', coalesce(cast(id as string), '')))) from orders where dt in ('2024-01-01', '2024-01-02') and hr = '00' or not (hr <> '01') and id is not null",
		"select 1",
		"select 1 + 2 * 3, 'a' 'b', -5, 2.5, 10L, true, null",
		"insert into orders partition (dt='2024-01-01', hr='00') values (1, 2.5, 'x', true)",
		"insert into table orders partition (dt='2024-01-01', hr='00') select id, amount, note, ok from orders where dt = '2024-01-01'",
		"analyze table orders partition (dt='2024-01-01', hr) compute statistics",
		"analyze table orders partition (dt='2024-01-01', hr='00') compute statistics noscan",
		"msck repair table orders",
		"msck table orders",
		"alter table orders partition (dt='2024-01-01', hr='00') set location 'file://" + filepath.ToSlash(filepath.Join(w.Dir(), "parser-test-loc")) + "'",
		"alter table orders drop if exists partition (dt='2030-01-01', hr='00')",
		"alter table sales.ext rename to sales.ext2",
		"drop table if exists sales.ext2 purge",
		"drop table `select`",
		"select * from orders limit 3;",
		"-- a comment\nselect 1",
		"set hive.merge.mapfiles",
		"set",
	}
	s := w.NewSession("hive")
	for _, q := range stmts {
		if _, err := s.Execute(context.Background(), q, Events{}); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
}

func TestSemanticErrors(t *testing.T) {
	tests := []struct {
		name, stmt string
		state      string
		code       int32
		message    string
	}{
		{"table not found in a query", "select count(*) from nope", "42S02", 10001,
			compilePrefix + "FAILED: SemanticException [Error 10001]: Line 1:21 Table not found 'nope'"},
		{"table not found in DDL", "describe formatted nope", "42S02", 10001,
			compilePrefix + "FAILED: SemanticException [Error 10001]: Table not found nope"},
		{"database not found", "use nope", "42000", 10072,
			compilePrefix + "FAILED: SemanticException [Error 10072]: Database does not exist: nope"},
		{"invalid column", "select count(zz) from t", "42000", 10004,
			compilePrefix + "FAILED: SemanticException [Error 10004]: Line 1:13 Invalid table alias or column reference 'zz': (possible column names are: a, b)"},
		{"invalid function", "select frob(a) from t", "42000", 10011,
			compilePrefix + "FAILED: SemanticException [Error 10011]: Line 1:7 Invalid function 'frob'"},
		{"column not aggregated", "select a, count(*) from t", "42000", 10025,
			compilePrefix + "FAILED: SemanticException [Error 10025]: Line 1:7 Expression not in GROUP BY key 'a'"},
		{"insert column count", "insert overwrite table t select a from t", "42000", 10044,
			compilePrefix + "FAILED: SemanticException [Error 10044]: Line 1:23 Cannot insert into target table because column number/types are different 't': Table insclause-0 has 2 columns, but query has 1 columns."},
		{"insert select without from", "insert into table t select 1, 'x'", "42000", 40000,
			compilePrefix + "FAILED: SemanticException [Error 40000]: the sandbox needs a FROM clause in INSERT ... SELECT; use INSERT ... VALUES"},
		{"table exists", "create table t (a int)", "08S01", 1,
			processPrefix + "FAILED: Execution Error, return code 1 from org.apache.hadoop.hive.ql.exec.DDLTask. AlreadyExistsException(message:Table hive.default.t already exists)"},
		{"partition spec on unpartitioned table", "show partitions t", "08S01", 1,
			processPrefix + "FAILED: Execution Error, return code 1 from org.apache.hadoop.hive.ql.exec.DDLTask. Table t is not a partitioned table"},
	}
	s := newWarehouse(t).NewSession("hive")
	run(t, s, "create table t (a int, b string)")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := hiveErr(t, s, tc.stmt)
			if err.SQLState != tc.state || err.Code != tc.code || err.Message != tc.message {
				t.Errorf("\n got %s %d %q\nwant %s %d %q", err.SQLState, err.Code, err.Message, tc.state, tc.code, tc.message)
			}
		})
	}
}

func TestVariableSubstitution(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]string
		stmt     string
		want     string // rendered first row, or "ParseException"
	}{
		{"hiveconf", map[string]string{"tbl": "t"}, "select count(*) from ${hiveconf:tbl}", "2"},
		{"plain name", map[string]string{"tbl": "t"}, "select count(*) from ${tbl}", "2"},
		{"hivevar", map[string]string{"hivevar:v": "'x'"}, "select count(*) from t where b = ${hivevar:v}", "1"},
		{"inside a literal", map[string]string{"who": "x"}, "select count(*) from t where b = '${hiveconf:who}'", "1"},
		{"nested", map[string]string{"a": "${hiveconf:b}", "b": "t"}, "select count(*) from ${hiveconf:a}", "2"},
		{"disabled", map[string]string{"tbl": "t", "hive.variable.substitute": "false"}, "select count(*) from ${hiveconf:tbl}", "ParseException"},
		{"disabled keeps literals", map[string]string{"who": "x", "hive.variable.substitute": "false"}, "select count(*) from t where b = '${hiveconf:who}' and a = 2", "1"},
	}
	w := newWarehouse(t)
	run(t, w.NewSession("hive"), "create table t (a int, b string)", "insert into t values (1, 'x'), (2, '${hiveconf:who}')")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := w.NewSession("hive")
			for k, v := range tc.settings {
				if _, err := s.Execute(context.Background(), "set "+k+"="+v, Events{}); err != nil {
					t.Fatal(err)
				}
			}
			res, err := s.Execute(context.Background(), tc.stmt, Events{})
			if tc.want == "ParseException" {
				var he *Error
				if !errors.As(err, &he) || !strings.Contains(he.Message, "ParseException") {
					t.Fatalf("got %v, want a ParseException", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := render(res)[0]; got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	s := w.NewSession("hive")
	run(t, s, "set hive.merge.size.per.task=1000")
	if got := render(run(t, s, "set hive.merge.size.per.task")); got[0] != "hive.merge.size.per.task=1000" {
		t.Errorf("SET k printed %v", got)
	}
	if got := render(run(t, s, "set nope.nothing")); got[0] != "nope.nothing is undefined" {
		t.Errorf("SET unknown printed %v", got)
	}
}

func TestBackticks(t *testing.T) {
	s := newWarehouse(t).NewSession("hive")
	run(t, s, "create database `Sales`", "create table `sales`.`Orders` (`select` int, `from` string) partitioned by (`dt` string)",
		"insert into `sales`.`orders` partition (`dt`='2024-01-01') values (1, 'a'), (2, 'b')")
	if got := render(run(t, s, "select count(`select`), sum(hash(`from`)) from `SALES`.`orders` where `dt` = '2024-01-01'")); got[0] != fmt.Sprintf("2\t%d", 97+98) {
		t.Errorf("got %v", got)
	}
	if got := render(run(t, s, "show partitions `sales`.`orders`")); got[0] != "dt=2024-01-01" {
		t.Errorf("got %v", got)
	}
}

func TestHashMatchesHive(t *testing.T) {
	tests := []struct {
		expr string
		want string
	}{
		{"hash('a')", "97"},
		{"hash('ab')", "3105"},
		{"hash(1)", "1"},
		{"hash(cast(1 as bigint))", "1"},
		{"hash(true)", "1"},
		{"hash(null)", "0"},
		{"hash('a', 1)", fmt.Sprint(31*97 + 1)},
		{"hash(cast(-1 as bigint))", "0"},
		{"crc32('hive')", "3698179064"},
		{"concat_ws('|', 'a', null, 'b')", "a|b"},
		{"coalesce(null, 'x')", "x"},
	}
	s := newWarehouse(t).NewSession("hive")
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			if got := render(run(t, s, "select "+tc.expr))[0]; got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestDDL(t *testing.T) {
	w := newWarehouse(t)
	s := w.NewSession("hive")
	// The external table lives outside the warehouse, in a root allowed for it.
	root := t.TempDir()
	if err := w.AllowLocations(root); err != nil {
		t.Fatal(err)
	}
	ext := filepath.Join(root, "ext")
	run(t, s, "create database d", "use d",
		"create table m (a int) partitioned by (p string)",
		"insert into m partition (p='x') values (1)",
		"create external table e (a int) location '"+ext+"'",
		"insert into e values (1)")
	mloc := locationOf(t, w, "d", "m", "")
	run(t, s, "alter table m rename to m2")
	if _, err := os.Stat(mloc); !os.IsNotExist(err) {
		t.Errorf("rename left the old managed directory")
	}
	if n, _ := countAndChecksum(t, s, "m2"); n != 1 {
		t.Errorf("renamed table has %d rows", n)
	}
	run(t, s, "alter table m2 drop partition (p='x')")
	if got := render(run(t, s, "show partitions m2")); len(got) != 0 {
		t.Errorf("partitions after drop: %v", got)
	}
	run(t, s, "drop table e")
	if countFiles(t, ext) != 1 {
		t.Errorf("dropping an external table must keep its data")
	}
	m2 := locationOf(t, w, "d", "m2", "")
	run(t, s, "drop table m2")
	if _, err := os.Stat(m2); !os.IsNotExist(err) {
		t.Errorf("dropping a managed table must delete its data")
	}
	run(t, s, "create table x2 (a int)")
	if err := hiveErr(t, s, "drop database d"); !strings.Contains(err.Message, "is not empty") {
		t.Errorf("got %v", err)
	}
	run(t, s, "drop database d cascade")
	if got := s.Database(); got != "default" {
		t.Errorf("current database %q after dropping it", got)
	}
}

func TestMsckAndAnalyze(t *testing.T) {
	w := newWarehouse(t)
	s := w.NewSession("hive")
	run(t, s, "create table t (a int) partitioned by (dt string, hr int)")
	loc := locationOf(t, w, "default", "t", "")
	dir := filepath.Join(loc, "dt=2024-01-01", "hr=3")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "000000_0"), []byte("1\n2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, s, "msck repair table t")
	if got := render(run(t, s, "show partitions t")); strings.Join(got, ",") != "dt=2024-01-01/hr=3" {
		t.Errorf("partitions %v", got)
	}
	run(t, s, "analyze table t partition (dt='2024-01-01', hr) compute statistics")
	res := run(t, s, "describe formatted t partition (dt='2024-01-01', hr=3)")
	found := false
	for _, r := range res.Rows {
		if r[1] == pad("numRows") {
			found = r[2] == pad("2")
		}
	}
	if !found {
		t.Errorf("numRows not 2 after ANALYZE:\n%s", strings.Join(render(res), "\n"))
	}
}

// TestConcurrentSessions runs writers, readers and an external appender at once; with -race
// it checks the catalog's locking.
func TestConcurrentSessions(t *testing.T) {
	w := newWarehouse(t)
	run(t, w.NewSession("hive"), "create table a (x int) partitioned by (p int)", "create table b (x int)",
		"create table c (x int) stored as orc tblproperties ('transactional'='true')")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := w.NewSession(fmt.Sprintf("u%d", i))
			for k := range 5 {
				for _, q := range []string{
					fmt.Sprintf("insert into a partition (p=%d) values (%d)", i, k),
					fmt.Sprintf("insert into b values (%d)", k),
					fmt.Sprintf("insert into c values (%d)", k),
					"select count(*), sum(hash(*)) from a",
					"show partitions a",
					"describe formatted b",
				} {
					if _, err := s.Execute(context.Background(), q, Events{}); err != nil {
						errs <- fmt.Errorf("%s: %w", q, err)
					}
				}
			}
			if _, err := w.AppendFile(context.Background(), "default", "a", map[string]string{"p": fmt.Sprint(i)}, [][]string{{"99"}}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := w.NewSession("compactor")
		for range 3 {
			if _, err := s.Execute(context.Background(), "alter table c compact 'minor' and wait", Events{}); err != nil {
				errs <- err
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := w.WaitCompactions(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := w.NewSession("check")
	for table, want := range map[string]int64{"a": 24, "b": 20, "c": 20} {
		if n, _ := countAndChecksum(t, s, table); n != want {
			t.Errorf("%s has %d rows, want %d", table, n, want)
		}
	}
}

func TestProgressAndLogs(t *testing.T) {
	s := newWarehouse(t).NewSession("hive")
	run(t, s, "create table t (a int)", "insert into t values (1)", "insert into t values (2)")
	var logs []string
	var last [2]int
	_, err := s.Execute(context.Background(), "insert overwrite table t select a from t", Events{
		Log:      func(l string) { logs = append(logs, l) },
		Progress: func(done, total int) { last = [2]int{done, total} },
	})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(logs, "\n")
	for _, want := range []string{"Query ID = hive_", "Total jobs = 1", "number of mappers: 2; number of reducers: 0", "Stage-1 map = 0%,  reduce = 0%", "Stage-1 map = 50%,  reduce = 0%", "Stage-1 map = 100%,  reduce = 0%", "Loading data to table default.t", "OK"} {
		if !strings.Contains(all, want) {
			t.Errorf("logs lack %q:\n%s", want, all)
		}
	}
	if last != [2]int{2, 2} {
		t.Errorf("last progress %v", last)
	}
}

// TestConcurrentWriterDuringRewrite shows what a writer appending while a statement runs
// does to each rewrite, as in Hive: INSERT OVERWRITE replaces the partition and loses the
// appended rows; a compaction keeps them, because it only removes what it compacted.
func TestConcurrentWriterDuringRewrite(t *testing.T) {
	tests := []struct {
		name     string
		create   string
		rewrite  string
		wantRows int64
	}{
		{"insert overwrite loses the appended file", "create table t (a int) partitioned by (dt string)",
			"insert overwrite table t partition (dt='x') select a from t where dt='x'", 3},
		{"concatenate loses the appended file", "create table t (a int) partitioned by (dt string) stored as orc",
			"alter table t partition (dt='x') concatenate", 3},
		{"compaction keeps the appended delta", "create table t (a int) partitioned by (dt string) stored as orc tblproperties ('transactional'='true')",
			"alter table t partition (dt='x') compact 'major' and wait", 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWarehouse(t)
			s := w.NewSession("hive")
			run(t, s, tc.create)
			for i := range 3 {
				run(t, s, fmt.Sprintf("insert into t partition (dt='x') values (%d)", i))
			}
			appended := false
			ev := Events{BeforeCommit: func(ctx context.Context) error {
				_, err := w.AppendFile(ctx, "default", "t", map[string]string{"dt": "x"}, [][]string{{"99"}})
				appended = true
				return err
			}}
			if strings.Contains(tc.rewrite, "compact") {
				// The compactor has no BeforeCommit: append while the request is queued.
				ev = Events{Log: func(line string) {
					if strings.HasPrefix(line, "Compaction enqueued") && !appended {
						appended = true
						if _, err := w.AppendFile(context.Background(), "default", "t", map[string]string{"dt": "x"}, [][]string{{"99"}}); err != nil {
							t.Error(err)
						}
					}
				}}
			}
			if _, err := s.Execute(context.Background(), tc.rewrite, ev); err != nil {
				t.Fatal(err)
			}
			if err := w.WaitCompactions(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !appended {
				t.Fatal("the concurrent writer never ran")
			}
			if n, _ := countAndChecksum(t, s, "t"); n != tc.wantRows {
				t.Errorf("%d rows, want %d", n, tc.wantRows)
			}
		})
	}
}
