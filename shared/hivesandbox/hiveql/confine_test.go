package hiveql

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// plantCanary fills dir with files that a confined sandbox must never touch.
func plantCanary(t testing.TB, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"canary", filepath.Join("sub", "canary")} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("only copy"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkCanary fails the test unless dir holds exactly what plantCanary put there.
func checkCanary(t testing.TB, dir string) {
	t.Helper()
	var got []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		got = append(got, rel)
		return nil
	})
	if err != nil {
		t.Fatalf("outside directory: %v", err)
	}
	if want := ". canary sub sub/canary"; strings.Join(got, " ") != want {
		t.Errorf("outside directory holds %q, want %q", got, want)
	}
}

// climb spells the absolute path target relative to dir, through '..' up to the filesystem
// root: a name that, joined to dir, leads out of it.
func climb(dir, target string) string {
	return strings.Repeat("../", strings.Count(filepath.Clean(dir), string(filepath.Separator))) + strings.TrimPrefix(target, "/")
}

// escape spells target as a path that starts inside dir and climbs out with '..'.
func escape(dir, target string) string {
	return dir + "/" + climb(dir, target)
}

func TestLocationConfinement(t *testing.T) {
	tests := []struct {
		name string
		// link, when set, is a symbolic link created at warehouse/link to this target.
		link func(outside string) string
		stmt func(dir, outside string) string
		// atRun marks a refusal that only the metastore can find, at execution.
		atRun bool
		// badName marks a name refused before its location is considered.
		badName bool
	}{
		{name: "absolute path outside", stmt: func(_, out string) string {
			return "create table m (a string) location '" + out + "'"
		}},
		{name: "absolute path below an outside directory", stmt: func(_, out string) string {
			return "create table m (a string) location '" + out + "/sub'"
		}},
		{name: "file:/// URI outside", stmt: func(_, out string) string {
			return "create external table m (a string) location 'file://" + out + "'"
		}},
		{name: "file: URI outside", stmt: func(_, out string) string {
			return "create table m (a string) location 'file:" + out + "'"
		}},
		{name: "dot-dot escape from the warehouse", stmt: func(dir, out string) string {
			return "create table m (a string) location '" + escape(filepath.Join(dir, "warehouse"), out) + "'"
		}},
		{name: "symlink inside pointing outside", link: func(out string) string { return out }, stmt: func(dir, _ string) string {
			return "create table m (a string) location '" + filepath.Join(dir, "link") + "'"
		}},
		{name: "path below a symlink pointing outside", link: func(out string) string { return out }, stmt: func(dir, _ string) string {
			return "create table m (a string) location '" + filepath.Join(dir, "link", "new") + "'"
		}},
		{name: "dangling symlink pointing outside", link: func(out string) string { return filepath.Join(out, "new") }, stmt: func(dir, _ string) string {
			return "create table m (a string) location '" + filepath.Join(dir, "link") + "'"
		}},
		{name: "exactly the warehouse directory", stmt: func(dir, _ string) string {
			return "create table m (a string) location '" + dir + "'"
		}},
		{name: "the default database's directory", stmt: func(dir, _ string) string {
			return "create table m (a string) location '" + filepath.Join(dir, "warehouse") + "'"
		}},
		{name: "the catalog file", stmt: func(dir, _ string) string {
			return "create table m (a string) location '" + filepath.Join(dir, "metastore.json") + "'"
		}},
		{name: "table set location outside", stmt: func(_, out string) string {
			return "alter table p set location '" + out + "'"
		}},
		{name: "partition set location outside", stmt: func(_, out string) string {
			return "alter table p partition (dt='1') set location 'file://" + out + "'"
		}},
		{name: "add partition outside", stmt: func(_, out string) string {
			return "alter table p add partition (dt='2') location '" + out + "'"
		}},
		{name: "create database outside", stmt: func(_, out string) string {
			return "create database o location '" + out + "'"
		}},
		{name: "quoted table name climbing out", badName: true, stmt: func(dir, out string) string {
			return "create table `" + climb(filepath.Join(dir, "warehouse"), out) + "` (a string)"
		}},
		{name: "rename to a quoted name climbing out", badName: true, stmt: func(dir, out string) string {
			return "alter table p rename to `" + climb(filepath.Join(dir, "warehouse"), out) + "`"
		}},
		{name: "quoted database name climbing out", badName: true, stmt: func(dir, out string) string {
			return "create database `" + climb(filepath.Join(dir, "warehouse"), filepath.Join(out, "x")) + "`"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWarehouse(t)
			outside := t.TempDir()
			plantCanary(t, outside)
			s := w.NewSession("hive")
			run(t, s, "create table p (a string) partitioned by (dt string)",
				"insert into p partition (dt='1') values ('x')")
			if tt.link != nil {
				if err := os.Symlink(tt.link(outside), filepath.Join(w.Dir(), "link")); err != nil {
					t.Fatal(err)
				}
			}
			stmt := tt.stmt(w.Dir(), outside)
			err := hiveErr(t, s, stmt)
			prefix := compilePrefix + "FAILED: SemanticException the sandbox refuses location "
			switch {
			case tt.badName:
				prefix = compilePrefix + "FAILED: SemanticException "
			case tt.atRun:
				prefix = processPrefix + "FAILED: Execution Error, return code 1 from org.apache.hadoop.hive.ql.exec.DDLTask. MetaException(message:the sandbox refuses location "
			}
			if tt.badName && !strings.Contains(err.Message, "valid") {
				t.Errorf("%s: got %q, want a refused name", stmt, err.Message)
			}
			if !strings.HasPrefix(err.Message, prefix) {
				t.Errorf("%s:\n got %q\nwant prefix %q", stmt, err.Message, prefix)
			}
			// Whatever a client tries next, nothing outside is touched and p is intact.
			for _, q := range []string{"insert overwrite table m select 'y'", "drop table m purge", "drop database o cascade",
				"insert overwrite table p partition (dt='1') select 'y' from p", "alter table p partition (dt='2') concatenate"} {
				s.Execute(context.Background(), q, Events{})
			}
			checkCanary(t, outside)
			if got := render(run(t, s, "select a from p")); strings.Join(got, ",") != "y" {
				t.Errorf("p holds %v after the refusal, want the overwritten row", got)
			}
		})
	}
}

