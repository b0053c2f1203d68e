package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/fsys/snapshot"
)

// TestBackupRecordSize pins where a partition stops getting a backup record: its snapshot must
// fit merge.MaxBackupSnapshot, so a partition of 2,000 files does and a much larger one is
// refused (its backup is then never deleted automatically) rather than split.
func TestBackupRecordSize(t *testing.T) {
	at := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	files := func(n int) snapshot.Snapshot {
		fs := make([]snapshot.File, n)
		for i := range fs {
			fs[i] = snapshot.File{Path: fmt.Sprintf("%s%08d_0", strings.Repeat("d", 58), i), Size: 123456789, ModTime: at}
		}
		return snapshot.New(fs)
	}
	for _, c := range []struct {
		name  string
		files int
		ok    bool
	}{
		{"empty", 0, true},
		{"2,000 files", 2000, true},
		{"12,000 files", 12000, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			data, ok, err := encodeBackup(files(c.files))
			if err != nil || ok != c.ok {
				t.Errorf("encodeBackup(%d files) = %d bytes, ok %v, %v; want ok %v", c.files, len(data), ok, err, c.ok)
			}
		})
	}
}
