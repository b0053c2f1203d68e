package engine

import (
	"context"
	"path"
	"time"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/scan"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// Listing is what a listing of one location found.
type Listing struct {
	merge.FileFacts
	// Root is the location itself, as Stat saw it before the listing.
	Root fsys.Entry
	// ModTime is the newest data file's modification time.
	ModTime time.Time
	// Subdirs reports whether the tree had directories below the root (ACID base and delta
	// directories, nested partitions).
	Subdirs bool
}

// List counts the data files under root with their sizes, recursing into subdirectories and
// skipping the names Hive skips (scan.Hidden: _SUCCESS, .hive-staging, earlier merges' staging
// directories). The planner and discovery both measure partitions with it. The scanner of
// package scan gives a histogram; callers of List need each size to count blocks exactly.
func List(ctx context.Context, fs fsys.FS, root string) (Listing, error) {
	top, err := fs.Stat(ctx, root)
	if err != nil {
		return Listing{}, err
	}
	l := Listing{Root: top, FileFacts: merge.FileFacts{Sizes: []int64{}}}
	if !top.IsDir {
		l.FileFacts = merge.FileFacts{Files: 1, Bytes: top.Size, Sizes: []int64{top.Size}}
		l.ModTime = top.ModTime
		return l, nil
	}
	dirs := []string{root}
	for len(dirs) > 0 {
		dir := dirs[len(dirs)-1]
		dirs = dirs[:len(dirs)-1]
		err := fs.List(ctx, dir, func(page []fsys.Entry) error {
			for _, e := range page {
				switch {
				case scan.Hidden(e.Name):
				case e.IsDir:
					l.Subdirs = true
					dirs = append(dirs, path.Join(dir, e.Name))
				default:
					l.Files++
					l.Bytes += e.Size
					l.Sizes = append(l.Sizes, e.Size)
					if e.ModTime.After(l.ModTime) {
						l.ModTime = e.ModTime
					}
				}
			}
			return nil
		})
		if err != nil {
			return Listing{}, err
		}
	}
	return l, nil
}
