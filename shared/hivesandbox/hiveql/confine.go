package hiveql

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// The sandbox runs as a local user (often root) and deletes or replaces the files at a table's
// location on DROP, INSERT OVERWRITE, CONCATENATE and compaction. A client that could point a
// LOCATION anywhere could therefore wipe any directory of the machine, so every location the
// engine stores or acts on must lie strictly below an allowed root: the directory given to Open,
// plus the roots added by AllowLocations. Paths are compared after cleaning and after resolving
// the symbolic links of their existing prefix, so neither '..' nor a link can lead outside.

// AllowLocations adds directories below which tables, partitions and databases may have their
// LOCATION, beside the warehouse directory itself. Each root must exist. The catalog's existing
// locations are checked again, so that tables refused when the warehouse was opened become
// usable once their root is allowed.
func (w *Warehouse) AllowLocations(roots ...string) error {
	var resolved []string
	for _, r := range roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			return fmt.Errorf("allow location root %s: %w", r, err)
		}
		dir, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return fmt.Errorf("allow location root %s: %w", r, err)
		}
		if fi, err := os.Stat(dir); err != nil {
			return fmt.Errorf("allow location root %s: %w", r, err)
		} else if !fi.IsDir() {
			return fmt.Errorf("allow location root %s: not a directory", r)
		}
		if dir == string(filepath.Separator) {
			return fmt.Errorf("allow location root %s: the filesystem root cannot be allowed", r)
		}
		resolved = append(resolved, dir)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rootsMu.Lock()
	for _, r := range resolved {
		if !slices.Contains(w.roots, r) {
			w.roots = append(w.roots, r)
		}
	}
	w.rootsMu.Unlock()
	w.checkCatalogLocked()
	w.wakeCompactor()
	return nil
}

// allowedRoots returns the resolved allowed roots, the warehouse directory first.
func (w *Warehouse) allowedRoots() []string {
	w.rootsMu.RLock()
	defer w.rootsMu.RUnlock()
	return slices.Clone(w.roots)
}

// checkLocation tells whether loc, an absolute local path, may be a table, partition or
// database location: strictly below an allowed root, and neither equal to nor above a root,
// the default database's directory or the catalog, which a DROP of it would delete.
func (w *Warehouse) checkLocation(loc string) error {
	roots := w.allowedRoots()
	got, err := resolvePath(loc)
	if err != nil {
		return fmt.Errorf("the sandbox refuses location %s: %w", loc, err)
	}
	for _, p := range append(roots, w.reserved...) {
		if got == p || within(p, got) {
			return fmt.Errorf("the sandbox refuses location %s: it is or contains %s, which a DROP would delete; use a directory below it", loc, p)
		}
	}
	inside := false
	for _, r := range roots {
		if within(got, r) {
			inside = true
			break
		}
	}
	if !inside {
		return fmt.Errorf("the sandbox refuses location %s: it is outside the allowed roots %s (add one with AllowLocations or hivesandbox -allow-dir)", loc, strings.Join(roots, ", "))
	}
	return nil
}

// within reports whether p lies strictly below dir; both are cleaned absolute paths.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != "." && filepath.IsLocal(rel)
}

// resolvePath resolves the symbolic links of the deepest existing ancestor of p, an absolute
// path, and appends the rest: what a later MkdirAll or RemoveAll of p would really reach.
func resolvePath(p string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", errors.New("not an absolute path")
	}
	p = filepath.Clean(p)
	var rest []string
	for cur := p; ; {
		target, err := filepath.EvalSymlinks(cur)
		if err == nil {
			slices.Reverse(rest)
			return filepath.Join(append([]string{target}, rest...)...), nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return "", err
		}
		// A dangling link resolves nowhere yet but would be followed once its target is
		// created, so only a truly missing name is resolved through its parent.
		if _, lerr := os.Lstat(cur); lerr == nil {
			return "", fmt.Errorf("%s is a symbolic link whose target does not exist", cur)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p, nil
		}
		rest = append(rest, filepath.Base(cur))
		cur = parent
	}
}

