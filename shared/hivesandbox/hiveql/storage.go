package hiveql

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// dataFile is one file a statement reads.
type dataFile struct {
	path string
	size int64
}

// hidden reports names Hive's input formats skip (FileUtils.HIDDEN_FILES_PATH_FILTER).
func hidden(name string) bool { return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") }

// listFiles lists the visible regular files directly under dir, sorted by name. A missing
// directory is an empty location, as for Hive.
func listFiles(dir string) ([]dataFile, error) {
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var files []dataFile
	for _, e := range ents {
		if e.IsDir() || hidden(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return nil, fmt.Errorf("stat %s: %w", e.Name(), err)
		}
		if !info.Mode().IsRegular() {
			continue
		}
		files = append(files, dataFile{path: filepath.Join(dir, e.Name()), size: info.Size()})
	}
	return files, nil
}

// acidDir is a base_N or delta_min_max[_stmt] directory of a transactional table.
type acidDir struct {
	name     string
	base     bool
	min, max int64
}

func parseAcidDir(name string) (acidDir, bool) {
	switch {
	case strings.HasPrefix(name, "base_"):
		rest := strings.TrimPrefix(name, "base_")
		if i := strings.IndexByte(rest, '_'); i >= 0 { // base_N_vM
			rest = rest[:i]
		}
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return acidDir{}, false
		}
		return acidDir{name: name, base: true, max: n}, true
	case strings.HasPrefix(name, "delta_"):
		parts := strings.Split(strings.TrimPrefix(name, "delta_"), "_")
		if len(parts) < 2 {
			return acidDir{}, false
		}
		lo, err1 := strconv.ParseInt(parts[0], 10, 64)
		hi, err2 := strconv.ParseInt(parts[1], 10, 64)
		if err1 != nil || err2 != nil {
			return acidDir{}, false
		}
		return acidDir{name: name, min: lo, max: hi}, true
	}
	return acidDir{}, false
}

// acidSnapshot picks the directories a reader sees, like AcidUtils.getAcidState: the newest
// base, then the deltas above it, skipping deltas covered by a wider one. obsolete lists the
// directories a cleaner may remove. Only write ids up to maxWID are considered.
func acidSnapshot(loc string, maxWID int64) (current, obsolete []acidDir, err error) {
	ents, err := os.ReadDir(loc)
	if os.IsNotExist(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list %s: %w", loc, err)
	}
	var bases, deltas []acidDir
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		d, ok := parseAcidDir(e.Name())
		if !ok || maxWID > 0 && d.max > maxWID {
			continue
		}
		if d.base {
			bases = append(bases, d)
		} else {
			deltas = append(deltas, d)
		}
	}
	var baseWID int64
	if len(bases) > 0 {
		slices.SortFunc(bases, func(a, b acidDir) int { return int(b.max - a.max) })
		current = append(current, bases[0])
		baseWID = bases[0].max
		obsolete = append(obsolete, bases[1:]...)
	}
	slices.SortFunc(deltas, func(a, b acidDir) int {
		if a.min != b.min {
			return cmpInt64(a.min, b.min)
		}
		if a.max != b.max {
			return cmpInt64(b.max, a.max)
		}
		return strings.Compare(a.name, b.name)
	})
	covered := baseWID
	for _, d := range deltas {
		if d.max > covered {
			current = append(current, d)
			covered = d.max
		} else {
			obsolete = append(obsolete, d)
		}
	}
	return current, obsolete, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// locationFiles lists the files a reader of one table or partition location sees.
func locationFiles(t *table, loc string) ([]dataFile, error) {
	if !t.transactional() {
		return listFiles(loc)
	}
	dirs, _, err := acidSnapshot(loc, 0)
	if err != nil {
		return nil, err
	}
	var files []dataFile
	for _, d := range dirs {
		fs, err := listFiles(filepath.Join(loc, d.name))
		if err != nil {
			return nil, err
		}
		files = append(files, fs...)
	}
	return files, nil
}

// splitLines calls fn for each line of data (without its newline).
func splitLines(data []byte, fn func(line []byte) error) error {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		if i < 0 {
			line, data = data, nil
		} else {
			line, data = data[:i], data[i+1:]
		}
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if err := fn(line); err != nil {
			return err
		}
	}
	return nil
}

// decodeRow splits one line into the table's data columns and appends the partition values.
func decodeRow(t *table, line []byte, delim string, partVals []any, row []any) []any {
	row = row[:0]
	rest := line
	for _, c := range t.Columns {
		if rest == nil {
			row = append(row, nil)
			continue
		}
		var field []byte
		if i := bytes.Index(rest, []byte(delim)); i >= 0 {
			field, rest = rest[:i], rest[i+len(delim):]
		} else {
			field, rest = rest, nil
		}
		row = append(row, parseValue(string(field), c.Type))
	}
	return append(row, partVals...)
}

// encodeRow renders the data columns of a row as one line, newline included.
func encodeRow(b []byte, vals []any, delim string) []byte {
	for i, v := range vals {
		if i > 0 {
			b = append(b, delim...)
		}
		b = append(b, formatValue(v)...)
	}
	return append(b, '\n')
}

// writeFileAtomic writes data to path through a hidden temporary file, so readers never see
// a partial data file.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "._tmp."+filepath.Base(path))
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// fsStats are the live file statistics of SHOW TABLE EXTENDED.
type fsStats struct {
	files               int
	total, maxSz, minSz int64
	lastAccess, lastMod int64 // milliseconds
}

// liveStats lists each location non-recursively, like Hive's writeFileSystemStats.
func liveStats(locs []string) fsStats {
	var s fsStats
	s.minSz = -1
	for _, loc := range locs {
		st, err := os.Stat(loc)
		if err != nil || !st.IsDir() {
			continue
		}
		s.lastAccess = max(s.lastAccess, accessTimeMillis(st))
		s.lastMod = max(s.lastMod, st.ModTime().UnixMilli())
		ents, err := os.ReadDir(loc)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.IsDir() {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue
			}
			s.files++
			sz := info.Size()
			s.total += sz
			s.maxSz = max(s.maxSz, sz)
			if s.minSz < 0 || sz < s.minSz {
				s.minSz = sz
			}
			s.lastAccess = max(s.lastAccess, accessTimeMillis(info))
			s.lastMod = max(s.lastMod, info.ModTime().UnixMilli())
		}
	}
	if s.minSz < 0 {
		s.minSz = 0
	}
	return s
}

// basicStats are a location's numFiles, totalSize, numRows and rawDataSize.
type basicStats struct {
	files, rows, total, raw int64
}

// scanStats computes basic statistics by reading every file, as ANALYZE TABLE does.
func scanStats(t *table, loc string, countRows bool) (basicStats, error) {
	files, err := locationFiles(t, loc)
	if err != nil {
		return basicStats{}, err
	}
	var s basicStats
	for _, f := range files {
		s.files++
		s.total += f.size
		if !countRows {
			continue
		}
		data, err := os.ReadFile(f.path)
		if err != nil {
			return basicStats{}, fmt.Errorf("read %s: %w", f.path, err)
		}
		splitLines(data, func(line []byte) error {
			s.rows++
			s.raw += int64(len(line))
			return nil
		})
	}
	return s, nil
}
