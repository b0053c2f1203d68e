package hiveql

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// AppendFile writes rows as a new data file into a table or partition location, the way an
// external writer (a streaming ingest, a concurrent job) would: the partition is registered if
// it is new, but statistics are left alone and go stale. Each row holds the data columns'
// text values (\N for NULL). It returns the new file's path.
func (w *Warehouse) AppendFile(ctx context.Context, db, table string, partition map[string]string, rows [][]string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	w.mu.Lock()
	t, ok := w.lookupTable(db, table)
	if !ok {
		w.mu.Unlock()
		return "", fmt.Errorf("append to %s.%s: %w", db, table, tableNotFound(db+"."+table))
	}
	if t.locErr != nil {
		w.mu.Unlock()
		return "", fmt.Errorf("append to %s.%s: %w", db, table, refusedTable(t))
	}
	loc := t.Location
	if t.partitioned() {
		if len(partition) != len(t.PartCols) {
			w.mu.Unlock()
			return "", fmt.Errorf("append to %s.%s: partition %v does not name every partition column", db, table, partition)
		}
		values := make([]string, len(t.PartCols))
		for i, c := range t.PartCols {
			v, ok := partition[c.Name]
			if !ok {
				w.mu.Unlock()
				return "", fmt.Errorf("append to %s.%s: partition column %s missing", db, table, c.Name)
			}
			nv, err := normalizePartValue(c, v, token{})
			if err != nil {
				w.mu.Unlock()
				return "", fmt.Errorf("append to %s.%s: %w", db, table, err)
			}
			values[i] = nv
		}
		name := partName(t.PartCols, values)
		p, ok := t.Partitions[name]
		if !ok {
			var err error
			if p, err = w.addPartitionLocked(t, values, filepath.Join(t.Location, name)); err != nil {
				w.mu.Unlock()
				return "", fmt.Errorf("append to %s.%s: %w", db, table, err)
			}
			if err := w.commit(); err != nil {
				w.mu.Unlock()
				return "", err
			}
		}
		loc = p.Location
	} else if len(partition) > 0 {
		w.mu.Unlock()
		return "", fmt.Errorf("append to %s.%s: table is not partitioned", db, table)
	}
	var dir, base string
	if t.transactional() {
		// A streaming writer commits one delta per transaction.
		t.NextWriteID++
		dir = filepath.Join(loc, fmt.Sprintf("delta_%07d_%07d_0000", t.NextWriteID, t.NextWriteID))
		base = bucketFileName(t, 0)
		if err := w.commit(); err != nil {
			w.mu.Unlock()
			return "", err
		}
	} else {
		dir, base = loc, "000000_0"
	}
	delim := t.delim()
	w.mu.Unlock()

	var data []byte
	for _, r := range rows {
		for i, f := range r {
			if i > 0 {
				data = append(data, delim...)
			}
			data = append(data, f...)
		}
		data = append(data, '\n')
	}
	if t.transactional() {
		tmp := filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp")
		if err := writeFileAtomic(filepath.Join(tmp, base), data); err != nil {
			return "", fmt.Errorf("append: %w", err)
		}
		if err := os.Rename(tmp, dir); err != nil {
			return "", fmt.Errorf("append: %w", err)
		}
		return filepath.Join(dir, base), nil
	}
	return writeUnique(dir, base, data)
}

// writeUnique writes data as a new file named base or base_copy_N, never replacing an
// existing file even when other writers pick names concurrently.
func writeUnique(dir, base string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("append: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "._append-*")
	if err != nil {
		return "", fmt.Errorf("append: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("append: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("append: %w", err)
	}
	return linkUnique(tmp.Name(), dir, base)
}

// linkUnique gives the file at src its first free name in Hive's base, base_copy_1, ...
// series; a hard link fails instead of replacing a file another writer just created.
func linkUnique(src, dir, base string) (string, error) {
	for n := 0; ; n++ {
		name := base
		if n > 0 {
			name = base + "_copy_" + strconv.Itoa(n)
		}
		dst := filepath.Join(dir, name)
		err := os.Link(src, dst)
		if err == nil {
			return dst, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("append: %w", err)
		}
	}
}
