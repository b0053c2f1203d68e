// Package localfs is the fsys adapter for the local disk (file:// locations and bare paths).
package localfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/hivemerge/hivemerge/shared/fsys"
)

// pageSize is how many entries List hands to its callback at once.
const pageSize = 1024

// FS is the local filesystem. Paths are absolute OS paths. The zero value is ready to use.
type FS struct{}

var _ fsys.FS = (*FS)(nil)

// New returns the local filesystem.
func New() *FS { return &FS{} }

// Opener opens the local filesystem for file:// locations; only an empty authority or
// "localhost" is local.
func Opener() fsys.Opener {
	return func(_ context.Context, authority string) (fsys.FS, error) {
		if authority != "" && authority != "localhost" {
			return nil, fmt.Errorf("localfs: file://%s/: remote hosts are not local: %w", authority, fsys.ErrUnsupported)
		}
		return New(), nil
	}
}

// Capabilities reports that rename(2) is atomic.
func (*FS) Capabilities() fsys.Capabilities { return fsys.Capabilities{AtomicRename: true} }

// Stat follows symbolic links, as Hadoop's local filesystem does.
func (*FS) Stat(ctx context.Context, name string) (fsys.Entry, error) {
	if err := ctx.Err(); err != nil {
		return fsys.Entry{}, err
	}
	fi, err := os.Stat(filepath.FromSlash(name))
	if err != nil {
		return fsys.Entry{}, pathError("stat", name, err)
	}
	e := fsys.Entry{Name: fi.Name(), ModTime: fi.ModTime(), IsDir: fi.IsDir()}
	if !e.IsDir {
		e.Size = fi.Size()
	}
	if filepath.Clean(name) == string(filepath.Separator) {
		e.Name = "/"
	}
	return e, nil
}

// List reads the directory in batches and stats entries relative to the open directory
// (fstatat on Linux), which avoids resolving the full path once per file. Like Stat it follows
// symbolic links; dangling ones and entries removed between the read and the stat are left
// out, as if listed a moment later.
func (*FS) List(ctx context.Context, dir string, fn func(page []fsys.Entry) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return list(ctx, filepath.FromSlash(dir), fn)
}

