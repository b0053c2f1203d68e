// Package snapshot records what a directory held so a merge can prove nothing changed, carry
// late files over, and delete only what it read.
//
// A merge takes a Snapshot of a partition's directory before it reads it, writes the merged
// files to a new directory and, before repointing the table there, checks with Changed that
// the old directory still holds exactly what it read. A writer whose job resolved the old
// location earlier can still commit files there afterwards: CarryOver moves those into the
// live directory, at the swap and again when Cleanup finally deletes the backup. Cleanup
// deletes only the files of the snapshot, as they were when read, and never while the table
// points at the backup.
//
// Nothing here renames a directory: files move one at a time with fsys.FS.MoveFile, which on
// an object store is a copy and a delete of one object.
package snapshot

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/scan"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// File is one data file of a snapshot.
type File struct {
	Path    string    // relative to the directory, slash-separated, visible at every level
	Size    int64     // bytes
	ModTime time.Time // to the millisecond (HDFS keeps no more), UTC
}

// Snapshot is what a directory held: its visible data files, recursively, as Hive reads them
// (names starting with '.' or '_' are skipped at every level, as Hadoop input formats do).
//
// It is meant to be recorded on a task document: its JSON is compact (each file is a
// [path, size, mtime-in-ms] triple, about 40 bytes plus the name; 2,000 files with 66-character
// names take under 200 KB, see TestJSONSize). The fingerprint is checked again when it is
// decoded, so a damaged or edited record is refused rather than trusted for deletions.
type Snapshot struct {
	Fingerprint string `json:"fingerprint"` // hex SHA-256 of the files, in path order
	Count       int    `json:"count"`
	Bytes       int64  `json:"bytes"`
	Files       []File `json:"files"` // sorted by Path
}

