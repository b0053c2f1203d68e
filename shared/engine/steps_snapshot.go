package engine

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/snapshot"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// Snapshots is what safe_merge needs from the source files: a snapshot of the files it is about
// to read, a comparison with the directory just before the swap, and the carry-over of files a
// concurrent writer added after the snapshot into the live location. FileSnapshots implements
// it with package snapshot.
type Snapshots interface {
	Take(ctx context.Context, fs fsys.FS, dir string) (*Snapshot, error)
	Changed(ctx context.Context, fs fsys.FS, dir string, snap *Snapshot) (Diff, error)
	// CarryOver moves the files under oldDir that snap does not list into newDir and returns
	// their paths relative to newDir.
	CarryOver(ctx context.Context, fs fsys.FS, snap *Snapshot, oldDir, newDir string) ([]string, error)
}

// Snapshot is the record of the files a merge read. The full listing (package snapshot's) lives
// only in the worker that took it; a checkpoint keeps the compact form (SnapshotMark): the
// fingerprint, totals and an 8-byte hash of each file's path, which is all a resumed worker
// needs to tell late files from read ones after the swap.
type Snapshot struct {
	Fingerprint string
	Files       int64
	Bytes       int64
	TakenAt     time.Time
	// Paths are the relative paths, when the snapshot was taken by this worker.
	Paths []string
	full  *snapshot.Snapshot
	keys  []uint64 // sorted path hashes
}

// Has reports whether the snapshot lists a file at the relative path rel.
func (s *Snapshot) Has(rel string) bool {
	_, ok := slices.BinarySearch(s.keys, pathKey(rel))
	return ok
}

// MaxRecordedFiles bounds the file set a checkpoint records (8 bytes a file, in base64), so a
// task stays far below Firestore's 1 MiB document limit.
const MaxRecordedFiles = 40_000

// errNotRecorded means a snapshot was too large for its file set to be recorded.
var errNotRecorded = errors.New("the snapshot's file set was too large to record")

// Mark is the snapshot as a checkpoint records it; the file set only up to MaxRecordedFiles.
func (s *Snapshot) Mark() *merge.SnapshotMark {
	m := &merge.SnapshotMark{Fingerprint: s.Fingerprint, Files: s.Files, Bytes: s.Bytes, TakenAt: s.TakenAt}
	if len(s.keys) > MaxRecordedFiles {
		return m
	}
	b := make([]byte, 8*len(s.keys))
	for i, k := range s.keys {
		binary.BigEndian.PutUint64(b[8*i:], k)
	}
	m.Names = base64.StdEncoding.EncodeToString(b)
	return m
}

// SnapshotOf rebuilds a snapshot from its checkpoint record, without the full listing.
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

func pathKey(rel string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(rel))
	return h.Sum64()
}

func wrap(full snapshot.Snapshot, at time.Time) *Snapshot {
	s := &Snapshot{Fingerprint: full.Fingerprint, Files: int64(full.Count), Bytes: full.Bytes, TakenAt: at, full: &full}
	for _, f := range full.Files {
		s.Paths = append(s.Paths, f.Path)
		s.keys = append(s.keys, pathKey(f.Path))
	}
	slices.Sort(s.keys)
	return s
}

// with is s, taken by this worker, with files added.
func (s *Snapshot) with(files []snapshot.File) *Snapshot {
	return wrap(snapshot.New(append(slices.Clone(s.full.Files), files...)), s.TakenAt)
}

// Diff is how a directory changed since its snapshot. Modified files count as removed: the
// version read is gone.
type Diff struct {
	Added   []string // relative paths of files the snapshot does not list
	Removed int      // snapshot files missing or changed
}

// FileSnapshots takes snapshots with package snapshot.
type FileSnapshots struct{}

var _ Snapshots = FileSnapshots{}

// Take lists dir. A missing directory is an empty snapshot.
func (FileSnapshots) Take(ctx context.Context, fs fsys.FS, dir string) (*Snapshot, error) {
	at := time.Now().UTC()
	full, err := snapshot.Take(ctx, fs, dir)
	if errors.Is(err, fsys.ErrNotExist) {
		return wrap(snapshot.New(nil), at), nil
	}
	if err != nil {
		return nil, err
	}
	return wrap(full, at), nil
}

// Changed lists dir again and compares it with snap, which must have been taken by this worker.
func (FileSnapshots) Changed(ctx context.Context, fs fsys.FS, dir string, snap *Snapshot) (Diff, error) {
	if snap.full == nil {
		return Diff{}, errors.New("the snapshot's listing is not in this worker")
	}
	d, err := snapshot.Changed(ctx, fs, dir, *snap.full)
	if err != nil {
		return Diff{}, err
	}
	return Diff{Added: d.Added, Removed: len(d.Removed) + len(d.Modified)}, nil
}

// CarryOver moves the files snap does not list from oldDir into newDir. A snapshot rebuilt from
// a checkpoint has no listing: the files of oldDir whose paths it lists stand in for it.
func (FileSnapshots) CarryOver(ctx context.Context, fs fsys.FS, snap *Snapshot, oldDir, newDir string) ([]string, error) {
	full := snap.full
	if full == nil {
		rebuilt, err := keep(ctx, fs, oldDir, snap.Has)
		if err != nil {
			return nil, err
		}
		full = &rebuilt
	}
	return snapshot.CarryOver(ctx, fs, *full, oldDir, newDir)
}

// keep is a snapshot of the files of dir that pick selects.
func keep(ctx context.Context, fs fsys.FS, dir string, pick func(rel string) bool) (snapshot.Snapshot, error) {
	cur, err := snapshot.Take(ctx, fs, dir)
	if errors.Is(err, fsys.ErrNotExist) {
		return snapshot.New(nil), nil
	}
	if err != nil {
		return snapshot.Snapshot{}, err
	}
	var files []snapshot.File
	for _, f := range cur.Files {
		if pick(f.Path) {
			files = append(files, f)
		}
	}
	return snapshot.New(files), nil
}

// carryBack moves the files of the merged location that the merge did not write (late files a
// writer added while it was live) back to the original location.
func carryBack(ctx context.Context, fs fsys.FS, merged []string, live, old string) ([]string, error) {
	wrote, err := keep(ctx, fs, live, func(rel string) bool { return slices.Contains(merged, rel) })
	if err != nil {
		return nil, err
	}
	return snapshot.CarryOver(ctx, fs, wrote, live, old)
}
