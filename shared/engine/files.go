package engine

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/scan"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// list counts the data files under location with their sizes, recursing into subdirectories
// (ACID base and delta directories, nested partitions) and skipping the names Hive skips
// (scan.Hidden: _SUCCESS, .hive-staging, earlier merges' staging directories). The scanner
// of package scan gives a histogram; the planner needs each size to count blocks exactly.
func (p *Planner) list(ctx context.Context, location string) (merge.FileFacts, error) {
	if location == "" {
		return merge.FileFacts{}, fmt.Errorf("Hive reported no location: %w", fsys.ErrUnavailable)
	}
	fs, root, err := p.Files.Open(ctx, location)
	if err != nil {
		return merge.FileFacts{}, err
	}
	top, err := fs.Stat(ctx, root)
	if err != nil {
		return merge.FileFacts{}, err
	}
	f := merge.FileFacts{Sizes: []int64{}}
	if !top.IsDir {
		return merge.FileFacts{Files: 1, Bytes: top.Size, Sizes: []int64{top.Size}}, nil
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
					dirs = append(dirs, path.Join(dir, e.Name))
				default:
					f.Files++
					f.Bytes += e.Size
					f.Sizes = append(f.Sizes, e.Size)
				}
			}
			return nil
		})
		if err != nil {
			return merge.FileFacts{}, err
		}
	}
	return f, nil
}

// stagingPrefix starts the name of the directory a merge writes into. It begins with '.', so
// Hadoop input formats, Hive and MSCK REPAIR skip it while it sits beside live data.
const stagingPrefix = ".hivemerge-"

// stagingLocation is where safe_merge writes the merged files of the data at loc:
//
//	dir(loc)/.hivemerge-<task>/base(loc)
//
// a hidden sibling of loc on the same filesystem (same scheme and authority), so the swap is
// one metastore update and no data moves; the partition keeps its own directory name, and a
// partition with a custom location gets its staging beside it. When loc is itself the staging
// directory of an earlier merge, the new one goes beside that one instead of inside it, so
// repeated merges do not nest.
func stagingLocation(loc, taskID string) (string, error) {
	l, err := fsys.ParseLocation(loc)
	if err != nil {
		return "", merge.Errorf(merge.ErrInvalid, "location %q: %v", loc, err)
	}
	dir, base := path.Dir(l.Path), path.Base(l.Path)
	if base == "/" || base == "." {
		return "", merge.Errorf(merge.ErrInvalid, "location %q is a filesystem root, which has no sibling to merge into", loc)
	}
	if strings.HasPrefix(path.Base(dir), stagingPrefix) {
		dir = path.Dir(dir)
	}
	l.Path = path.Join(dir, stagingPrefix+taskID, base)
	return l.String(), nil
}
