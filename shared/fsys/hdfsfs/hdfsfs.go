// Package hdfsfs is the fsys adapter for HDFS (hdfs:// locations), on the native Go client
// github.com/colinmarc/hdfs/v2: pooled NameNode connections, paged listings, context deadlines
// enforced on the sockets, HA failover, Kerberos keytabs and the Hadoop configuration files.
package hdfsfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/colinmarc/hdfs/v2"
	"github.com/colinmarc/hdfs/v2/hadoopconf"

	"github.com/hivemerge/hivemerge/shared/fsys"
)

// FS is one HDFS cluster (one namespace). It is safe for concurrent use; Close releases its
// connections.
type FS struct {
	cfg     Config
	options hdfs.ClientOptions // template for each pooled client
	pool    *pool

	mu     sync.Mutex
	active string // the NameNode that last answered, tried first by new connections
}

var _ fsys.FS = (*FS)(nil)

// New connects to the cluster described by cfg. It dials one NameNode connection to fail
// early on a wrong address; failures to reach the cluster are fsys.ErrUnavailable.
func New(ctx context.Context, cfg Config) (*FS, error) {
	conf, err := loadConf(cfg.ConfDir)
	if err != nil {
		return nil, err
	}
	return newFS(ctx, cfg, conf)
}

// Opener opens hdfs:// locations: each authority (a NameNode host:port, an HA nameservice of
// the Hadoop configuration, or "" for fs.defaultFS) becomes one FS sharing cfg.
func Opener(cfg Config) fsys.Opener {
	var (
		once    sync.Once
		conf    hadoopconf.HadoopConf
		confErr error
	)
	return func(ctx context.Context, authority string) (fsys.FS, error) {
		once.Do(func() { conf, confErr = loadConf(cfg.ConfDir) })
		if confErr != nil {
			return nil, confErr
		}
		c := cfg
		if authority != "" || len(c.Addresses) == 0 {
			addrs, err := Namenodes(conf, authority)
			if err != nil {
				return nil, err
			}
			c.Addresses = addrs
		}
		return newFS(ctx, c, conf)
	}
}

func newFS(ctx context.Context, cfg Config, conf hadoopconf.HadoopConf) (*FS, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	var options hdfs.ClientOptions
	if conf != nil {
		options = hdfs.ClientOptionsFromConf(conf)
	}
	if len(cfg.Addresses) == 0 {
		addrs, err := Namenodes(conf, "")
		if err != nil {
			return nil, err
		}
		cfg.Addresses = addrs
	}
	options.Addresses = slices.Clone(cfg.Addresses)
	options.User = cfg.User
	options.KerberosClient = nil
	if cfg.Kerberos != nil {
		if spn := cfg.Kerberos.NamenodePrincipal; spn != "" {
			options.KerberosServicePrincipleName = strings.Split(spn, "@")[0]
		}
		if options.KerberosServicePrincipleName == "" {
			return nil, errors.New("hdfsfs: kerberos needs the namenode principal (dfs.namenode.kerberos.principal)")
		}
		kc, err := cfg.Kerberos.client()
		if err != nil {
			return nil, err
		}
		options.KerberosClient = kc
	} else if conf != nil && strings.EqualFold(conf["hadoop.security.authentication"], "kerberos") {
		return nil, errors.New("hdfsfs: the cluster requires kerberos (hadoop.security.authentication); configure a keytab")
	}
	f := &FS{cfg: cfg, options: options}
	f.pool = newPool(cfg.Connections, f.open)
	c, err := f.pool.get(ctx)
	if err != nil {
		return nil, f.error("connect", strings.Join(cfg.Addresses, ","), err)
	}
	f.pool.put(c)
	return f, nil
}

// open connects a pooled client, trying the NameNode that last answered first.
func (f *FS) open(ctx context.Context, c *conn) error {
	opts := f.options
	opts.Addresses = slices.Clone(f.cfg.Addresses)
	f.mu.Lock()
	if i := slices.Index(opts.Addresses, f.active); i > 0 {
		opts.Addresses[0], opts.Addresses[i] = opts.Addresses[i], opts.Addresses[0]
	}
	f.mu.Unlock()
	opts.NamenodeDialFunc = c.dial
	c.dialTimeout = f.cfg.DialTimeout
	return c.call(ctx, f.cfg.CallTimeout, func() error {
		client, err := hdfs.NewClient(opts)
		c.client = client
		return err
	})
}