// checkCatalogLocked marks every database and table whose stored location or name the sandbox
// refuses, for a catalog read from disk (a hand-edited metastore.json must not lead outside the
// roots, nor name a table the parser would refuse). A marked table refuses every statement; the caller holds w.mu.
func (w *Warehouse) checkCatalogLocked() {
	for _, d := range w.cat.Databases {
		d.locErr = nil
		switch {
		case !validName(d.Name):
			d.locErr = fmt.Errorf("%s is not a valid database name", d.Name)
		case d.Name != defaultDB || d.Location != w.root:
			d.locErr = w.checkLocation(d.Location)
		}
		for _, t := range d.Tables {
			if !validName(t.Name) {
				t.locErr = fmt.Errorf("%s is not a valid table name", t.Name)
				continue
			}
			t.locErr = w.checkLocation(t.Location)
			for _, n := range slices.Sorted(maps.Keys(t.Partitions)) {
				if t.locErr != nil {
					break
				}
				if err := w.checkLocation(t.Partitions[n].Location); err != nil {
					t.locErr = fmt.Errorf("partition %s: %w", n, err)
				}
			}
		}
	}
}

// refusedTable is the compile error of a statement touching a table whose catalog entry
// names a location the sandbox refuses.
func refusedTable(t *table) *Error {
	return genericSemanticError(fmt.Sprintf("Table %s.%s cannot be used: %v; correct its entry in metastore.json", t.DB, t.Name, t.locErr))
}

// refusedDatabase is refusedTable for a database.
func refusedDatabase(d *database) *Error {
	return genericSemanticError(fmt.Sprintf("Database %s cannot be used: %v; correct its entry in metastore.json", d.Name, d.locErr))
}

// refusedLocation is the compile error of a statement naming a location the sandbox refuses.
func refusedLocation(err error) *Error {
	return genericSemanticError(err.Error())
}

// refusedLocationAtRun is the same refusal found at execution, from the metastore.
func refusedLocationAtRun(err error) *Error {
	return ddlError(fmt.Sprintf("MetaException(message:%v)", err))
}

// removeLocation deletes a table, partition or database directory, but only one the sandbox
// may act on: the last guard before data is deleted.
func (w *Warehouse) removeLocation(loc string) {
	if w.checkLocation(loc) != nil {
		return
	}
	os.RemoveAll(loc)
}

// A table's DROP deletes its directory and its partitions' directories, its INSERT OVERWRITE
// the visible files of a location, and DROP DATABASE CASCADE its database's directory. So that
// none of them reaches another table's files, the catalog's locations must not overlap:
//
//   - a table's or partition's location is not, does not contain and does not lie inside the
//     location of another table or of another table's partition;
//   - a partition's location neither is nor contains its own table's location, nor overlaps
//     another partition of its table; lying inside its table's directory is the normal case;
//   - no table or partition location is or contains a database directory, nor lies inside
//     the directory of a database other than its own (the default database's directory,
//     the warehouse, holds every other database and cannot be dropped);
//   - a database's directory overlaps neither another database's nor any location of a table.
//
// Two exceptions serve the merge engine, which writes a partition's merged files through a
// temporary EXTERNAL table located in a new hidden directory inside the source table, points
// the partition there and drops the temporary table. A hidden directory (a path element
// starting with '.' or '_') is skipped by readers and by INSERT OVERWRITE of the location it
// lies in, so:
//
//   - an EXTERNAL table, or a partition of one, may lie inside another table's location below
//     a hidden element, and thereby inside that table's database;
//   - ALTER TABLE [PARTITION] SET LOCATION may move a table or partition to, or inside, an
//     EXTERNAL table's location when the new location lies below a hidden element inside the
//     table's current directory or its database's (a hidden sibling): dropping an external
//     table deletes no files.
//
// Such a guest lives and dies with its host: the host's DROP deletes the guest's directory.
// An EXTERNAL table becomes managed only where a managed table could be created, so a staging
// table that a partition has joined stays external. Last, DROP, INSERT OVERWRITE and
// CONCATENATE refuse to delete or replace a directory that holds another table's files other
// than such a guest's (checkDropLocked): while a partition shares a staging table's directory,
// neither table may drop or overwrite it, and the staging table is dropped first.