func TestAllowLocations(t *testing.T) {
	w := newWarehouse(t)
	extra := t.TempDir()
	plantCanary(t, extra)
	if err := w.AllowLocations(extra); err != nil {
		t.Fatal(err)
	}
	s := w.NewSession("hive")
	run(t, s, "create external table e (a string) location '"+filepath.Join(extra, "e")+"'",
		"insert into e values ('x')",
		"create table m (a string) partitioned by (dt string) location 'file://"+filepath.Join(extra, "m")+"'",
		"alter table m add partition (dt='1') location '"+filepath.Join(extra, "m1")+"'",
		"insert overwrite table m partition (dt='1') select a from e")
	if got := render(run(t, s, "select a, dt from m")); strings.Join(got, ",") != "x\t1" {
		t.Errorf("m holds %v", got)
	}
	run(t, s, "drop table e", "drop table m purge")
	if n := countFiles(t, filepath.Join(extra, "e")); n != 1 {
		t.Errorf("dropping the external table left %d files, want its 1", n)
	}
	for _, d := range []string{"m", "m1"} {
		if _, err := os.Stat(filepath.Join(extra, d)); !os.IsNotExist(err) {
			t.Errorf("dropping the managed table left %s: %v", d, err)
		}
	}
	if err := hiveErr(t, s, "create table r (a string) location '"+extra+"'"); !strings.Contains(err.Message, "refuses location "+extra+": it is or contains") {
		t.Errorf("an extra root itself: %v", err)
	}
	os.RemoveAll(filepath.Join(extra, "e"))
	checkCanary(t, extra)

	bad := []struct {
		name string
		root string
	}{
		{name: "missing directory", root: filepath.Join(extra, "missing")},
		{name: "a file", root: filepath.Join(extra, "canary")},
		{name: "the filesystem root", root: string(filepath.Separator)},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if err := w.AllowLocations(tt.root); err == nil {
				t.Errorf("AllowLocations(%s) succeeded", tt.root)
			}
		})
	}
}