// Close closes the pooled connections.
func (f *FS) Close() error {
	f.pool.close()
	return nil
}

// Capabilities reports that HDFS renames directories atomically (one NameNode operation).
func (*FS) Capabilities() fsys.Capabilities { return fsys.Capabilities{AtomicRename: true} }

// callbackError carries an error of the caller's List callback through do untouched.
type callbackError struct{ err error }

func (e *callbackError) Error() string { return e.err.Error() }

// do runs fn on a pooled connection. A connection whose call failed in transit or was cut
// short by ctx is discarded; retry, when not nil and true, allows one more attempt on a new
// connection (the NameNode may have failed over or the network blipped).
func (f *FS) do(ctx context.Context, op, name string, retry func() bool, fn func(c *conn) error) error {
	if err := ctx.Err(); err != nil {
		return &fsys.PathError{Op: op, Path: name, Err: err}
	}
	for attempt := 0; ; attempt++ {
		c, err := f.pool.get(ctx)
		if err != nil {
			return f.error(op, name, err)
		}
		err = fn(c)
		var cb *callbackError
		switch {
		case err == nil:
			f.markActive(c)
			f.pool.put(c)
			return nil
		case errors.As(err, &cb):
			f.pool.put(c) // the callback runs between calls: the connection is in order
			return cb.err
		case ctxErr(ctx) != nil:
			f.pool.discard(c)
			return &fsys.PathError{Op: op, Path: name, Err: ctxErr(ctx)}
		case !broken(err):
			f.markActive(c)
			f.pool.put(c)
			return f.error(op, name, err)
		}
		f.pool.discard(c)
		if attempt > 0 || retry == nil || !retry() {
			return f.error(op, name, err)
		}
	}
}

// ctxErr is ctx.Err, also when the socket's deadline (ctx's) fired a moment before ctx's own
// timer.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

func (f *FS) markActive(c *conn) {
	if addr := c.address(); addr != "" {
		f.mu.Lock()
		f.active = addr
		f.mu.Unlock()
	}
}

func always() bool { return true }

// Stat uses getFileInfo.
func (f *FS) Stat(ctx context.Context, name string) (fsys.Entry, error) {
	var e fsys.Entry
	err := f.do(ctx, "stat", name, always, func(c *conn) error {
		return c.call(ctx, f.cfg.CallTimeout, func() error {
			fi, err := c.client.Stat(name)
			if err != nil {
				return err
			}
			e = entry(fi)
			if path.Clean(name) == "/" {
				e.Name = "/"
			}
			return nil
		})
	})
	return e, err
}

func entry(fi os.FileInfo) fsys.Entry {
	e := fsys.Entry{Name: fi.Name(), ModTime: fi.ModTime(), IsDir: fi.IsDir()}
	if !e.IsDir {
		e.Size = fi.Size()
	}
	return e
}

