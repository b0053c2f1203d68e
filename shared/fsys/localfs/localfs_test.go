package localfs_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/fsys/fsystest"
	"github.com/hivemerge/hivemerge/shared/fsys/localfs"
)

func TestConformance(t *testing.T) {
	fsystest.Run(t, func(t *testing.T) fsystest.Fixture {
		return fsystest.Fixture{
			FS:        localfs.New(),
			Root:      t.TempDir(),
			WriteFile: WriteFile,
		}
	})
}

// WriteFile creates a sparse file of the given size.
func WriteFile(t *testing.T, name string, size int64, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(name, size); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(name, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}