// locationUse tells what a location is proposed for.
type locationUse struct {
	db string // the database of the table, or the new database
	// table is the table whose location or partition changes; nil for a new table.
	table *table
	// partition is the partition's name when the location is a partition's.
	partition string
	external  bool // the location is an EXTERNAL table's
	database  bool // the location is a new database's
}

// checkOverlapLocked refuses loc for u when it overlaps a location of the catalog, by the
// rules above; loc has passed checkLocation. The caller holds w.mu.
func (w *Warehouse) checkOverlapLocked(loc string, u locationUse) error {
	got, err := resolvePath(loc)
	if err != nil {
		return fmt.Errorf("the sandbox refuses location %s: %w", loc, err)
	}
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("the sandbox refuses location %s: %s, so dropping or overwriting one would delete the other's files", loc, fmt.Sprintf(format, args...))
	}
	// home is the resolved current location of the table whose location changes, and
	// homeDB its database's directory: hidden directories below them are the table's own.
	var home, homeDB, homePart string
	if u.table != nil {
		if home, err = resolvePath(u.table.Location); err != nil {
			return refuse("its table's location %s does not resolve: %v", u.table.Location, err)
		}
		if d, ok := w.cat.Databases[u.db]; ok {
			homeDB, _ = resolvePath(d.Location)
		}
		// A partition with a custom location gets its hidden sibling beside that location.
		if p, ok := u.table.Partitions[u.partition]; ok && u.partition != "" {
			if pl, err := resolvePath(p.Location); err == nil {
				homePart = filepath.Dir(pl)
			}
		}
	}
	// joins tells whether got may be, or lie inside, the location of table y: y is EXTERNAL,
	// and got lies below a hidden element inside the changing table's own directory, its
	// database's, or the directory holding the changing partition's custom location.
	joins := func(y *table) bool {
		return u.table != nil && y.External && (hiddenBelow(got, home) || homeDB != "" && hiddenBelow(got, homeDB) ||
			homePart != "" && hiddenBelow(got, homePart))
	}
	dbNames := slices.Sorted(maps.Keys(w.cat.Databases))
	dbDirs := map[string]string{}
	for _, dn := range dbNames {
		d := w.cat.Databases[dn]
		if dn == defaultDB && d.Location == w.root {
			continue // reserved: checkLocation refuses it and all above it
		}
		dl, err := resolvePath(d.Location)
		if err != nil {
			continue // refused on its own when used
		}
		if got == dl || within(dl, got) {
			return refuse("it is or contains the directory of database %s", dn)
		}
		dbDirs[dn] = dl
	}
	// guestOf records the databases got lies in as an external table's hidden guest.
	guestOf := map[string]bool{}
	for _, dn := range dbNames {
		d := w.cat.Databases[dn]
		for _, tn := range slices.Sorted(maps.Keys(d.Tables)) {
			y := d.Tables[tn]
			if y == u.table && u.partition == "" {
				continue
			}
			for _, c := range locationsOf(y) {
				cl, err := resolvePath(c.path)
				if err != nil {
					continue // refused on its own when used
				}
				what := "table " + y.qualified()
				if c.partition != "" {
					what = "partition " + c.partition + " of table " + y.qualified()
				}
				if y == u.table {
					switch {
					case c.partition == "" && (got == cl || within(cl, got)):
						return refuse("it is or contains the location of its own table %s", y.qualified())
					case c.partition == "" || c.partition == u.partition:
					case got == cl:
						return refuse("it is the location of partition %s of its own table", c.partition)
					case within(cl, got):
						return refuse("it contains the location of partition %s of its own table", c.partition)
					case within(got, cl):
						return refuse("it lies inside the location of partition %s of its own table", c.partition)
					}
					continue
				}
				switch {
				case got == cl:
					if !joins(y) {
						return refuse("it is the location of %s", what)
					}
				case within(cl, got):
					return refuse("it contains the location of %s", what)
				case within(got, cl):
					switch {
					case joins(y):
					case !u.database && u.external && hiddenBelow(got, cl):
						guestOf[y.DB] = true
					default:
						return refuse("it lies inside the location of %s", what)
					}
				}
			}
		}
	}
	for _, dn := range dbNames {
		if dl, ok := dbDirs[dn]; ok && within(got, dl) && (u.database || dn != u.db && !guestOf[dn]) {
			return refuse("it lies inside the directory of database %s", dn)
		}
	}
	return nil
}

