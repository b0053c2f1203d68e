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