// Summary walks the tree; the local disk has no cheaper way to count it.
func (f *FS) Summary(ctx context.Context, root string) (fsys.Summary, error) {
	var s fsys.Summary
	top, err := f.Stat(ctx, root)
	if err != nil {
		return s, err
	}
	if !top.IsDir {
		return fsys.Summary{Files: 1, Bytes: top.Size}, nil
	}
	var walk func(dir string) error
	walk = func(dir string) error {
		s.Dirs++
		var subdirs []string
		err := f.List(ctx, dir, func(page []fsys.Entry) error {
			for _, e := range page {
				if e.IsDir {
					subdirs = append(subdirs, filepath.Join(dir, e.Name))
					continue
				}
				s.Files++
				s.Bytes += e.Size
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, d := range subdirs {
			// A directory removed while walking is simply no longer part of the tree.
			if err := walk(d); err != nil && (d == root || !errors.Is(err, fsys.ErrNotExist)) {
				return err
			}
		}
		return nil
	}
	err = walk(filepath.FromSlash(root))
	return s, err
}

// MkdirAll creates dir with mode 0777 before the umask, as Hadoop's local filesystem does.
func (*FS) MkdirAll(ctx context.Context, dir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.FromSlash(dir), 0o777); err != nil {
		if errors.Is(err, syscall.ENOTDIR) {
			return &fsys.PathError{Op: "mkdir", Path: dir, Kind: fsys.ErrExist, Err: err}
		}
		return pathError("mkdir", dir, err)
	}
	return nil
}

// Rename never replaces newpath: on Linux it uses renameat2(RENAME_NOREPLACE), which checks and
// moves in one step; elsewhere it checks first, leaving a small window for a racing writer.
func (*FS) Rename(ctx context.Context, oldpath, newpath string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return rename(filepath.FromSlash(oldpath), filepath.FromSlash(newpath))
}

// MoveFile is Rename for files only.
func (f *FS) MoveFile(ctx context.Context, oldpath, newpath string) error {
	e, err := f.Stat(ctx, oldpath)
	if err != nil {
		return err
	}
	if e.IsDir {
		return errIsDir(oldpath)
	}
	return rename(filepath.FromSlash(oldpath), filepath.FromSlash(newpath))
}

// CopyFile writes the copy under a hidden name beside dst and renames it into place without
// replacing anything, so dst is never seen half written. The source's size and modification
// time are read from the open file before and after the copy: a writer changing it meanwhile
// fails the copy rather than leaving a copy of no version in particular.
func (f *FS) CopyFile(ctx context.Context, src, dst string) (fsys.Entry, error) {
	if err := ctx.Err(); err != nil {
		return fsys.Entry{}, err
	}
	in, err := os.Open(filepath.FromSlash(src))
	if err != nil {
		return fsys.Entry{}, pathError("copy", src, err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return fsys.Entry{}, pathError("copy", src, err)
	}
	if fi.IsDir() {
		return fsys.Entry{}, &fsys.PathError{Op: "copy", Path: src, Kind: fsys.ErrUnsupported, Err: errors.New("is a directory: only files are copied one by one")}
	}
	if _, err := os.Lstat(filepath.FromSlash(dst)); err == nil {
		return fsys.Entry{}, &fsys.PathError{Op: "copy", Path: src, Kind: fsys.ErrExist, Err: fmt.Errorf("destination %s exists", dst)}
	}
	dir, base := filepath.Split(filepath.FromSlash(dst))
	tmp, err := os.CreateTemp(dir, "."+base+".copying-*")
	if err != nil {
		return fsys.Entry{}, pathError("copy", dst, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, in); err != nil {
		return fsys.Entry{}, pathError("copy", src, err)
	}
	if err := tmp.Close(); err != nil {
		return fsys.Entry{}, pathError("copy", dst, err)
	}
	after, err := in.Stat()
	if err != nil {
		return fsys.Entry{}, pathError("copy", src, err)
	}
	if after.Size() != fi.Size() || !after.ModTime().Equal(fi.ModTime()) {
		return fsys.Entry{}, &fsys.PathError{Op: "copy", Path: src, Err: errors.New("the file changed while it was copied")}
	}
	if err := rename(tmp.Name(), filepath.FromSlash(dst)); err != nil {
		if errors.Is(err, fsys.ErrExist) {
			return fsys.Entry{}, &fsys.PathError{Op: "copy", Path: src, Kind: fsys.ErrExist, Err: fmt.Errorf("destination %s exists", dst)}
		}
		return fsys.Entry{}, err
	}
	done = true
	return fsys.Entry{Name: fi.Name(), Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

func errIsDir(name string) error {
	return &fsys.PathError{Op: "move", Path: name, Kind: fsys.ErrUnsupported, Err: errors.New("is a directory: only files are moved one by one")}
}

func renameChecked(oldpath, newpath string) error {
	if _, err := os.Lstat(newpath); err == nil {
		return errDestExists(oldpath, newpath)
	}
	if err := os.Rename(oldpath, newpath); err != nil {
		return pathError("rename", oldpath, err)
	}
	return nil
}

func errDestExists(oldpath, newpath string) error {
	return &fsys.PathError{Op: "rename", Path: oldpath, Kind: fsys.ErrExist, Err: fmt.Errorf("destination %s exists", newpath)}
}

// Remove is remove(2): rmdir refuses a directory that is not empty in the same step.
func (*FS) Remove(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(filepath.FromSlash(name)); err != nil {
		return pathError("remove", name, err)
	}
	return nil
}

// RemoveAll deletes name and its contents; nothing is kept in a trash.
func (*FS) RemoveAll(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.FromSlash(name)); err != nil {
		return pathError("remove", name, err)
	}
	return nil
}

func pathError(op, name string, err error) error {
	var kind error
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		// A file where a directory is expected means the directory does not exist.
		kind = fsys.ErrNotExist
	case errors.Is(err, fs.ErrExist):
		kind = fsys.ErrExist
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // drop the duplicate op and path
	}
	return &fsys.PathError{Op: op, Path: name, Kind: kind, Err: err}
}