// heldLocation is one location a table's DROP deletes.
type heldLocation struct {
	path      string
	partition string // the partition's name; "" for the table's own location
}

// locationsOf lists the table's location and the locations of its partitions that do not lie
// at their default place inside it, which the table's location already covers.
func locationsOf(t *table) []heldLocation {
	locs := []heldLocation{{path: t.Location}}
	for _, n := range t.sortedPartitions() {
		if p := t.Partitions[n].Location; p != filepath.Join(t.Location, n) {
			locs = append(locs, heldLocation{path: p, partition: n})
		}
	}
	return locs
}

// hiddenBelow reports whether p lies strictly below dir with a hidden element between them.
func hiddenBelow(p, dir string) bool {
	if !within(p, dir) {
		return false
	}
	rel, _ := filepath.Rel(dir, p)
	return slices.ContainsFunc(strings.Split(rel, string(filepath.Separator)), hidden)
}

// checkDropLocked is the last check before the directories dirs are deleted along with the
// tables dropped accepts: no other table may have its location, or a partition's, at or
// inside one of them, but for an EXTERNAL guest below a hidden element, which goes with its
// host. The rules on new locations keep this from happening but where a partition joined an
// external staging table; a catalog written before them, or edited by hand, may not follow
// them at all. The caller holds w.mu.
func (w *Warehouse) checkDropLocked(dirs []string, dropped func(*table) bool) error {
	resolved := map[string]string{} // by the path as given
	for _, d := range dirs {
		if r, err := resolvePath(d); err == nil {
			resolved[d] = r // a path that does not resolve is never removed
		}
	}
	for _, dn := range slices.Sorted(maps.Keys(w.cat.Databases)) {
		tables := w.cat.Databases[dn].Tables
		for _, tn := range slices.Sorted(maps.Keys(tables)) {
			y := tables[tn]
			if dropped(y) {
				continue
			}
			// The table's location and its partitions' elsewhere, resolved once; the
			// partitions at their default place inside it need no resolving.
			yl, err := resolvePath(y.Location)
			if err != nil {
				continue // refused when used
			}
			held := []string{yl}
			for _, c := range locationsOf(y)[1:] {
				if p, err := resolvePath(c.path); err == nil {
					held = append(held, p)
				}
			}
			for _, dir := range dirs {
				d, ok := resolved[dir]
				if !ok {
					continue
				}
				holds := slices.ContainsFunc(held, func(p string) bool { return holdsFiles(y, p, d) })
				if !holds && within(d, yl) {
					for _, n := range y.sortedPartitions() {
						if y.Partitions[n].Location == filepath.Join(y.Location, n) && holdsFiles(y, filepath.Join(yl, n), d) {
							holds = true
							break
						}
					}
				}
				if holds {
					return fmt.Errorf("the sandbox refuses to delete %s: it holds the location of table %s", dir, y.qualified())
				}
			}
		}
	}
	return nil
}

// holdsFiles reports whether deleting directory d deletes the files of table y at p: p is d
// or lies inside it, and is not an EXTERNAL guest below a hidden element.
func holdsFiles(y *table, p, d string) bool {
	return (p == d || within(p, d)) && !(y.External && hiddenBelow(p, d))
}
