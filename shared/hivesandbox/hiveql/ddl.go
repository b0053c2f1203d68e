package hiveql

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

type useStmt struct{ db string }

func (st *useStmt) run(x *exec) (*Result, error) {
	err := x.compileLocked(func() error {
		if _, ok := x.w.cat.Databases[st.db]; !ok {
			return databaseNotFound(st.db)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	x.s.setDatabase(st.db)
	return nil, nil
}

type showDatabasesStmt struct{ like string }

func (st *showDatabasesStmt) run(x *exec) (*Result, error) {
	x.w.mu.Lock()
	names := slices.Sorted(maps.Keys(x.w.cat.Databases))
	x.w.mu.Unlock()
	res := &Result{Columns: []Column{{Name: "database_name", Type: "STRING"}}}
	for _, n := range names {
		if st.like == "" || likeMatch(st.like, n) {
			res.Rows = append(res.Rows, []any{n})
		}
	}
	return res, nil
}

// likeMatch implements the patterns of SHOW ... LIKE: * matches anything, | separates
// alternatives, matching is case-insensitive.
func likeMatch(pattern, name string) bool {
	for _, alt := range strings.Split(pattern, "|") {
		alt = strings.ToLower(strings.TrimSpace(alt))
		if ok, _ := path.Match(strings.ReplaceAll(alt, "%", "*"), strings.ToLower(name)); ok {
			return true
		}
	}
	return false
}

type createDatabaseStmt struct {
	name, comment, location string
	ifNotExists             bool
}

func (st *createDatabaseStmt) run(x *exec) (*Result, error) {
	// Every refusal of CREATE DATABASE comes from the metastore, at execution, but for the
	// sandbox's own: a LOCATION outside its roots is refused before anything is created.
	if err := x.checkLocations(st.location); err != nil {
		return nil, err
	}
	if err := x.compiled(nil); err != nil {
		return nil, err
	}
	w := x.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.cat.Databases[st.name]; ok {
		if st.ifNotExists {
			return nil, nil
		}
		return nil, ddlError(fmt.Sprintf("Database %s already exists", st.name))
	}
	loc := filepath.Join(w.root, st.name+".db")
	if st.location != "" {
		l, err := localPath(st.location)
		if err != nil {
			return nil, ddlError(err.Error())
		}
		loc = l
	}
	if err := w.checkLocation(loc); err != nil {
		return nil, refusedLocationAtRun(err)
	}
	if err := w.checkOverlapLocked(loc, locationUse{db: st.name, database: true}); err != nil {
		return nil, refusedLocationAtRun(err)
	}
	if err := os.MkdirAll(loc, 0o755); err != nil {
		return nil, ddlError(fmt.Sprintf("MetaException(message:Unable to create database path %s: %v)", loc, err))
	}
	w.cat.Databases[st.name] = &database{Name: st.name, Location: loc, Owner: x.s.user, Comment: st.comment, Tables: map[string]*table{}}
	return nil, w.commit()
}

type dropDatabaseStmt struct {
	name              string
	ifExists, cascade bool
}

func (st *dropDatabaseStmt) run(x *exec) (*Result, error) {
	err := x.compileLocked(func() error {
		d, ok := x.w.cat.Databases[st.name]
		if !ok && !st.ifExists {
			return databaseNotFound(st.name)
		}
		if ok {
			return refusedIn(d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	w := x.w
	w.mu.Lock()
	defer w.mu.Unlock()
	db, ok := w.cat.Databases[st.name]
	if !ok {
		if st.ifExists {
			return nil, nil
		}
		return nil, databaseNotFound(st.name)
	}
	if st.name == defaultDB {
		return nil, ddlError("MetaException(message:Can not drop default database)")
	}
	if err := refusedIn(db); err != nil {
		return nil, err
	}
	if len(db.Tables) > 0 && !st.cascade {
		return nil, ddlError(fmt.Sprintf("InvalidOperationException(message:Database %s is not empty. One or more tables exist.)", st.name))
	}
	dirs := []string{db.Location}
	for _, t := range db.Tables {
		if !t.External {
			dirs = append(dirs, tableDirs(t)...)
		}
	}
	if err := w.checkDropLocked(dirs, func(y *table) bool { return y.DB == st.name }); err != nil {
		return nil, refusedLocationAtRun(err)
	}
	for _, t := range db.Tables {
		if !t.External {
			w.removeTableData(t)
		}
	}
	delete(w.cat.Databases, st.name)
	if err := w.commit(); err != nil {
		return nil, err
	}
	w.removeLocation(db.Location)
	if x.db == st.name {
		x.s.setDatabase(defaultDB)
	}
	return nil, nil
}

// refusedIn tells whether a database, or one of its tables, has a stored location the sandbox
// refuses, which DROP DATABASE must not delete.
func refusedIn(d *database) error {
	if d.locErr != nil {
		return refusedDatabase(d)
	}
	for _, n := range slices.Sorted(maps.Keys(d.Tables)) {
		if t := d.Tables[n]; t.locErr != nil {
			return refusedTable(t)
		}
	}
	return nil
}

// tableDirs lists the directories a managed table's DROP deletes, but for the partitions at
// their default place inside its location.
func tableDirs(t *table) []string {
	var dirs []string
	for _, l := range locationsOf(t) {
		dirs = append(dirs, l.path)
	}
	return dirs
}

// removeTableData deletes a managed table's directory and its partitions' custom locations.
func (w *Warehouse) removeTableData(t *table) {
	for _, p := range t.Partitions {
		w.removeLocation(p.Location)
	}
	w.removeLocation(t.Location)
}

// localPath turns a LOCATION string (file:/x, file:///x or /x) into a local absolute path.
func localPath(loc string) (string, error) {
	l := loc
	switch {
	case strings.HasPrefix(l, "file://"):
		l = strings.TrimPrefix(l, "file://")
	case strings.HasPrefix(l, "file:"):
		l = strings.TrimPrefix(l, "file:")
	case strings.Contains(l, "://"):
		return "", fmt.Errorf("MetaException(message:the sandbox stores data on the local filesystem only, not at %s)", loc)
	}
	if !filepath.IsAbs(l) {
		return "", fmt.Errorf("MetaException(message:Relative path in absolute URI: %s)", loc)
	}
	return filepath.Clean(l), nil
}

// locationURI is how a location is shown in DESCRIBE FORMATTED and SHOW TABLE EXTENDED.
func locationURI(p string) string { return "file:" + filepath.ToSlash(p) }
