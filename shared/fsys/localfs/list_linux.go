package localfs

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hivemerge/hivemerge/shared/fsys"
)

// direntBufSize is the getdents buffer: large enough that a directory of a thousand files
// takes a couple of system calls.
const direntBufSize = 64 << 10

func list(ctx context.Context, dir string, fn func(page []fsys.Entry) error) error {
	fd, err := openDir(dir)
	if err != nil {
		return pathError("list", dir, err)
	}
	defer unix.Close(fd)

	buf := make([]byte, direntBufSize)
	page := make([]fsys.Entry, 0, pageSize)
	var st unix.Stat_t
	for {
		n, err := getdents(fd, buf)
		if err != nil {
			return pathError("list", dir, err)
		}
		if n <= 0 {
			break
		}
		for b := buf[:n]; len(b) > 0; {
			if len(b) < 19 {
				return &fsys.PathError{Op: "list", Path: dir, Err: errors.New("malformed directory entry")}
			}
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return &fsys.PathError{Op: "list", Path: dir, Err: errors.New("malformed directory entry")}
			}
			rec := b[19:reclen] // name, NUL-terminated and padded
			b = b[reclen:]
			nameLen := 0
			for nameLen < len(rec) && rec[nameLen] != 0 {
				nameLen++
			}
			if isDot(rec[:nameLen]) {
				continue
			}
			name := string(rec[:nameLen])
			if err := fstatat(fd, name, &st); err != nil {
				if err == unix.ENOENT {
					continue // removed since the read, or a dangling link
				}
				return pathError("list", dir+"/"+name, err)
			}
			e := fsys.Entry{
				Name:    name,
				ModTime: time.Unix(st.Mtim.Unix()),
				IsDir:   st.Mode&unix.S_IFMT == unix.S_IFDIR,
			}
			if !e.IsDir {
				e.Size = st.Size
			}
			page = append(page, e)
			if len(page) == cap(page) {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := fn(page); err != nil {
					return err
				}
				page = page[:0]
			}
		}
	}
	if len(page) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(page)
	}
	return nil
}

func isDot(name []byte) bool {
	return len(name) == 1 && name[0] == '.' || len(name) == 2 && name[0] == '.' && name[1] == '.'
}

func openDir(dir string) (int, error) {
	for {
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func getdents(fd int, buf []byte) (int, error) {
	for {
		n, err := unix.Getdents(fd, buf)
		if err != unix.EINTR {
			return n, err
		}
	}
}

func fstatat(fd int, name string, st *unix.Stat_t) error {
	for {
		err := unix.Fstatat(fd, name, st, 0)
		if err != unix.EINTR {
			return err
		}
	}
}

func rename(oldpath, newpath string) error {
	err := unix.Renameat2(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, unix.RENAME_NOREPLACE)
	switch err {
	case nil:
		return nil
	case unix.EEXIST:
		return errDestExists(oldpath, newpath)
	case unix.ENOSYS, unix.EINVAL:
		// Kernels or filesystems without RENAME_NOREPLACE (EINVAL also covers moving a
		// directory into itself, which the fallback reports again).
		return renameChecked(oldpath, newpath)
	default:
		return pathError("rename", oldpath, err)
	}
}