// List opens the directory (one getFileInfo) and pages through it with getListing, one
// NameNode call per ListPage entries. The client's own Walk and ReadDir cost a getFileInfo
// per entry or hold the whole directory in memory; this does neither. The connection stays
// checked out between pages. A listing that breaks before its first page is retried; one that
// breaks later is not, since fn has seen part of it.
func (f *FS) List(ctx context.Context, dir string, fn func(page []fsys.Entry) error) error {
	delivered := false
	return f.do(ctx, "list", dir, func() bool { return !delivered }, func(c *conn) error {
		var r *hdfs.FileReader
		err := c.call(ctx, f.cfg.CallTimeout, func() (err error) {
			r, err = c.client.Open(dir)
			return err
		})
		if err != nil {
			return err
		}
		defer r.Close()
		if !r.Stat().IsDir() {
			return &fsys.PathError{Op: "list", Path: dir, Kind: fsys.ErrNotExist, Err: errors.New("not a directory")}
		}
		n := f.cfg.ListPage
		page := make([]fsys.Entry, 0, n)
		for {
			var infos []os.FileInfo
			err := c.call(ctx, f.cfg.CallTimeout, func() (err error) {
				infos, err = r.Readdir(n)
				return err
			})
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			page = page[:0]
			for _, fi := range infos {
				page = append(page, entry(fi))
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			delivered = true
			if err := fn(page); err != nil {
				return &callbackError{err}
			}
			if len(infos) < n {
				// A short page means the NameNode said nothing remains; asking again would
				// cost a call to learn the same.
				return nil
			}
		}
	})
}

// Summary uses getContentSummary: the NameNode counts the tree in one call.
func (f *FS) Summary(ctx context.Context, root string) (fsys.Summary, error) {
	var s fsys.Summary
	err := f.do(ctx, "summary", root, always, func(c *conn) error {
		return c.call(ctx, f.cfg.CallTimeout, func() error {
			cs, err := c.client.GetContentSummary(root)
			if err != nil {
				return err
			}
			s = fsys.Summary{Files: int64(cs.FileCount()), Bytes: cs.Size(), Dirs: int64(cs.DirectoryCount())}
			return nil
		})
	})
	return s, err
}

// MkdirAll creates dir with permission 0755 (0777 under the usual 022 umask).
func (f *FS) MkdirAll(ctx context.Context, dir string) error {
	err := f.do(ctx, "mkdir", dir, always, func(c *conn) error {
		return c.call(ctx, f.cfg.CallTimeout, func() error {
			return c.client.MkdirAll(dir, 0o755)
		})
	})
	var he hdfs.Error
	var pe *fsys.PathError
	if errors.As(err, &he) && he.Exception() == excParentNotDir && errors.As(err, &pe) {
		pe.Kind = fsys.ErrExist // a file where a parent directory should be
	}
	return err
}

// Rename checks that newpath is free and then renames. The client always asks the NameNode to
// overwrite (rename2 with OVERWRITE), so a writer creating newpath between the check and the
// rename could be replaced; the window is one NameNode round trip. Not retried: a rename whose
// reply was lost may have happened.
func (f *FS) Rename(ctx context.Context, oldpath, newpath string) error {
	return f.do(ctx, "rename", oldpath, nil, func(c *conn) error {
		return c.call(ctx, f.cfg.CallTimeout, func() error {
			return renameNoReplace(c.client, "rename", oldpath, newpath)
		})
	})
}

// MoveFile is Rename for files only, with the same window.
func (f *FS) MoveFile(ctx context.Context, oldpath, newpath string) error {
	return f.do(ctx, "move", oldpath, nil, func(c *conn) error {
		return c.call(ctx, f.cfg.CallTimeout, func() error {
			fi, err := c.client.Stat(oldpath)
			if err != nil {
				return err
			}
			if fi.IsDir() {
				return &fsys.PathError{Op: "move", Path: oldpath, Kind: fsys.ErrUnsupported, Err: errors.New("is a directory: only files are moved one by one")}
			}
			return renameNoReplace(c.client, "move", oldpath, newpath)
		})
	})
}

// CopyFile streams the file through this process (HDFS has no server-side copy) into a
// hidden file beside dst, then renames it into place with the same window as Rename. The
// source's status is read before and after: a writer changing it meanwhile fails the copy.
// Not retried: a rename whose reply was lost may have happened. The data's time is bounded by
// ctx alone, not by the per-call timeout.
func (f *FS) CopyFile(ctx context.Context, src, dst string) (fsys.Entry, error) {
	var e fsys.Entry
	err := f.do(ctx, "copy", src, nil, func(c *conn) error {
		return c.call(ctx, 0, func() error {
			fi, err := c.client.Stat(src)
			if err != nil {
				return err
			}
			if fi.IsDir() {
				return &fsys.PathError{Op: "copy", Path: src, Kind: fsys.ErrUnsupported, Err: errors.New("is a directory: only files are copied one by one")}
			}
			if _, err := c.client.Stat(dst); err == nil {
				return &fsys.PathError{Op: "copy", Path: src, Kind: fsys.ErrExist, Err: fmt.Errorf("destination %s exists", dst)}
			} else if !errors.Is(err, os.ErrNotExist) {
				return err
			}
			if pe, err := c.client.Stat(path.Dir(dst)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			} else if err != nil || !pe.IsDir() {
				return &fsys.PathError{Op: "copy", Path: src, Kind: fsys.ErrNotExist, Err: fmt.Errorf("destination directory %s does not exist", path.Dir(dst))}
			}
			tmp := path.Join(path.Dir(dst), fmt.Sprintf(".%s.copying-%d", path.Base(dst), time.Now().UnixNano()))
			if err := copyData(c.client, src, tmp); err != nil {
				_ = c.client.Remove(tmp)
				return err
			}
			after, err := c.client.Stat(src)
			if err == nil && (after.Size() != fi.Size() || !after.ModTime().Equal(fi.ModTime())) {
				err = &fsys.PathError{Op: "copy", Path: src, Err: errors.New("the file changed while it was copied")}
			}
			if err == nil {
				if err = renameNoReplace(c.client, "copy", tmp, dst); errors.Is(err, fsys.ErrExist) {
					err = &fsys.PathError{Op: "copy", Path: src, Kind: fsys.ErrExist, Err: fmt.Errorf("destination %s exists", dst)}
				}
			}
			if err != nil {
				_ = c.client.Remove(tmp)
				return err
			}
			e = entry(fi)
			return nil
		})
	})
	return e, err
}

func copyData(client *hdfs.Client, src, dst string) error {
	in, err := client.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := client.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func renameNoReplace(client *hdfs.Client, op, oldpath, newpath string) error {
	_, err := client.Stat(newpath)
	if err == nil {
		return &fsys.PathError{Op: op, Path: oldpath, Kind: fsys.ErrExist, Err: fmt.Errorf("destination %s exists", newpath)}
	}
	if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return client.Rename(oldpath, newpath)
}

// Remove is a non-recursive delete: the NameNode refuses a directory that is not empty
// (PathIsNotEmptyDirectoryException) in the same operation. Not retried: a delete whose reply
// was lost may have happened.
func (f *FS) Remove(ctx context.Context, name string) error {
	return f.do(ctx, "remove", name, nil, func(c *conn) error {
		return c.call(ctx, f.cfg.CallTimeout, func() error {
			return c.client.Remove(name)
		})
	})
}

// RemoveAll deletes name recursively and permanently: it does not move it to the trash
// (.Trash) as `hdfs dfs -rm` does. It refuses the root.
func (f *FS) RemoveAll(ctx context.Context, name string) error {
	if path.Clean(name) == "/" {
		return &fsys.PathError{Op: "remove", Path: name, Err: errors.New("refusing to remove the root")}
	}
	return f.do(ctx, "remove", name, always, func(c *conn) error {
		return c.call(ctx, f.cfg.CallTimeout, func() error {
			return c.client.RemoveAll(name)
		})
	})
}

// Java exceptions the client does not translate itself.
const (
	excParentNotDir = "org.apache.hadoop.fs.ParentNotDirectoryException"
	excStandby      = "org.apache.hadoop.ipc.StandbyException"
	excSafeMode     = "org.apache.hadoop.hdfs.server.namenode.SafeModeException"
	excRetriable    = "org.apache.hadoop.ipc.RetriableException"
)

// broken reports whether err left the connection in an unknown state: anything but an answer
// from the NameNode (a remote exception, or a result the client turned into an os error).
func broken(err error) bool {
	var he hdfs.Error
	var fe *fsys.PathError
	if errors.As(err, &he) || errors.As(err, &fe) {
		return false
	}
	for _, e := range []error{os.ErrNotExist, os.ErrExist, os.ErrPermission, os.ErrInvalid, syscall.ENOTEMPTY} {
		if errors.Is(err, e) {
			return false
		}
	}
	return true
}

// error translates a client error into fsys kinds, keeping the NameNode's message.
func (f *FS) error(op, name string, err error) error {
	if fe, ok := err.(*fsys.PathError); ok {
		return fe // made here, already translated
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var kind error
	var he hdfs.Error
	switch {
	case errors.As(err, &he):
		switch he.Exception() {
		case excParentNotDir:
			kind = fsys.ErrNotExist
		case excStandby, excSafeMode, excRetriable:
			kind = fsys.ErrUnavailable
		}
		if msg := firstLine(he.Message()); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
	case errors.Is(err, os.ErrNotExist):
		kind = fsys.ErrNotExist
	case errors.Is(err, os.ErrExist):
		kind = fsys.ErrExist
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
	case broken(err):
		kind = fsys.ErrUnavailable
	}
	return &fsys.PathError{Op: op, Path: name, Kind: kind, Err: err}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}
