//go:build !linux

package localfs

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"

	"github.com/hivemerge/hivemerge/shared/fsys"
)

func list(ctx context.Context, dir string, fn func(page []fsys.Entry) error) error {
	f, err := os.Open(dir)
	if err != nil {
		return pathError("list", dir, err)
	}
	defer f.Close()
	page := make([]fsys.Entry, 0, pageSize)
	for {
		des, err := f.ReadDir(pageSize)
		page = page[:0]
		for _, de := range des {
			fi, err := os.Stat(dir + string(os.PathSeparator) + de.Name())
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				return pathError("list", dir, err)
			}
			e := fsys.Entry{Name: de.Name(), ModTime: fi.ModTime(), IsDir: fi.IsDir()}
			if !e.IsDir {
				e.Size = fi.Size()
			}
			page = append(page, e)
		}
		if len(page) > 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(page); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return pathError("list", dir, err)
		}
	}
}

func rename(oldpath, newpath string) error { return renameChecked(oldpath, newpath) }