// New builds a snapshot of files (in any order).
func New(files []File) Snapshot {
	files = slices.Clone(files)
	for i := range files {
		files[i].ModTime = millis(files[i].ModTime)
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	s := Snapshot{Count: len(files), Files: files, Fingerprint: fingerprint(files)}
	for _, f := range files {
		s.Bytes += f.Size
	}
	return s
}

func millis(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// fingerprint hashes length-prefixed paths with sizes and times, so no name can mimic another
// entry's boundaries.
func fingerprint(files []File) string {
	h := sha256.New()
	var b []byte
	for _, f := range files {
		b = binary.AppendUvarint(b[:0], uint64(len(f.Path)))
		b = append(b, f.Path...)
		b = binary.AppendVarint(b, f.Size)
		b = binary.AppendVarint(b, f.ModTime.UnixMilli())
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Validate checks that every path is relative, clean and visible, that none repeats and that
// the fingerprint and totals match the files. CarryOver and Cleanup call it: the paths they
// are given decide what is moved and deleted.
func (s Snapshot) Validate() error {
	var bytes int64
	for i, f := range s.Files {
		if err := checkPath(f.Path); err != nil {
			return err
		}
		if i > 0 && s.Files[i-1].Path >= f.Path {
			return merge.Errorf(merge.ErrInvalid, "snapshot: files are not sorted or %q repeats", f.Path)
		}
		bytes += f.Size
	}
	if s.Count != len(s.Files) || s.Bytes != bytes || s.Fingerprint != fingerprint(s.Files) {
		return merge.Errorf(merge.ErrInvalid, "snapshot: fingerprint or totals do not match its files")
	}
	return nil
}

func checkPath(p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
		return merge.Errorf(merge.ErrInvalid, "snapshot: path %q is not a clean relative path", p)
	}
	for elem := range strings.SplitSeq(p, "/") {
		if scan.Hidden(elem) {
			return merge.Errorf(merge.ErrInvalid, "snapshot: path %q is hidden", p)
		}
	}
	return nil
}

// MarshalJSON writes a file as [path, size, mtime in Unix milliseconds].
func (f File) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{f.Path, f.Size, f.ModTime.UnixMilli()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (f *File) UnmarshalJSON(b []byte) error {
	var t [3]json.RawMessage
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	var ms int64
	if err := errors.Join(json.Unmarshal(t[0], &f.Path), json.Unmarshal(t[1], &f.Size), json.Unmarshal(t[2], &ms)); err != nil {
		return err
	}
	f.ModTime = time.UnixMilli(ms).UTC()
	return nil
}

// UnmarshalJSON decodes and validates.
func (s *Snapshot) UnmarshalJSON(b []byte) error {
	type plain Snapshot // without this method
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if err := Snapshot(p).Validate(); err != nil {
		return err
	}
	*s = Snapshot(p)
	return nil
}

// Take lists dir recursively and records its visible files.
func Take(ctx context.Context, fs fsys.FS, dir string) (Snapshot, error) {
	t, err := walk(ctx, fs, dir, false)
	if err != nil {
		return Snapshot{}, err
	}
	return New(t.visible), nil
}

// tree is a directory's content, paths relative to it.
type tree struct {
	visible []File   // the files Take records
	hidden  []string // files under a hidden name, at any level
	dirs    []string // subdirectories, hidden ones included, parents before children
}

// walk lists dir and its subdirectories, hidden ones too when withHidden is set (Cleanup must
// know what they hold). A subdirectory that disappears while walking is no longer part of the
// tree.
func walk(ctx context.Context, fs fsys.FS, dir string, withHidden bool) (tree, error) {
	var t tree
	type todo struct {
		rel    string
		hidden bool
	}
	queue := []todo{{}}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		err := fs.List(ctx, path.Join(dir, d.rel), func(page []fsys.Entry) error {
			for _, e := range page {
				rel := path.Join(d.rel, e.Name)
				hidden := d.hidden || scan.Hidden(e.Name)
				switch {
				case e.IsDir && (withHidden || !hidden):
					queue = append(queue, todo{rel, hidden})
					t.dirs = append(t.dirs, rel)
				case e.IsDir:
					// hidden and not wanted: not listed at all
				case hidden:
					t.hidden = append(t.hidden, rel)
				default:
					t.visible = append(t.visible, File{Path: rel, Size: e.Size, ModTime: millis(e.ModTime)})
				}
			}
			return nil
		})
		if err != nil && (d.rel == "" || !errors.Is(err, fsys.ErrNotExist)) {
			return tree{}, err
		}
	}
	slices.SortFunc(t.visible, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	slices.Sort(t.hidden)
	return t, nil
}

// Diff is how a directory differs from a snapshot; paths are relative and sorted.
type Diff struct {
	Added    []string `json:"added,omitempty"`
	Removed  []string `json:"removed,omitempty"`
	Modified []string `json:"modified,omitempty"` // another size or modification time
}

// Empty reports whether nothing changed.
func (d Diff) Empty() bool { return len(d.Added)+len(d.Removed)+len(d.Modified) == 0 }

// Changed compares dir now with snap.
func Changed(ctx context.Context, fs fsys.FS, dir string, snap Snapshot) (Diff, error) {
	now, err := Take(ctx, fs, dir)
	if err != nil {
		return Diff{}, err
	}
	return Compare(snap, now), nil
}

// Compare lists what changed from old to cur.
func Compare(old, cur Snapshot) Diff {
	var d Diff
	i, j := 0, 0
	for i < len(old.Files) || j < len(cur.Files) {
		switch {
		case j == len(cur.Files) || i < len(old.Files) && old.Files[i].Path < cur.Files[j].Path:
			d.Removed = append(d.Removed, old.Files[i].Path)
			i++
		case i == len(old.Files) || cur.Files[j].Path < old.Files[i].Path:
			d.Added = append(d.Added, cur.Files[j].Path)
			j++
		default:
			if !same(old.Files[i], cur.Files[j]) {
				d.Modified = append(d.Modified, cur.Files[j].Path)
			}
			i, j = i+1, j+1
		}
	}
	return d
}

func same(a, b File) bool {
	return a.Path == b.Path && a.Size == b.Size && a.ModTime.UnixMilli() == b.ModTime.UnixMilli()
}

// find returns the snapshot's file at rel.
func (s Snapshot) find(rel string) (File, bool) {
	i, ok := slices.BinarySearchFunc(s.Files, rel, func(f File, rel string) int { return cmp.Compare(f.Path, rel) })
	if !ok {
		return File{}, false
	}
	return s.Files[i], true
}

// maxCopies bounds the names CarryOver tries for one file.
const maxCopies = 1000

// CarryOver moves every visible file of oldDir whose path is not in snap (it arrived after the
// snapshot) to the same relative path in newDir, creating directories as needed. A name taken
// in newDir (a merged output file may share it) gets Hive's copy suffix instead:
// 000000_0_copy_1, part-1_copy_1.orc; nothing is ever overwritten. Files of snap that were
// modified since stay where they are (Changed reports them; Cleanup keeps them).
//
// It returns the paths, relative to newDir, of the files it moved, also when it stops at an
// error. Running it again, or after a crash midway, moves only what is still left: names are
// tried in the same order each time, so a move that an object store left half done (copied,
// not yet deleted) is finished by MoveFile instead of being copied a second time.
func CarryOver(ctx context.Context, fs fsys.FS, snap Snapshot, oldDir, newDir string) (moved []string, err error) {
	if err := snap.Validate(); err != nil {
		return nil, err
	}
	if overlap(oldDir, newDir) {
		return nil, merge.Errorf(merge.ErrInvalid, "carry over from %s to %s: one is inside the other", oldDir, newDir)
	}
	t, err := walk(ctx, fs, oldDir, false)
	if err != nil {
		return nil, err
	}
	for _, f := range t.visible {
		if _, ok := snap.find(f.Path); ok {
			continue
		}
		to, err := moveFree(ctx, fs, path.Join(oldDir, f.Path), newDir, f.Path)
		if err != nil {
			return moved, err
		}
		moved = append(moved, to)
	}
	return moved, nil
}

// moveFree moves src to rel in dir or, when that is taken, to the first free copy name.
func moveFree(ctx context.Context, fs fsys.FS, src, dir, rel string) (string, error) {
	return free(ctx, fs, "move", src, dir, rel, func(dst string) error { return fs.MoveFile(ctx, src, dst) })
}

// free puts src at rel in dir with put, or at the first free copy name when put finds the
// name taken (fsys.ErrExist).
func free(ctx context.Context, fs fsys.FS, op, src, dir, rel string, put func(dst string) error) (string, error) {
	if err := fs.MkdirAll(ctx, path.Dir(path.Join(dir, rel))); err != nil {
		return "", err
	}
	for n := range maxCopies {
		name := copyName(rel, n)
		err := put(path.Join(dir, name))
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, fsys.ErrExist) {
			return "", err
		}
	}
	return "", &fsys.PathError{Op: op, Path: src, Kind: fsys.ErrExist, Err: fmt.Errorf("%d names taken in %s", maxCopies, dir)}
}

// Copy copies the files rels (paths relative to oldDir) into newDir, each at the same
// relative path or, when that is taken, under Hive's copy name, as CarryOver names them;
// nothing is overwritten and the originals stay. It returns the files as copied (paths
// relative to oldDir; size and modification time of the version copied), to be added to the
// snapshot of what a merge took, and their paths relative to newDir, also when it stops at
// an error.
func Copy(ctx context.Context, fs fsys.FS, oldDir string, rels []string, newDir string) (copied []File, names []string, err error) {
	if overlap(oldDir, newDir) {
		return nil, nil, merge.Errorf(merge.ErrInvalid, "copy from %s to %s: one is inside the other", oldDir, newDir)
	}
	for _, rel := range rels {
		if err := checkPath(rel); err != nil {
			return copied, names, err
		}
		src := path.Join(oldDir, rel)
		var e fsys.Entry
		name, err := free(ctx, fs, "copy", src, newDir, rel, func(dst string) (err error) {
			e, err = fs.CopyFile(ctx, src, dst)
			return err
		})
		if err != nil {
			return copied, names, err
		}
		copied = append(copied, File{Path: rel, Size: e.Size, ModTime: millis(e.ModTime)})
		names = append(names, name)
	}
	return copied, names, nil
}

// copyName is Hive's name for the n-th copy of a file whose name is taken: the suffix goes
// before the extension.
func copyName(rel string, n int) string {
	if n == 0 {
		return rel
	}
	dir, base := path.Split(rel)
	ext := path.Ext(base)
	return fmt.Sprintf("%s%s_copy_%d%s", dir, strings.TrimSuffix(base, ext), n, ext)
}

// overlap reports whether a and b are the same directory or one is inside the other.
func overlap(a, b string) bool {
	a, b = path.Clean("/"+a), path.Clean("/"+b)
	inside := func(x, dir string) bool { return x == dir || dir == "/" || strings.HasPrefix(x, dir+"/") }
	return inside(a, b) || inside(b, a)
}

// CleanupResult is what Cleanup did; paths are relative.
type CleanupResult struct {
	Carried []string `json:"carried,omitempty"` // late files moved to the live directory first
	Deleted []string `json:"deleted,omitempty"` // files of the snapshot deleted from the backup
	Kept    []Kept   `json:"kept,omitempty"`    // files left in the backup
	// Removed is true when the backup directory is gone (it was empty, or already gone).
	Removed bool `json:"removed"`
}

// Kept is a file Cleanup left in the backup, and why.
type Kept struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Reasons a file is kept.
const (
	KeptModified = "modified since the snapshot: not the file the merge read"
	KeptHidden   = "hidden name: not read by the merge"
	KeptLate     = "arrived during the cleanup: the next one carries it over"
)

// Cleanup deletes a merge's backup directory: it first carries late files over to live (the
// directory the table points at now, on the same filesystem), then deletes the files of snap
// that are still as the merge read them (same size and modification time), then removes the
// directories left empty (hidden ones too: an empty directory holds no rows), the backup
// itself last. Anything else stays, and the result says
// why; the backup is never deleted recursively, so a file nobody read cannot be lost.
//
// It refuses (merge.ErrConflict) while live is backupDir, inside it or contains it: the table
// would lose, or see change, the files being deleted. A backup already gone is success, so
// Cleanup can be repeated.
func Cleanup(ctx context.Context, fs fsys.FS, snap Snapshot, backupDir, live string) (CleanupResult, error) {
	var res CleanupResult
	if err := snap.Validate(); err != nil {
		return res, err
	}
	if live == "" || backupDir == "" {
		return res, merge.Errorf(merge.ErrInvalid, "cleanup needs the backup and the table's location")
	}
	if overlap(live, backupDir) {
		return res, merge.Errorf(merge.ErrConflict, "backup %s is not deleted: the table's location %s is it, in it or around it", backupDir, live)
	}
	if _, err := fs.Stat(ctx, backupDir); errors.Is(err, fsys.ErrNotExist) {
		res.Removed = true
		return res, nil
	}
	carried, err := CarryOver(ctx, fs, snap, backupDir, live)
	res.Carried = carried
	if err != nil {
		return res, err
	}
	t, err := walk(ctx, fs, backupDir, true)
	if errors.Is(err, fsys.ErrNotExist) {
		res.Removed = true
		return res, nil
	}
	if err != nil {
		return res, err
	}
	for _, f := range t.visible {
		if read, ok := snap.find(f.Path); !ok || !same(read, f) {
			continue // reported below
		}
		if err := fs.Remove(ctx, path.Join(backupDir, f.Path)); err != nil && !errors.Is(err, fsys.ErrNotExist) {
			return res, err
		}
		res.Deleted = append(res.Deleted, f.Path)
	}
	// Deepest first; a directory that is not empty (ErrExist) simply stays.
	for _, d := range slices.Backward(t.dirs) {
		if err := fs.Remove(ctx, path.Join(backupDir, d)); err != nil && !errors.Is(err, fsys.ErrExist) && !errors.Is(err, fsys.ErrNotExist) {
			return res, err
		}
	}
	switch err := fs.Remove(ctx, backupDir); {
	case err == nil, errors.Is(err, fsys.ErrNotExist):
		res.Removed = true
		return res, nil
	case !errors.Is(err, fsys.ErrExist):
		return res, err
	}
	// Report what is left now, files that arrived during the cleanup included.
	left, err := walk(ctx, fs, backupDir, true)
	if errors.Is(err, fsys.ErrNotExist) {
		res.Removed = true // emptied meanwhile: an object store's directory then vanishes
		return res, nil
	}
	if err != nil {
		return res, err
	}
	for _, f := range left.visible {
		reason := KeptLate
		if _, ok := snap.find(f.Path); ok {
			reason = KeptModified
		}
		res.Kept = append(res.Kept, Kept{f.Path, reason})
	}
	for _, h := range left.hidden {
		res.Kept = append(res.Kept, Kept{h, KeptHidden})
	}
	return res, nil
}
