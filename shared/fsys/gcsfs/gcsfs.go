// Package gcsfs is the fsys adapter for Google Cloud Storage (gs:// locations), where
// directories are object-name prefixes.
package gcsfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"

	"github.com/hivemerge/hivemerge/shared/fsys"
)

// defaultPageSize is the listing page size, the service's maximum.
const defaultPageSize = 1000

// deleteWorkers bounds concurrent object deletions in RemoveAll: GCS has no recursive delete.
const deleteWorkers = 16

// FS is one bucket. Paths map to object names without the leading slash: "/w/t/f" is object
// "w/t/f" and directory "/w/t" is every object named "w/t/...". Empty directories are kept as
// zero-byte "w/t/" placeholder objects, as Hadoop's GCS connector does.
type FS struct {
	bucket   *storage.BucketHandle
	name     string
	pageSize int
}

// Options tune an FS; the zero value is the defaults.
type Options struct {
	// PageSize is how many objects a listing request asks for (at most 1000, the default).
	PageSize int
}

var _ fsys.FS = (*FS)(nil)

// New returns the filesystem of one bucket.
func New(client *storage.Client, bucket string, opts Options) *FS {
	f := &FS{bucket: client.Bucket(bucket), name: bucket, pageSize: opts.PageSize}
	if f.pageSize <= 0 || f.pageSize > defaultPageSize {
		f.pageSize = defaultPageSize
	}
	return f
}

// Opener opens gs://bucket locations with one shared client.
func Opener(client *storage.Client, opts Options) fsys.Opener {
	return func(_ context.Context, bucket string) (fsys.FS, error) {
		if bucket == "" {
			return nil, errors.New("gcsfs: location has no bucket")
		}
		return New(client, bucket, opts), nil
	}
}

// Capabilities reports no atomic rename: moving a directory would copy every object, and
// readers would see it half done.
func (*FS) Capabilities() fsys.Capabilities { return fsys.Capabilities{} }

// key returns the object name of a path ("" for the bucket root).
func key(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// prefix returns the object-name prefix of a directory's contents.
func prefix(dir string) string {
	if k := key(dir); k != "" {
		return k + "/"
	}
	return ""
}

// Stat looks for an object first and then for any object under the name: a directory exists
// as long as something is in it (or its placeholder does).
func (f *FS) Stat(ctx context.Context, name string) (fsys.Entry, error) {
	if err := ctx.Err(); err != nil {
		return fsys.Entry{}, err
	}
	k := key(name)
	if k == "" {
		return fsys.Entry{Name: "/", IsDir: true}, nil
	}
	attrs, err := f.bucket.Object(k).Attrs(ctx)
	if err == nil {
		return fsys.Entry{Name: path.Base(k), Size: attrs.Size, ModTime: attrs.Updated}, nil
	}
	if !errors.Is(err, storage.ErrObjectNotExist) {
		return fsys.Entry{}, f.error("stat", name, err)
	}
	it := f.bucket.Objects(ctx, &storage.Query{Prefix: k + "/"})
	it.PageInfo().MaxSize = 1
	switch _, err := it.Next(); err {
	case nil:
		return fsys.Entry{Name: path.Base(k), IsDir: true}, nil
	case iterator.Done:
		return fsys.Entry{}, &fsys.PathError{Op: "stat", Path: name, Kind: fsys.ErrNotExist}
	default:
		return fsys.Entry{}, f.error("stat", name, err)
	}
}

// List lists one level with the "/" delimiter, so subdirectories come back as prefixes rather
// than as every object below them.
func (f *FS) List(ctx context.Context, dir string, fn func(page []fsys.Entry) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	pfx := prefix(dir)
	q := &storage.Query{Prefix: pfx, Delimiter: "/"}
	if err := q.SetAttrSelection([]string{"Name", "Size", "Updated"}); err != nil {
		return err
	}
	it := f.bucket.Objects(ctx, q)
	it.PageInfo().MaxSize = f.pageSize
	page := make([]fsys.Entry, 0, f.pageSize)
	found := pfx == "" // the bucket root always exists
	for {
		attrs, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return f.error("list", dir, err)
		}
		found = true
		switch {
		case attrs.Prefix != "":
			page = append(page, fsys.Entry{Name: strings.TrimSuffix(attrs.Prefix[len(pfx):], "/"), IsDir: true})
		case attrs.Name == pfx:
			continue // the directory's own placeholder
		default:
			page = append(page, fsys.Entry{Name: attrs.Name[len(pfx):], Size: attrs.Size, ModTime: attrs.Updated})
		}
		if len(page) == cap(page) {
			if err := fn(page); err != nil {
				return err
			}
			page = page[:0]
		}
	}
	if !found {
		// Nothing under the prefix: no such directory (perhaps a file of that name).
		return &fsys.PathError{Op: "list", Path: dir, Kind: fsys.ErrNotExist}
	}
	if len(page) > 0 {
		return fn(page)
	}
	return nil
}

