// Package scan measures the storage behind Hive tables: per location, the file count, bytes and
// file-size histogram, found by listing directory trees in parallel.
package scan

import (
	"context"
	"errors"
	"fmt"
	"path"
	"runtime"
	"sync"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// MiB is the unit of the histogram's bounds.
const MiB = merge.MiB

// Bounds are the histogram's bucket limits (merge.SizeBounds).
var Bounds = merge.SizeBounds

// Labels name the histogram's buckets, in order.
var Labels = merge.SizeLabels

// Histogram counts files per size bucket; it is the domain's, so metrics keep it as it is.
type Histogram = merge.Histogram

// Bucket returns the index of the bucket that holds size.
func Bucket(size int64) int { return merge.SizeBucket(size) }

// Stats describes the data files of a tree.
type Stats struct {
	Files int64
	Bytes int64
	Dirs  int64 // directories listed, the root included
	Sizes Histogram
}

func (s *Stats) add(o *Stats) {
	s.Files += o.Files
	s.Bytes += o.Bytes
	s.Dirs += o.Dirs
	for i := range s.Sizes {
		s.Sizes[i] += o.Sizes[i]
	}
}

func (s *Stats) addFile(size int64) {
	s.Files++
	s.Bytes += size
	s.Sizes[Bucket(size)]++
}

// Result is the outcome for one location.
type Result struct {
	Location string
	Stats
	Err error // why this location could not be measured; other locations are unaffected
}

// Opener resolves a location URI to its filesystem and path; *fsys.Resolver implements it.
type Opener interface {
	Open(ctx context.Context, location string) (fsys.FS, string, error)
}

// Scanner lists trees with bounded concurrency. The zero value is ready to use.
type Scanner struct {
	// Concurrency bounds how many directories are listed at once across all locations of a
	// call; 0 means 4 per CPU. Listing is I/O-bound (system calls, NameNode round trips), so
	// more than one per CPU pays; an HDFS filesystem further bounds it by its connection pool.
	Concurrency int
	// IncludeHidden counts names starting with "." or "_", which Hive skips (_SUCCESS,
	// _temporary, .hive-staging): they are not table data.
	IncludeHidden bool
}

// Hidden reports whether Hive ignores a file or directory of this name.
func Hidden(name string) bool {
	return name != "" && (name[0] == '.' || name[0] == '_')
}

// Tree measures the tree at root, recursing into subdirectories (partitions, ACID base and
// delta directories). A root that is a file counts as one file.
func (s Scanner) Tree(ctx context.Context, fs fsys.FS, root string) (Stats, error) {
	w := s.newWalk(ctx)
	res := &Result{Location: root}
	w.location(fs, root, res)
	w.wg.Wait()
	if err := ctx.Err(); err != nil {
		return res.Stats, err
	}
	return res.Stats, res.Err
}

// Locations measures each location, in parallel, and returns one Result per location in the
// same order. A location that fails (missing, unreachable) has its Result.Err set; the
// returned error is only for the whole call, when ctx ends.
func (s Scanner) Locations(ctx context.Context, opener Opener, locations []string) ([]Result, error) {
	w := s.newWalk(ctx)
	results := make([]Result, len(locations))
	for i, loc := range locations {
		res := &results[i]
		res.Location = loc
		fs, p, err := opener.Open(ctx, loc)
		if err != nil {
			res.Err = err
			continue
		}
		w.wg.Go(func() { w.location(fs, p, res) })
	}
	w.wg.Wait()
	return results, ctx.Err()
}

type walk struct {
	ctx           context.Context
	sem           chan struct{} // a token per extra goroutine listing
	includeHidden bool
	wg            sync.WaitGroup
}

func (s Scanner) newWalk(ctx context.Context) *walk {
	n := s.Concurrency
	if n <= 0 {
		n = 4 * runtime.GOMAXPROCS(0)
	}
	// The calling goroutine lists too, so n-1 extra tokens give n at once.
	return &walk{ctx: ctx, sem: make(chan struct{}, n-1), includeHidden: s.IncludeHidden}
}

// tree is one location being walked.
type tree struct {
	fs     fsys.FS
	ctx    context.Context
	cancel context.CancelCauseFunc
	res    *Result
	mu     sync.Mutex
	// pending counts directories queued or being listed, to know when the tree is done.
	pending sync.WaitGroup
}

func (w *walk) location(fs fsys.FS, root string, res *Result) {
	ctx, cancel := context.WithCancelCause(w.ctx)
	defer cancel(nil)
	top, err := fs.Stat(ctx, root)
	if err != nil {
		res.Err = err
		return
	}
	if !top.IsDir {
		res.addFile(top.Size)
		return
	}
	t := &tree{fs: fs, ctx: ctx, cancel: cancel, res: res}
	t.pending.Add(1)
	w.dir(t, root, true)
	t.pending.Wait()
	if res.Err == nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			res.Err = cause
		} else if w.ctx.Err() != nil {
			res.Err = w.ctx.Err()
		}
	}
}

// dir lists one directory and walks its subdirectories, in new goroutines while tokens last
// and inline otherwise, so a full pool never deadlocks waiting on its own children.
func (w *walk) dir(t *tree, dir string, root bool) {
	defer t.pending.Done()
	if t.ctx.Err() != nil {
		return
	}
	local := Stats{Dirs: 1}
	var subdirs []string
	err := t.fs.List(t.ctx, dir, func(page []fsys.Entry) error {
		for i := range page {
			e := &page[i]
			if !w.includeHidden && Hidden(e.Name) {
				continue
			}
			if e.IsDir {
				subdirs = append(subdirs, path.Join(dir, e.Name))
				continue
			}
			local.addFile(e.Size)
		}
		return nil
	})
	if err != nil {
		if !root && errors.Is(err, fsys.ErrNotExist) {
			return // removed while we walked: no longer part of the tree
		}
		t.cancel(fmt.Errorf("scan %s: %w", dir, err))
		return
	}
	t.mu.Lock()
	t.res.add(&local)
	t.mu.Unlock()
	for _, sub := range subdirs {
		t.pending.Add(1)
		select {
		case w.sem <- struct{}{}:
			w.wg.Go(func() {
				defer func() { <-w.sem }()
				w.dir(t, sub, false)
			})
		default:
			w.dir(t, sub, false)
		}
	}
}