// tamper rewrites the catalog of a closed warehouse the way a hand edit would.
func tamper(t testing.TB, dir string, edit func(c *catalog)) {
	t.Helper()
	path := filepath.Join(dir, "metastore.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c catalog
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	edit(&c)
	if data, err = json.Marshal(&c); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestTamperedCatalogIsRefused(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *catalog, outside string)
		want string
	}{
		{name: "table location", edit: func(c *catalog, out string) {
			c.Databases["d"].Tables["p"].Location = out
		}, want: "Table d.p cannot be used: the sandbox refuses location "},
		{name: "partition location", edit: func(c *catalog, out string) {
			c.Databases["d"].Tables["p"].Partitions["dt=1"].Location = out
		}, want: "Table d.p cannot be used: partition dt=1: the sandbox refuses location "},
		{name: "partition location climbing out", edit: func(c *catalog, out string) {
			c.Databases["d"].Tables["p"].Partitions["dt=1"].Location = escape(c.Databases["d"].Location, out)
		}, want: "Table d.p cannot be used: partition dt=1: the sandbox refuses location "},
		{name: "database location", edit: func(c *catalog, out string) {
			c.Databases["d"].Location = out
		}, want: "Database d cannot be used: the sandbox refuses location "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, outside := t.TempDir(), t.TempDir()
			plantCanary(t, outside)
			w, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			run(t, w.NewSession("hive"), "create database d", "use d",
				"create table p (a string) partitioned by (dt string)",
				"insert into p partition (dt='1') values ('x')")
			w.Close()
			tamper(t, dir, func(c *catalog) { tt.edit(c, outside) })

			w, err = Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			s := w.NewSession("hive")
			run(t, s, "use d")
			stmts := []string{"drop database d cascade"}
			if !strings.HasPrefix(tt.want, "Database") {
				stmts = append(stmts, "select * from p", "insert overwrite table p partition (dt='1') select 'y'",
					"alter table p partition (dt='1') concatenate", "alter table p drop partition (dt='1')",
					"drop table p purge", "drop table if exists p", "describe formatted p", "show table extended like 'p*'",
					"alter table p rename to q")
			}
			for _, q := range stmts {
				err := hiveErr(t, s, q)
				if !strings.Contains(err.Message, "SemanticException "+tt.want) {
					t.Errorf("%s:\n got %q\nwant %q", q, err.Message, tt.want)
				}
			}
			if _, err := w.AppendFile(context.Background(), "d", "p", map[string]string{"dt": "1"}, [][]string{{"z"}}); err == nil && !strings.HasPrefix(tt.want, "Database") {
				t.Error("AppendFile wrote into a refused table")
			}
			if _, err := Generate(context.Background(), w, GenerateOptions{Databases: []string{"d"}, MaxFiles: 1}); err == nil {
				t.Error("Generate replaced a refused catalog entry")
			}
			checkCanary(t, outside)
		})
	}
}

func TestAllowLocationsRechecksTheCatalog(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	w, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	run(t, w.NewSession("hive"), "create external table e (a string) location '"+filepath.Join(dir, "e")+"'",
		"insert into e values ('x')")
	w.Close()
	if err := os.Rename(filepath.Join(dir, "e"), filepath.Join(outside, "e")); err != nil {
		t.Fatal(err)
	}
	tamper(t, dir, func(c *catalog) { c.Databases[defaultDB].Tables["e"].Location = filepath.Join(outside, "e") })

	w, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s := w.NewSession("hive")
	if err := hiveErr(t, s, "select a from e"); !strings.Contains(err.Message, "Table default.e cannot be used") {
		t.Errorf("before AllowLocations: %v", err)
	}
	if err := w.AllowLocations(outside); err != nil {
		t.Fatal(err)
	}
	if got := render(run(t, s, "select a from e")); strings.Join(got, ",") != "x" {
		t.Errorf("after AllowLocations e holds %v", got)
	}
}