// Summary lists every object under root, without delimiter, and derives directories from the
// object names.
func (f *FS) Summary(ctx context.Context, root string) (fsys.Summary, error) {
	var s fsys.Summary
	top, err := f.Stat(ctx, root)
	if err != nil {
		return s, err
	}
	if !top.IsDir {
		return fsys.Summary{Files: 1, Bytes: top.Size}, nil
	}
	pfx := prefix(root)
	q := &storage.Query{Prefix: pfx}
	if err := q.SetAttrSelection([]string{"Name", "Size"}); err != nil {
		return s, err
	}
	it := f.bucket.Objects(ctx, q)
	it.PageInfo().MaxSize = f.pageSize
	dirs := map[string]bool{"": true}
	for {
		attrs, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return s, f.error("summary", root, err)
		}
		rel := attrs.Name[len(pfx):]
		if rel != "" && !strings.HasSuffix(rel, "/") { // not a placeholder
			s.Files++
			s.Bytes += attrs.Size
		}
		for i := strings.LastIndexByte(rel, '/'); i > 0; i = strings.LastIndexByte(rel[:i], '/') {
			if dirs[rel[:i]] {
				break // and so are its parents
			}
			dirs[rel[:i]] = true
		}
	}
	s.Dirs = int64(len(dirs))
	return s, nil
}

// MkdirAll writes a placeholder object for dir unless one exists, after checking that no
// object (file) has the name of dir or one of its parents.
func (f *FS) MkdirAll(ctx context.Context, dir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k := key(dir)
	if k == "" {
		return nil
	}
	for p := k; p != "."; p = path.Dir(p) {
		_, err := f.bucket.Object(p).Attrs(ctx)
		if err == nil {
			return &fsys.PathError{Op: "mkdir", Path: "/" + p, Kind: fsys.ErrExist, Err: errors.New("a file is in the way")}
		}
		if !errors.Is(err, storage.ErrObjectNotExist) {
			return f.error("mkdir", dir, err)
		}
	}
	w := f.bucket.Object(k + "/").If(storage.Conditions{DoesNotExist: true}).NewWriter(ctx)
	w.ContentType = "application/x-directory"
	if err := w.Close(); err != nil && !isPreconditionFailed(err) {
		return f.error("mkdir", dir, err)
	}
	return nil
}

// Rename is not offered: GCS can only copy and delete, which readers observe half done.
func (*FS) Rename(_ context.Context, oldpath, _ string) error {
	return &fsys.PathError{Op: "rename", Path: oldpath, Kind: fsys.ErrUnsupported, Err: errors.New("object stores have no atomic rename")}
}

// movedFrom is the custom metadata key MoveFile puts on each copy: the source object and the
// generation it copied, so that a move interrupted between its copy and its delete can be told
// apart from an unrelated object of that name, and finished.
const movedFrom = "hivemerge-moved-from"

// moveAttempts bounds how often MoveFile starts over when the source changes under it.
const moveAttempts = 3

