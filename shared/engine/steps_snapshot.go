package engine

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"path"
	"slices"
	"strconv"
	"time"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/scan"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// Snapshots is what safe_merge needs from the source files: a snapshot of the files it is about
// to read, a comparison with the directory just before the swap, and the carry-over of files a
// concurrent writer added after the snapshot into the live location. ListingSnapshots
// implements it over any fsys.FS.
type Snapshots interface {
	Take(ctx context.Context, fs fsys.FS, dir string) (*Snapshot, error)
	Changed(ctx context.Context, fs fsys.FS, dir string, snap *Snapshot) (Diff, error)
	// CarryOver moves the files under oldDir that snap does not list into newDir and returns
	// their paths relative to oldDir.
	CarryOver(ctx context.Context, fs fsys.FS, snap *Snapshot, oldDir, newDir string) ([]string, error)
}

// Snapshot is a listing of the data files under a directory (the names Hive reads, recursively).
// Its file set survives a worker restart in a compact form (SnapshotMark.Names): 8-byte hashes
// of each file's relative path, size and modification time.
type Snapshot struct {
	Fingerprint string
	Files       int64
	Bytes       int64
	TakenAt     time.Time
	// Paths are the relative paths, when the snapshot was taken by this process.
	Paths []string
	keys  []uint64 // sorted
}

// Has reports whether the snapshot lists the file at rel with that size and time.
func (s *Snapshot) Has(rel string, e fsys.Entry) bool {
	_, ok := slices.BinarySearch(s.keys, fileKey(rel, e))
	return ok
}

// MaxRecordedFiles bounds the file set a checkpoint records (8 bytes a file, in base64), so a
// task stays far below Firestore's 1 MiB document limit.
const MaxRecordedFiles = 40_000

// errNotRecorded means a snapshot was too large for its file set to be recorded.
var errNotRecorded = errors.New("the snapshot's file set was too large to record")

// Mark is the snapshot as a checkpoint records it; the file set only up to MaxRecordedFiles.
func (s *Snapshot) Mark() *merge.SnapshotMark {
	if len(s.keys) > MaxRecordedFiles {
		return &merge.SnapshotMark{Fingerprint: s.Fingerprint, Files: s.Files, Bytes: s.Bytes, TakenAt: s.TakenAt}
	}
	b := make([]byte, 8*len(s.keys))
	for i, k := range s.keys {
		binary.BigEndian.PutUint64(b[8*i:], k)
	}
	return &merge.SnapshotMark{Fingerprint: s.Fingerprint, Files: s.Files, Bytes: s.Bytes, TakenAt: s.TakenAt, Names: base64.StdEncoding.EncodeToString(b)}
}

// SnapshotOf rebuilds a snapshot from its checkpoint record.
func SnapshotOf(m *merge.SnapshotMark) (*Snapshot, error) {
	if m == nil {
		return nil, errors.New("no snapshot was recorded")
	}
	if m.Names == "" && m.Files > MaxRecordedFiles {
		return nil, errNotRecorded
	}
	b, err := base64.StdEncoding.DecodeString(m.Names)
	if err != nil || len(b)%8 != 0 || int64(len(b)/8) != m.Files {
		return nil, fmt.Errorf("the recorded snapshot's file set is damaged")
	}
	s := &Snapshot{Fingerprint: m.Fingerprint, Files: m.Files, Bytes: m.Bytes, TakenAt: m.TakenAt, keys: make([]uint64, len(b)/8)}
	for i := range s.keys {
		s.keys[i] = binary.BigEndian.Uint64(b[8*i:])
	}
	return s, nil
}

func fileKey(rel string, e fsys.Entry) uint64 {
	h := fnv.New64a()
	h.Write([]byte(rel))
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatInt(e.Size, 10)))
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatInt(e.ModTime.UnixNano(), 10)))
	return h.Sum64()
}

// Diff is how a directory changed since its snapshot. Modified files count as removed: the
// snapshot's version of them is gone.
type Diff struct {
	Added   []string // relative paths of files the snapshot does not list
	Removed int64    // snapshot files missing or changed
}

// ListingSnapshots snapshots by listing the directory.
type ListingSnapshots struct{}

var _ Snapshots = ListingSnapshots{}

