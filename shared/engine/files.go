package engine

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// list counts the data files under location with their sizes (see List).
func (p *Planner) list(ctx context.Context, location string) (merge.FileFacts, error) {
	if location == "" {
		return merge.FileFacts{}, fmt.Errorf("Hive reported no location: %w", fsys.ErrUnavailable)
	}
	fs, root, err := p.Files.Open(ctx, location)
	if err != nil {
		return merge.FileFacts{}, err
	}
	l, err := List(ctx, fs, root)
	return l.FileFacts, err
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

// stagingTableLocation is the directory of a partitioned table's staging table tmp: a hidden
// directory of its own beside the partition's staging directory, which the table registers as
// its one partition. The task's staging directory itself will not do: it holds the partitions
// the task has already swapped, and a table whose directory contains another table's partition
// is one whose drop or overwrite could reach that partition's files.
func stagingTableLocation(staging string, tmp hql.Table) (string, error) {
	l, err := fsys.ParseLocation(staging)
	if err != nil {
		return "", merge.Errorf(merge.ErrInvalid, "location %q: %v", staging, err)
	}
	l.Path = path.Join(path.Dir(l.Path), "."+tmp.Name)
	return l.String(), nil
}