// MoveFile copies the object server-side, on the condition that newpath does not exist, and
// then deletes the source on the condition that it is still the generation copied: a writer
// that replaced the source meanwhile is never lost, and the error says the copy stays. A
// destination holding this very source generation (a move that stopped after its copy) makes
// MoveFile finish that move instead of failing with ErrExist.
func (f *FS) MoveFile(ctx context.Context, oldpath, newpath string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	src, dst := key(oldpath), key(newpath)
	if src == "" || dst == "" {
		return &fsys.PathError{Op: "move", Path: oldpath, Kind: fsys.ErrUnsupported, Err: errors.New("the bucket root is a directory")}
	}
	if parent := path.Dir(dst); parent != "." {
		e, err := f.Stat(ctx, parent)
		if err != nil && !errors.Is(err, fsys.ErrNotExist) {
			return err
		}
		if err != nil || !e.IsDir {
			return &fsys.PathError{Op: "move", Path: oldpath, Kind: fsys.ErrNotExist, Err: fmt.Errorf("destination directory %s does not exist", "/"+parent)}
		}
	}
	for attempt := 1; ; attempt++ {
		attrs, err := f.bucket.Object(src).Attrs(ctx)
		if errors.Is(err, storage.ErrObjectNotExist) {
			if e, err := f.Stat(ctx, oldpath); err == nil && e.IsDir {
				return &fsys.PathError{Op: "move", Path: oldpath, Kind: fsys.ErrUnsupported, Err: errors.New("is a directory: only files are moved one by one")}
			}
		}
		if err != nil {
			return f.error("move", oldpath, err)
		}
		marker := fmt.Sprintf("%s#%d", src, attrs.Generation)
		switch e, err := f.Stat(ctx, newpath); {
		case err == nil && !e.IsDir && f.copiedBy(ctx, dst, marker):
			return f.deleteMoved(ctx, oldpath, newpath, attrs.Generation)
		case err == nil:
			return &fsys.PathError{Op: "move", Path: oldpath, Kind: fsys.ErrExist, Err: fmt.Errorf("destination %s exists", newpath)}
		case !errors.Is(err, fsys.ErrNotExist):
			return err
		}
		c := f.bucket.Object(dst).If(storage.Conditions{DoesNotExist: true}).
			CopierFrom(f.bucket.Object(src).Generation(attrs.Generation))
		c.ContentType = attrs.ContentType
		c.ContentEncoding = attrs.ContentEncoding
		c.ContentDisposition = attrs.ContentDisposition
		c.ContentLanguage = attrs.ContentLanguage
		c.CacheControl = attrs.CacheControl
		c.Metadata = make(map[string]string, len(attrs.Metadata)+1)
		for k, v := range attrs.Metadata {
			c.Metadata[k] = v
		}
		c.Metadata[movedFrom] = marker
		_, err = c.Run(ctx)
		switch {
		case err == nil:
			return f.deleteMoved(ctx, oldpath, newpath, attrs.Generation)
		case isPreconditionFailed(err):
			return &fsys.PathError{Op: "move", Path: oldpath, Kind: fsys.ErrExist, Err: fmt.Errorf("destination %s exists", newpath)}
		case errors.Is(err, storage.ErrObjectNotExist) && attempt < moveAttempts:
			continue // the generation read is gone: replaced or deleted; read again
		default:
			return f.error("move", oldpath, err)
		}
	}
}

