// Package fsys is the filesystem port: a small interface over the local disk, HDFS and Google
// Cloud Storage that lists, measures and moves the files behind Hive tables.
package fsys

import (
	"context"
	"errors"
	"iter"
	"strings"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// FS is a hierarchical filesystem addressed by absolute, slash-separated paths ("/warehouse/t").
// Implementations are safe for concurrent use and translate backend failures into the errors
// below (ErrNotExist, ErrExist, ErrUnsupported, ErrUnavailable) so callers can branch with
// errors.Is without knowing the backend.
type FS interface {
	// Stat describes the file or directory at name.
	Stat(ctx context.Context, name string) (Entry, error)

	// List streams the entries of directory dir, in pages, to fn. The page slice is only valid
	// during the call (adapters reuse it). Listing stops at the first error fn returns, and
	// List returns that error. Adapters may hold a backend connection while fn runs, so fn
	// should be quick and must not wait on other calls to the same FS. Order is unspecified.
	List(ctx context.Context, dir string, fn func(page []Entry) error) error

	// Summary counts the files, bytes and directories of the tree at root, root included,
	// without any filtering (hidden files count).
	Summary(ctx context.Context, root string) (Summary, error)

	// MkdirAll creates directory dir and any missing parents. It is not an error if dir
	// already exists as a directory; it is ErrExist if a file is in the way.
	MkdirAll(ctx context.Context, dir string) error

	// Rename moves oldpath to newpath, which must not exist (ErrExist) and whose parent must
	// exist (ErrNotExist). Only filesystems whose Capabilities report AtomicRename implement
	// it; the others return ErrUnsupported rather than emulate it with copies.
	Rename(ctx context.Context, oldpath, newpath string) error

	// MoveFile moves the file oldpath to newpath, which must not exist (ErrExist) and whose
	// parent directory must exist (ErrNotExist). It refuses a directory (ErrUnsupported): it
	// is how single files change place on every filesystem, object stores included, where
	// it copies the object server-side and then deletes the source, so that for a moment
	// the file is under both names, and never under neither.
	MoveFile(ctx context.Context, oldpath, newpath string) error

	// CopyFile copies the file src to dst, which must not exist (ErrExist) and whose parent
	// directory must exist (ErrNotExist); it refuses a directory (ErrUnsupported) and leaves
	// src as it was. The copy appears under dst whole or not at all, never over another
	// file. It returns src as it was copied (its size and modification time), so a caller
	// can tell later whether the original is still the version copied.
	CopyFile(ctx context.Context, src, dst string) (Entry, error)

	// Remove deletes the file or the empty directory name, permanently. A directory that is
	// not empty is ErrExist and stays whole: unlike a check followed by RemoveAll, no file
	// that arrives meanwhile can be lost. A missing name is ErrNotExist.
	Remove(ctx context.Context, name string) error

	// RemoveAll deletes name and everything under it, permanently (no trash). It returns nil
	// if name does not exist.
	RemoveAll(ctx context.Context, name string) error

	// Capabilities reports what the filesystem can do safely.
	Capabilities() Capabilities
}

// Entry describes a file or a directory.
type Entry struct {
	Name    string // base name; "/" for the root
	Size    int64  // bytes; 0 for directories
	ModTime time.Time
	IsDir   bool
}

// Summary is the size of a tree.
type Summary struct {
	Files int64
	Bytes int64
	Dirs  int64 // directories, the root included when it is one
}

// Capabilities are the guarantees a filesystem gives beyond the FS interface.
type Capabilities struct {
	// AtomicRename is true when Rename moves a directory in one atomic step (HDFS, POSIX).
	// Object stores have no directories to rename, so a "move" would be a copy of every
	// object that readers can observe half done: callers must repoint metadata instead.
	AtomicRename bool
}

// The errors of the filesystem port. Adapters wrap them (see PathError), so test with
// errors.Is. Each is also a *merge.Error of the domain's kind, so the layers above need no
// table of filesystem errors: errors.Is(err, merge.ErrNotFound) holds for ErrNotExist, and so
// on. ErrUnsupported is merge.ErrInvalid: the location or operation asked for is not one this
// filesystem offers (a scheme without an adapter, a rename on an object store), which retrying
// cannot fix and which is not an internal failure.
var (
	ErrNotExist    error = &merge.Error{Kind: merge.ErrNotFound, Msg: "file does not exist"}
	ErrExist       error = &merge.Error{Kind: merge.ErrConflict, Msg: "file already exists"}
	ErrUnsupported error = &merge.Error{Kind: merge.ErrInvalid, Msg: "operation not supported"}
	// ErrUnavailable means the backend could not be reached or failed in transit; the
	// operation may succeed when retried.
	ErrUnavailable error = &merge.Error{Kind: merge.ErrUnavailable, Msg: "filesystem unavailable"}
)

// PathError records a failed operation on a path. Kind is one of the errors above (or nil
// when none applies) and Err the backend's own error, so errors.Is matches either.
//
// Error() carries the backend's message, for logs. Users see only what errors.As finds as a
// *merge.Error: the operation, the path and the kind ("stat /w/t: file does not exist"),
// never the backend's message, which can hold hosts, Java exceptions or request details.
type PathError struct {
	Op   string
	Path string
	Kind error
	Err  error
}

func (e *PathError) Error() string {
	msg := e.Op + " " + e.Path
	if e.Kind != nil && (e.Err == nil || !strings.Contains(e.Err.Error(), e.Kind.Error())) {
		msg += ": " + e.Kind.Error()
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap yields, in this order, the message for users (when Kind is a domain error), Kind and
// Err: errors.As finds the user's message before any *merge.Error the backend error may hold.
func (e *PathError) Unwrap() []error {
	errs := make([]error, 0, 3)
	if me, ok := errors.AsType[*merge.Error](e.Kind); ok {
		errs = append(errs, &merge.Error{Kind: me.Kind, Msg: e.Op + " " + e.Path + ": " + me.Msg})
	}
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// ReadDir returns all entries of dir. It is for directories known to be small; use List to
// stream large ones.
func ReadDir(ctx context.Context, fsys FS, dir string) ([]Entry, error) {
	var all []Entry
	err := fsys.List(ctx, dir, func(page []Entry) error {
		all = append(all, page...)
		return nil
	})
	return all, err
}

// errStop ends a List early when an iterator's consumer stops.
var errStop = errors.New("stop listing")

// Entries adapts List to a range-over-func iterator. A listing error is yielded once, last.
func Entries(ctx context.Context, fsys FS, dir string) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		err := fsys.List(ctx, dir, func(page []Entry) error {
			for _, e := range page {
				if !yield(e, nil) {
					return errStop
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(Entry{}, err)
		}
	}
}
