package fsystest

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/fsys"
)

// Walk counts the files and bytes under a local location (file:// or a bare path) with the
// standard library, skipping the names Hive skips ('.' and '_' prefixes): an oracle that
// shares no code with the listings it checks.
func Walk(t testing.TB, location string) (files, bytes int64) {
	t.Helper()
	l, err := fsys.ParseLocation(location)
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(l.Path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != l.Path && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			files++
			bytes += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", location, err)
	}
	return files, bytes
}