// CopyFile copies one generation of the object server-side, on the condition that dst does
// not exist, and returns that generation's size and time.
func (f *FS) CopyFile(ctx context.Context, src, dst string) (fsys.Entry, error) {
	if err := ctx.Err(); err != nil {
		return fsys.Entry{}, err
	}
	sk, dk := key(src), key(dst)
	if sk == "" || dk == "" {
		return fsys.Entry{}, &fsys.PathError{Op: "copy", Path: src, Kind: fsys.ErrUnsupported, Err: errors.New("the bucket root is a directory")}
	}
	attrs, err := f.bucket.Object(sk).Attrs(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		if e, err := f.Stat(ctx, src); err == nil && e.IsDir {
			return fsys.Entry{}, &fsys.PathError{Op: "copy", Path: src, Kind: fsys.ErrUnsupported, Err: errors.New("is a directory: only files are copied one by one")}
		}
	}
	if err != nil {
		return fsys.Entry{}, f.error("copy", src, err)
	}
	if parent := path.Dir(dk); parent != "." {
		e, err := f.Stat(ctx, parent)
		if err != nil && !errors.Is(err, fsys.ErrNotExist) {
			return fsys.Entry{}, err
		}
		if err != nil || !e.IsDir {
			return fsys.Entry{}, &fsys.PathError{Op: "copy", Path: src, Kind: fsys.ErrNotExist, Err: fmt.Errorf("destination directory %s does not exist", "/"+parent)}
		}
	}
	// A "directory" of that name is objects under its prefix, which the condition below
	// does not see; the condition alone covers a file created after this look.
	switch _, err := f.Stat(ctx, dst); {
	case err != nil && !errors.Is(err, fsys.ErrNotExist):
		return fsys.Entry{}, err
	case err == nil:
		return fsys.Entry{}, &fsys.PathError{Op: "copy", Path: src, Kind: fsys.ErrExist, Err: fmt.Errorf("destination %s exists", dst)}
	}
	c := f.bucket.Object(dk).If(storage.Conditions{DoesNotExist: true}).
		CopierFrom(f.bucket.Object(sk).Generation(attrs.Generation))
	c.ContentType = attrs.ContentType
	c.ContentEncoding = attrs.ContentEncoding
	c.ContentDisposition = attrs.ContentDisposition
	c.ContentLanguage = attrs.ContentLanguage
	c.CacheControl = attrs.CacheControl
	// A copy is no move: it must not pass for one that MoveFile would finish.
	c.Metadata = maps.Clone(attrs.Metadata)
	delete(c.Metadata, movedFrom)
	switch _, err := c.Run(ctx); {
	case err == nil:
		return fsys.Entry{Name: path.Base(sk), Size: attrs.Size, ModTime: attrs.Updated}, nil
	case isPreconditionFailed(err):
		return fsys.Entry{}, &fsys.PathError{Op: "copy", Path: src, Kind: fsys.ErrExist, Err: fmt.Errorf("destination %s exists", dst)}
	default:
		return fsys.Entry{}, f.error("copy", src, err)
	}
}

// copiedBy reports whether object dst is a copy MoveFile made with this marker.
func (f *FS) copiedBy(ctx context.Context, dst, marker string) bool {
	attrs, err := f.bucket.Object(dst).Attrs(ctx)
	return err == nil && attrs.Metadata[movedFrom] == marker
}

// deleteMoved deletes the source generation that was copied to newpath.
func (f *FS) deleteMoved(ctx context.Context, oldpath, newpath string, gen int64) error {
	err := f.bucket.Object(key(oldpath)).If(storage.Conditions{GenerationMatch: gen}).Delete(ctx)
	switch {
	case err == nil, errors.Is(err, storage.ErrObjectNotExist):
		return nil // gone, perhaps by an earlier attempt whose reply was lost
	case isPreconditionFailed(err):
		return &fsys.PathError{Op: "move", Path: oldpath, Kind: fsys.ErrExist,
			Err: fmt.Errorf("copied to %s, but the source was replaced since: both are kept", newpath)}
	default:
		pe := f.error("move", oldpath, err).(*fsys.PathError)
		pe.Err = fmt.Errorf("copied to %s, but deleting the source failed, so both exist: %w", newpath, pe.Err)
		return pe
	}
}