// Take lists dir. A missing directory is an empty snapshot.
func (ListingSnapshots) Take(ctx context.Context, fs fsys.FS, dir string) (*Snapshot, error) {
	s := &Snapshot{TakenAt: time.Now().UTC()}
	h := sha256.New()
	type file struct {
		rel string
		e   fsys.Entry
	}
	var files []file
	err := walkFiles(ctx, fs, dir, func(rel string, e fsys.Entry) {
		files = append(files, file{rel, e})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b file) int {
		if a.rel < b.rel {
			return -1
		}
		if a.rel > b.rel {
			return 1
		}
		return 0
	})
	for _, f := range files {
		s.Files++
		s.Bytes += f.e.Size
		s.Paths = append(s.Paths, f.rel)
		s.keys = append(s.keys, fileKey(f.rel, f.e))
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", f.rel, f.e.Size, f.e.ModTime.UnixNano())
	}
	slices.Sort(s.keys)
	s.Fingerprint = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return s, nil
}

// Changed lists dir again and compares it with snap.
func (ListingSnapshots) Changed(ctx context.Context, fs fsys.FS, dir string, snap *Snapshot) (Diff, error) {
	var d Diff
	var found int64
	err := walkFiles(ctx, fs, dir, func(rel string, e fsys.Entry) {
		if snap.Has(rel, e) {
			found++
		} else {
			d.Added = append(d.Added, rel)
		}
	})
	d.Removed = snap.Files - found
	return d, err
}

// CarryOver moves the files snap does not list from oldDir into newDir.
func (ListingSnapshots) CarryOver(ctx context.Context, fs fsys.FS, snap *Snapshot, oldDir, newDir string) ([]string, error) {
	return moveFiles(ctx, fs, oldDir, newDir, func(rel string, e fsys.Entry) bool { return !snap.Has(rel, e) })
}

// walkFiles calls fn for every data file under dir with its path relative to dir, skipping the
// names Hive skips. A missing dir has no files.
func walkFiles(ctx context.Context, fs fsys.FS, dir string, fn func(rel string, e fsys.Entry)) error {
	dirs := []string{""}
	for len(dirs) > 0 {
		sub := dirs[len(dirs)-1]
		dirs = dirs[:len(dirs)-1]
		var found []fsys.Entry
		err := fs.List(ctx, path.Join(dir, sub), func(page []fsys.Entry) error {
			found = append(found, page...)
			return nil
		})
		if errors.Is(err, fsys.ErrNotExist) && sub == "" {
			return nil
		}
		if err != nil {
			return err
		}
		for _, e := range found {
			rel := path.Join(sub, e.Name)
			switch {
			case scan.Hidden(e.Name):
			case e.IsDir:
				dirs = append(dirs, rel)
			default:
				fn(rel, e)
			}
		}
	}
	return nil
}

// fileMover is a filesystem that moves single files on every backend, object stores included
// (where Rename is unsupported).
type fileMover interface {
	MoveFile(ctx context.Context, oldpath, newpath string) error
}

// moveFiles moves the files under from that pick selects to the same relative path under to,
// renaming a file whose name is taken there ("name_1", "name_2", ...) so nothing is
// overwritten. It returns the relative paths moved (as they were under from).
func moveFiles(ctx context.Context, fs fsys.FS, from, to string, pick func(rel string, e fsys.Entry) bool) ([]string, error) {
	var todo []string
	if err := walkFiles(ctx, fs, from, func(rel string, e fsys.Entry) {
		if pick(rel, e) {
			todo = append(todo, rel)
		}
	}); err != nil {
		return nil, err
	}
	move := fs.Rename
	if m, ok := fs.(fileMover); ok {
		move = m.MoveFile
	}
	var moved []string
	for _, rel := range todo {
		dst := path.Join(to, rel)
		if err := fs.MkdirAll(ctx, path.Dir(dst)); err != nil {
			return moved, err
		}
		for n := 1; ; n++ {
			err := move(ctx, path.Join(from, rel), dst)
			if err == nil {
				break
			}
			if !errors.Is(err, fsys.ErrExist) || n > 100 {
				return moved, fmt.Errorf("move %s to %s: %w", path.Join(from, rel), dst, err)
			}
			dst = path.Join(to, rel) + "_" + strconv.Itoa(n)
		}
		moved = append(moved, rel)
	}
	return moved, nil
}