// Remove deletes the object name or, when name is a directory with nothing in it but its
// placeholder, the placeholder. Deleting a placeholder never deletes another object, so an
// object written under name meanwhile survives.
func (f *FS) Remove(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k := key(name)
	if k == "" {
		return &fsys.PathError{Op: "remove", Path: name, Kind: fsys.ErrExist, Err: errors.New("refusing to remove the bucket root")}
	}
	err := f.bucket.Object(k).Delete(ctx)
	if err == nil {
		return nil
	}
	if !errors.Is(err, storage.ErrObjectNotExist) {
		return f.error("remove", name, err)
	}
	q := &storage.Query{Prefix: k + "/"}
	if err := q.SetAttrSelection([]string{"Name"}); err != nil {
		return err
	}
	it := f.bucket.Objects(ctx, q)
	it.PageInfo().MaxSize = 2
	placeholder := false
	for {
		attrs, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return f.error("remove", name, err)
		}
		if attrs.Name != k+"/" {
			return &fsys.PathError{Op: "remove", Path: name, Kind: fsys.ErrExist, Err: errors.New("directory not empty")}
		}
		placeholder = true
	}
	if !placeholder {
		return &fsys.PathError{Op: "remove", Path: name, Kind: fsys.ErrNotExist}
	}
	if err := f.bucket.Object(k + "/").Delete(ctx); err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
		return f.error("remove", name, err)
	}
	return nil
}

// RemoveAll deletes the object name and every object under it, in parallel. Objects already
// gone are fine: another remover got there first. It refuses the bucket root.
func (f *FS) RemoveAll(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k := key(name)
	if k == "" {
		return &fsys.PathError{Op: "remove", Path: name, Err: errors.New("refusing to empty a whole bucket")}
	}
	keys := make(chan string)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range deleteWorkers {
		wg.Go(func() {
			for k := range keys {
				err := f.bucket.Object(k).Delete(ctx)
				if err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
					mu.Lock()
					if first == nil {
						first = f.error("remove", "/"+k, err)
					}
					mu.Unlock()
					cancel()
				}
			}
		})
	}
	listErr := func() error {
		select {
		case keys <- k:
		case <-ctx.Done():
			return nil
		}
		q := &storage.Query{Prefix: k + "/"}
		if err := q.SetAttrSelection([]string{"Name"}); err != nil {
			return err
		}
		it := f.bucket.Objects(ctx, q)
		it.PageInfo().MaxSize = f.pageSize
		for {
			attrs, err := it.Next()
			if err == iterator.Done {
				return nil
			}
			if err != nil {
				return f.error("remove", name, err)
			}
			select {
			case keys <- attrs.Name:
			case <-ctx.Done():
				return nil
			}
		}
	}()
	close(keys)
	wg.Wait()
	if first != nil {
		return first
	}
	if listErr != nil {
		return listErr
	}
	return ctx.Err()
}

func isPreconditionFailed(err error) bool {
	var gerr *googleapi.Error
	return errors.As(err, &gerr) && gerr.Code == http.StatusPreconditionFailed
}

// error translates a storage error into the fsys error kinds.
func (f *FS) error(op, name string, err error) error {
	var kind error
	var gerr *googleapi.Error
	var nerr net.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// Callers test these themselves; they are not the backend's fault.
	case errors.Is(err, storage.ErrObjectNotExist), errors.Is(err, storage.ErrBucketNotExist):
		kind = fsys.ErrNotExist
	case errors.As(err, &gerr):
		switch {
		case gerr.Code == http.StatusNotFound:
			kind = fsys.ErrNotExist
		case gerr.Code == http.StatusConflict || gerr.Code == http.StatusPreconditionFailed:
			kind = fsys.ErrExist
		case gerr.Code == http.StatusTooManyRequests || gerr.Code >= 500:
			kind = fsys.ErrUnavailable
		}
	case errors.As(err, &nerr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		kind = fsys.ErrUnavailable
	}
	return &fsys.PathError{Op: op, Path: fmt.Sprintf("gs://%s%s", f.name, path.Clean("/"+name)), Kind: kind, Err: err}
}
