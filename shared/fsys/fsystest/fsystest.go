// Package fsystest is the conformance suite that every fsys adapter's tests run.
package fsystest

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// Fixture is one filesystem under test.
type Fixture struct {
	FS fsys.FS
	// Root is an existing, empty directory that the suite owns.
	Root string
	// WriteFile creates the file name (an absolute path under Root) with size bytes and the
	// given modification time, creating missing parents. FS has no write methods because
	// hivemerge only lists and moves; writing is a backend-specific test affair.
	WriteFile func(t *testing.T, name string, size int64, mtime time.Time)
	// PageFiles is how many files the paging tests put in one directory: more than the
	// adapter's listing page. Zero means 1500, above every adapter's default page (1000 on
	// HDFS and GCS, 1024 locally); fixtures whose seeding is slow configure a smaller page.
	PageFiles int
	// Unavailable, when not nil, makes the backend fail every later Stat in transit, as a
	// network failure or an overloaded service would (MoveFile, which starts with one, fails
	// too). Backends that cannot fail so (the local
	// disk) leave it nil.
	Unavailable func(t *testing.T)
	// NoData is set by backends whose test double keeps no file contents (the NameNode fake
	// has no DataNodes): the suite then checks only CopyFile's refusals, which come before
	// any data is read.
	NoData bool
}

// Run runs the suite. newFixture is called once per subtest, so subtests are isolated.
func Run(t *testing.T, newFixture func(t *testing.T) Fixture) {
	tests := []struct {
		name string
		fn   func(t *testing.T, fx Fixture)
	}{
		{"Stat", testStat},
		{"List", testList},
		{"ListPages", testListPages},
		{"ListStops", testListStops},
		{"Summary", testSummary},
		{"MkdirAll", testMkdirAll},
		{"Rename", testRename},
		{"MoveFile", testMoveFile},
		{"CopyFile", testCopyFile},
		{"Remove", testRemove},
		{"RemoveAll", testRemoveAll},
		{"Canceled", testCanceled},
		{"Concurrent", testConcurrent},
		{"Errors", testErrors},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newFixture(t))
		})
	}
}

// mtime is a fixed time with whole seconds: every backend keeps at least milliseconds.
var mtime = time.Date(2024, 3, 1, 12, 30, 15, 0, time.UTC)

func join(fx Fixture, elem ...string) string {
	return path.Join(append([]string{fx.Root}, elem...)...)
}

func testStat(t *testing.T, fx Fixture) {
	ctx := context.Background()
	fx.WriteFile(t, join(fx, "d", "f.orc"), 1234, mtime)
	tests := []struct {
		name    string
		path    string
		want    fsys.Entry
		wantErr error
	}{
		{"file", join(fx, "d", "f.orc"), fsys.Entry{Name: "f.orc", Size: 1234, ModTime: mtime}, nil},
		{"directory", join(fx, "d"), fsys.Entry{Name: "d", IsDir: true}, nil},
		{"missing", join(fx, "nope"), fsys.Entry{}, fsys.ErrNotExist},
		{"under a file", join(fx, "d", "f.orc", "x"), fsys.Entry{}, fsys.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fx.FS.Stat(ctx, tt.path)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Stat(%q) error = %v, want %v", tt.path, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if tt.want.IsDir {
				got.ModTime = time.Time{} // object stores may have none for a directory
			}
			if !got.ModTime.Equal(tt.want.ModTime) {
				t.Errorf("Stat(%q).ModTime = %v, want %v", tt.path, got.ModTime, tt.want.ModTime)
			}
			got.ModTime, tt.want.ModTime = time.Time{}, time.Time{}
			if got != tt.want {
				t.Errorf("Stat(%q) = %+v, want %+v", tt.path, got, tt.want)
			}
		})
	}
}

func testList(t *testing.T, fx Fixture) {
	ctx := context.Background()
	// Names as Hive writes them: escaped partition values stay literal, hidden files are
	// ordinary files to the filesystem.
	fx.WriteFile(t, join(fx, "t", "dt=2024-01-01%3A00", "000000_0"), 10, mtime)
	fx.WriteFile(t, join(fx, "t", "dt=2024-01-02", "000000_0"), 20, mtime)
	fx.WriteFile(t, join(fx, "t", "_SUCCESS"), 0, mtime)
	fx.WriteFile(t, join(fx, "t", ".hive-staging", "x"), 1, mtime)
	fx.WriteFile(t, join(fx, "t", "part 1.orc"), 300, mtime)
	if err := fx.FS.MkdirAll(ctx, join(fx, "t", "empty")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		dir     string
		want    []string // "name size" or "name/" for directories
		wantErr error
	}{
		{"mixed", join(fx, "t"), []string{".hive-staging/", "_SUCCESS 0", "dt=2024-01-01%3A00/", "dt=2024-01-02/", "empty/", "part 1.orc 300"}, nil},
		{"escaped name", join(fx, "t", "dt=2024-01-01%3A00"), []string{"000000_0 10"}, nil},
		{"empty", join(fx, "t", "empty"), nil, nil},
		{"missing", join(fx, "missing"), nil, fsys.ErrNotExist},
		{"file", join(fx, "t", "part 1.orc"), nil, fsys.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := fx.FS.List(ctx, tt.dir, func(page []fsys.Entry) error {
				if len(page) == 0 {
					t.Error("List delivered an empty page")
				}
				for _, e := range page {
					if e.IsDir {
						got = append(got, e.Name+"/")
						continue
					}
					got = append(got, fmt.Sprintf("%s %d", e.Name, e.Size))
					if !e.ModTime.Equal(mtime) {
						t.Errorf("%s: ModTime = %v, want %v", e.Name, e.ModTime, mtime)
					}
				}
				return nil
			})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("List(%q) error = %v, want %v", tt.dir, err, tt.wantErr)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("List(%q) = %q, want %q", tt.dir, got, tt.want)
			}
		})
	}
}

func pageFiles(fx Fixture) int {
	if fx.PageFiles > 0 {
		return fx.PageFiles
	}
	return 1500
}

func testListPages(t *testing.T, fx Fixture) {
	ctx := context.Background()
	listPagesFiles := pageFiles(fx)
	dir := join(fx, "big")
	for i := range listPagesFiles {
		fx.WriteFile(t, path.Join(dir, fmt.Sprintf("f%05d", i)), int64(i%7), mtime)
	}
	seen := make(map[string]bool)
	pages := 0
	var bytes int64
	err := fx.FS.List(ctx, dir, func(page []fsys.Entry) error {
		pages++
		for _, e := range page {
			if seen[e.Name] {
				t.Errorf("entry %s listed twice", e.Name)
			}
			seen[e.Name] = true
			bytes += e.Size
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for i := range listPagesFiles {
		want += int64(i % 7)
	}
	if len(seen) != listPagesFiles || bytes != want {
		t.Errorf("listed %d entries with %d bytes, want %d with %d", len(seen), bytes, listPagesFiles, want)
	}
	if pages < 2 {
		t.Errorf("%d entries came in %d page; want them streamed in several", listPagesFiles, pages)
	}
}

func testListStops(t *testing.T, fx Fixture) {
	ctx := context.Background()
	listPagesFiles := pageFiles(fx)
	dir := join(fx, "big")
	for i := range listPagesFiles {
		fx.WriteFile(t, path.Join(dir, fmt.Sprintf("f%05d", i)), 1, mtime)
	}
	stop := errors.New("stop")
	calls := 0
	err := fx.FS.List(ctx, dir, func([]fsys.Entry) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("List with a failing callback: error %v after %d calls, want %v after 1", err, calls, stop)
	}

	n := 0
	for e, err := range fsys.Entries(ctx, fx.FS, dir) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Name == "" {
			t.Fatal("empty name")
		}
		if n++; n == 5 {
			break
		}
	}
	if n != 5 {
		t.Errorf("Entries yielded %d entries before break, want 5", n)
	}
}

func testSummary(t *testing.T, fx Fixture) {
	ctx := context.Background()
	fx.WriteFile(t, join(fx, "t", "a", "1"), 100, mtime)
	fx.WriteFile(t, join(fx, "t", "a", "b", "2"), 200, mtime)
	fx.WriteFile(t, join(fx, "t", "_SUCCESS"), 0, mtime)
	fx.WriteFile(t, join(fx, "t", "c", "3"), 300, mtime)
	if err := fx.FS.MkdirAll(ctx, join(fx, "t", "empty")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		root    string
		want    fsys.Summary
		wantErr error
	}{
		// t, a, a/b, c, empty
		{"tree", join(fx, "t"), fsys.Summary{Files: 4, Bytes: 600, Dirs: 5}, nil},
		{"leaf", join(fx, "t", "a", "b"), fsys.Summary{Files: 1, Bytes: 200, Dirs: 1}, nil},
		{"empty", join(fx, "t", "empty"), fsys.Summary{Dirs: 1}, nil},
		{"file", join(fx, "t", "c", "3"), fsys.Summary{Files: 1, Bytes: 300}, nil},
		{"missing", join(fx, "nope"), fsys.Summary{}, fsys.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fx.FS.Summary(ctx, tt.root)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Summary(%q) error = %v, want %v", tt.root, err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("Summary(%q) = %+v, want %+v", tt.root, got, tt.want)
			}
		})
	}
}

func testMkdirAll(t *testing.T, fx Fixture) {
	ctx := context.Background()
	fx.WriteFile(t, join(fx, "file"), 1, mtime)
	tests := []struct {
		name    string
		dir     string
		wantErr error
	}{
		{"nested", join(fx, "a", "b", "c"), nil},
		{"again", join(fx, "a", "b", "c"), nil},
		{"existing parent", join(fx, "a", "d"), nil},
		{"file in the way", join(fx, "file"), fsys.ErrExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fx.FS.MkdirAll(ctx, tt.dir)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("MkdirAll(%q) error = %v, want %v", tt.dir, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			e, err := fx.FS.Stat(ctx, tt.dir)
			if err != nil || !e.IsDir {
				t.Errorf("after MkdirAll(%q): Stat = %+v, %v; want a directory", tt.dir, e, err)
			}
			entries, err := fsys.ReadDir(ctx, fx.FS, tt.dir)
			if err != nil {
				t.Errorf("after MkdirAll(%q): List error %v", tt.dir, err)
			}
			if tt.name == "nested" && len(entries) != 0 {
				t.Errorf("new directory lists %+v, want nothing", entries)
			}
		})
	}
	entries, err := fsys.ReadDir(ctx, fx.FS, join(fx, "a"))
	if err != nil || len(entries) != 2 || !entries[0].IsDir || !entries[1].IsDir {
		t.Errorf("List(a) = %+v, %v; want directories b and d", entries, err)
	}
}

func testRename(t *testing.T, fx Fixture) {
	ctx := context.Background()
	if !fx.FS.Capabilities().AtomicRename {
		fx.WriteFile(t, join(fx, "src", "f"), 1, mtime)
		err := fx.FS.Rename(ctx, join(fx, "src"), join(fx, "dst"))
		if !errors.Is(err, fsys.ErrUnsupported) {
			t.Errorf("Rename without AtomicRename: error %v, want ErrUnsupported", err)
		}
		return
	}
	tests := []struct {
		name     string
		old, new string
		wantErr  error
	}{
		{"directory", "p/src", "p/dst", nil},
		{"file", "p/f", "p/g", nil},
		{"into other directory", "p/h", "q/h", nil},
		{"destination exists", "p/x", "p/y", fsys.ErrExist},
		{"destination is a directory", "p/x", "q", fsys.ErrExist},
		{"source missing", "p/nope", "p/z", fsys.ErrNotExist},
		{"destination parent missing", "p/x", "nope/x", fsys.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := fx
			fx.Root = join(fx, path.Base(t.Name()))
			fx.WriteFile(t, join(fx, "p", "src", "a"), 5, mtime)
			fx.WriteFile(t, join(fx, "p", "src", "sub", "b"), 6, mtime)
			fx.WriteFile(t, join(fx, "p", "f"), 7, mtime)
			fx.WriteFile(t, join(fx, "p", "h"), 8, mtime)
			fx.WriteFile(t, join(fx, "p", "x"), 9, mtime)
			fx.WriteFile(t, join(fx, "p", "y"), 10, mtime)
			fx.WriteFile(t, join(fx, "q", "keep"), 11, mtime)
			before := summary(t, fx)

			oldpath, newpath := join(fx, tt.old), join(fx, tt.new)
			err := fx.FS.Rename(ctx, oldpath, newpath)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Rename(%q, %q) error = %v, want %v", tt.old, tt.new, err, tt.wantErr)
			}
			if after := summary(t, fx); after != before {
				t.Errorf("Rename changed the tree's totals from %+v to %+v", before, after)
			}
			if err != nil {
				if e, err := fx.FS.Stat(ctx, newpath); err == nil && e.Size == 9 {
					t.Errorf("failed Rename replaced %s", tt.new)
				}
				return
			}
			if _, err := fx.FS.Stat(ctx, oldpath); !errors.Is(err, fsys.ErrNotExist) {
				t.Errorf("after Rename, Stat(old) error = %v, want ErrNotExist", err)
			}
			want, _ := fx.FS.Stat(ctx, newpath)
			if want.Name != path.Base(newpath) {
				t.Errorf("after Rename, Stat(new) = %+v", want)
			}
		})
	}
}

func testMoveFile(t *testing.T, fx Fixture) {
	ctx := context.Background()
	tests := []struct {
		name     string
		old, new string
		mkdir    string // created with MkdirAll first
		wantErr  error
	}{
		{"file", "p/f", "p/g", "", nil},
		{"into a directory made with MkdirAll", "p/f", "new/sub/f", "new/sub", nil},
		{"into a subdirectory", "p/f", "p/src/f", "", nil},
		{"hidden name", "p/f", "p/.f", "", nil},
		{"destination exists", "p/x", "p/y", "", fsys.ErrExist},
		{"destination is a directory", "p/x", "q", "", fsys.ErrExist},
		{"source missing", "p/nope", "p/z", "", fsys.ErrNotExist},
		{"destination parent missing", "p/x", "nope/x", "", fsys.ErrNotExist},
		{"directory refused", "p/src", "p/dst", "", fsys.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := fileTree(t, fx, tt.mkdir)
			before := summary(t, fx)
			src, _ := fx.FS.Stat(ctx, join(fx, tt.old))

			oldpath, newpath := join(fx, tt.old), join(fx, tt.new)
			err := fx.FS.MoveFile(ctx, oldpath, newpath)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("MoveFile(%q, %q) error = %v, want %v", tt.old, tt.new, err, tt.wantErr)
			}
			if after := summary(t, fx); after.Files != before.Files || after.Bytes != before.Bytes {
				t.Errorf("MoveFile changed the tree's totals from %+v to %+v", before, after)
			}
			if err != nil {
				checkError(t, err, tt.wantErr, errors.Unwrap(tt.wantErr))
				if e, err := fx.FS.Stat(ctx, oldpath); tt.wantErr != fsys.ErrNotExist && (err != nil || e != src) {
					t.Errorf("failed MoveFile changed the source: Stat = %+v, %v; want %+v", e, err, src)
				}
				if e, err := fx.FS.Stat(ctx, newpath); err == nil && !e.IsDir && e.Size != 10 {
					t.Errorf("failed MoveFile replaced %s: Stat = %+v", tt.new, e)
				}
				return
			}
			if _, err := fx.FS.Stat(ctx, oldpath); !errors.Is(err, fsys.ErrNotExist) {
				t.Errorf("after MoveFile, Stat(old) error = %v, want ErrNotExist", err)
			}
			got, err := fx.FS.Stat(ctx, newpath)
			if err != nil || got.Name != path.Base(newpath) || got.Size != src.Size || got.IsDir {
				t.Errorf("after MoveFile, Stat(new) = %+v, %v; want the source's %d bytes", got, err, src.Size)
			}
		})
	}
}

// fileTree gives the subtest a root of its own holding the files that testMoveFile and
// testCopyFile move and copy (p/f, p/x, p/y, p/src/a, q/keep), and mkdir when it is set.
func fileTree(t *testing.T, fx Fixture, mkdir string) Fixture {
	t.Helper()
	fx.Root = join(fx, path.Base(t.Name()))
	fx.WriteFile(t, join(fx, "p", "src", "a"), 5, mtime)
	fx.WriteFile(t, join(fx, "p", "f"), 7, mtime)
	fx.WriteFile(t, join(fx, "p", "x"), 9, mtime)
	fx.WriteFile(t, join(fx, "p", "y"), 10, mtime)
	fx.WriteFile(t, join(fx, "q", "keep"), 11, mtime)
	if mkdir != "" {
		if err := fx.FS.MkdirAll(context.Background(), join(fx, mkdir)); err != nil {
			t.Fatal(err)
		}
	}
	return fx
}

func summary(t *testing.T, fx Fixture) fsys.Summary {
	t.Helper()
	s, err := fx.FS.Summary(context.Background(), fx.Root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testCopyFile(t *testing.T, fx Fixture) {
	ctx := context.Background()
	tests := []struct {
		name     string
		src, dst string
		mkdir    string // created with MkdirAll first
		wantErr  error
	}{
		{"file", "p/f", "p/g", "", nil},
		{"into a directory made with MkdirAll", "p/f", "new/sub/f", "new/sub", nil},
		{"into a subdirectory", "p/f", "p/src/f", "", nil},
		{"destination exists", "p/x", "p/y", "", fsys.ErrExist},
		{"destination is a directory", "p/x", "q", "", fsys.ErrExist},
		{"source missing", "p/nope", "p/z", "", fsys.ErrNotExist},
		{"destination parent missing", "p/x", "nope/x", "", fsys.ErrNotExist},
		{"directory refused", "p/src", "p/dst", "", fsys.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantErr == nil && fx.NoData {
				t.Skip("the backend's test double keeps no file contents")
			}
			fx := fileTree(t, fx, tt.mkdir)
			before := summary(t, fx)
			src, _ := fx.FS.Stat(ctx, join(fx, tt.src))

			srcpath, dstpath := join(fx, tt.src), join(fx, tt.dst)
			got, err := fx.FS.CopyFile(ctx, srcpath, dstpath)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("CopyFile(%q, %q) error = %v, want %v", tt.src, tt.dst, err, tt.wantErr)
			}
			if e, err := fx.FS.Stat(ctx, srcpath); tt.wantErr != fsys.ErrNotExist && (err != nil || e != src) {
				t.Errorf("CopyFile changed the source: Stat = %+v, %v; want %+v", e, err, src)
			}
			after := summary(t, fx)
			if err != nil {
				checkError(t, err, tt.wantErr, errors.Unwrap(tt.wantErr))
				if after.Files != before.Files || after.Bytes != before.Bytes {
					t.Errorf("failed CopyFile changed the tree's totals from %+v to %+v", before, after)
				}
				if e, err := fx.FS.Stat(ctx, dstpath); err == nil && !e.IsDir && e.Size != 10 {
					t.Errorf("failed CopyFile replaced %s: Stat = %+v", tt.dst, e)
				}
				return
			}
			if !got.ModTime.Equal(src.ModTime) || got.Size != src.Size || got.Name != src.Name || got.IsDir {
				t.Errorf("CopyFile returned %+v, want the source as copied, %+v", got, src)
			}
			// One more file of the source's size, and nothing else: no temporary is left.
			if after.Files != before.Files+1 || after.Bytes != before.Bytes+src.Size {
				t.Errorf("after CopyFile the tree's totals are %+v, want %+v plus one file of %d bytes", after, before, src.Size)
			}
			if e, err := fx.FS.Stat(ctx, dstpath); err != nil || e.Name != path.Base(dstpath) || e.Size != src.Size || e.IsDir {
				t.Errorf("after CopyFile, Stat(dst) = %+v, %v; want the source's %d bytes", e, err, src.Size)
			}
		})
	}
}

func testRemove(t *testing.T, fx Fixture) {
	ctx := context.Background()
	fx.WriteFile(t, join(fx, "t", "f"), 1, mtime)
	fx.WriteFile(t, join(fx, "t", "full", "g"), 2, mtime)
	fx.WriteFile(t, join(fx, "t", "fa"), 3, mtime) // shares a prefix with "f"
	if err := fx.FS.MkdirAll(ctx, join(fx, "t", "empty")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		wantErr error
	}{
		{"file", join(fx, "t", "f"), nil},
		{"empty directory", join(fx, "t", "empty"), nil},
		{"directory not empty", join(fx, "t", "full"), fsys.ErrExist},
		{"missing", join(fx, "t", "nope"), fsys.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fx.FS.Remove(ctx, tt.path)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Remove(%q) error = %v, want %v", tt.path, err, tt.wantErr)
			}
			if err == nil {
				if _, err := fx.FS.Stat(ctx, tt.path); !errors.Is(err, fsys.ErrNotExist) {
					t.Errorf("after Remove(%q), Stat error = %v, want ErrNotExist", tt.path, err)
				}
			}
		})
	}
	for _, name := range []string{"full/g", "fa"} {
		if _, err := fx.FS.Stat(ctx, join(fx, "t", name)); err != nil {
			t.Errorf("Remove touched %s: %v", name, err)
		}
	}
}

func testRemoveAll(t *testing.T, fx Fixture) {
	ctx := context.Background()
	fx.WriteFile(t, join(fx, "t", "a", "1"), 1, mtime)
	fx.WriteFile(t, join(fx, "t", "a", "b", "2"), 1, mtime)
	fx.WriteFile(t, join(fx, "t", "keep"), 1, mtime)
	fx.WriteFile(t, join(fx, "t", "ab"), 1, mtime) // shares a prefix with "a"
	tests := []struct {
		name string
		path string
	}{
		{"tree", join(fx, "t", "a")},
		{"file", join(fx, "t", "keep")},
		{"missing", join(fx, "t", "nope")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := fx.FS.RemoveAll(ctx, tt.path); err != nil {
				t.Fatalf("RemoveAll(%q) = %v", tt.path, err)
			}
			if _, err := fx.FS.Stat(ctx, tt.path); !errors.Is(err, fsys.ErrNotExist) {
				t.Errorf("after RemoveAll(%q), Stat error = %v, want ErrNotExist", tt.path, err)
			}
		})
	}
	if e, err := fx.FS.Stat(ctx, join(fx, "t", "ab")); err != nil || e.Size != 1 {
		t.Errorf("RemoveAll(t/a) touched its sibling t/ab: Stat = %+v, %v", e, err)
	}
}

func testCanceled(t *testing.T, fx Fixture) {
	fx.WriteFile(t, join(fx, "d", "f"), 1, mtime)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := join(fx, "d")
	calls := map[string]func() error{
		"Stat": func() error { _, err := fx.FS.Stat(ctx, dir); return err },
		"List": func() error {
			return fx.FS.List(ctx, dir, func([]fsys.Entry) error { return nil })
		},
		"Summary":   func() error { _, err := fx.FS.Summary(ctx, dir); return err },
		"MkdirAll":  func() error { return fx.FS.MkdirAll(ctx, join(fx, "new")) },
		"RemoveAll": func() error { return fx.FS.RemoveAll(ctx, dir) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: error %v, want context.Canceled", name, err)
		}
	}
	if _, err := fx.FS.Stat(context.Background(), join(fx, "d", "f")); err != nil {
		t.Errorf("a canceled RemoveAll removed something: %v", err)
	}
}

func testConcurrent(t *testing.T, fx Fixture) {
	ctx := context.Background()
	const dirs, files = 8, 20
	for d := range dirs {
		for f := range files {
			fx.WriteFile(t, join(fx, fmt.Sprint(d), fmt.Sprint(f)), int64(f), mtime)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, dirs)
	for d := range dirs {
		wg.Go(func() {
			entries, err := fsys.ReadDir(ctx, fx.FS, join(fx, fmt.Sprint(d)))
			if err == nil && len(entries) != files {
				err = fmt.Errorf("dir %d: %d entries, want %d", d, len(entries), files)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// testErrors checks that the adapter's errors match both the filesystem's kinds and the
// domain's (which the HTTP layer maps to statuses), and that the message a user sees names
// the operation, the path and the kind but nothing of the backend's own error.
func testErrors(t *testing.T, fx Fixture) {
	ctx := context.Background()
	fx.WriteFile(t, join(fx, "d", "f"), 1, mtime)
	fx.WriteFile(t, join(fx, "d", "g"), 1, mtime)
	type errCase struct {
		name   string
		call   func() error
		kind   error // fsys
		domain error // merge
	}
	tests := []errCase{
		{"stat missing", func() error { _, err := fx.FS.Stat(ctx, join(fx, "nope")); return err }, fsys.ErrNotExist, merge.ErrNotFound},
		{"list a file", func() error { _, err := fsys.ReadDir(ctx, fx.FS, join(fx, "d", "f")); return err }, fsys.ErrNotExist, merge.ErrNotFound},
		{"mkdir over a file", func() error { return fx.FS.MkdirAll(ctx, join(fx, "d", "f")) }, fsys.ErrExist, merge.ErrConflict},
	}
	if fx.FS.Capabilities().AtomicRename {
		tests = append(tests, errCase{"rename onto a file", func() error { return fx.FS.Rename(ctx, join(fx, "d", "f"), join(fx, "d", "g")) }, fsys.ErrExist, merge.ErrConflict})
	} else {
		tests = append(tests, errCase{"rename unsupported", func() error { return fx.FS.Rename(ctx, join(fx, "d"), join(fx, "e")) }, fsys.ErrUnsupported, merge.ErrInvalid})
	}
	if fx.Unavailable != nil {
		tests = append(tests, errCase{"unavailable", func() error {
			fx.Unavailable(t)
			_, err := fx.FS.Stat(ctx, join(fx, "d", "f"))
			return err
		}, fsys.ErrUnavailable, merge.ErrUnavailable}, errCase{"move unavailable", func() error {
			return fx.FS.MoveFile(ctx, join(fx, "d", "f"), join(fx, "d", "h"))
		}, fsys.ErrUnavailable, merge.ErrUnavailable})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, tt.call(), tt.kind, tt.domain)
		})
	}
}

// checkError checks err against an fsys kind and its domain kind, and the user's message.
func checkError(t *testing.T, err, kind, domain error) {
	t.Helper()
	if !errors.Is(err, kind) || !errors.Is(err, domain) {
		t.Fatalf("error %v: want both %v and the domain's %v", err, kind, domain)
	}
	pe, ok := errors.AsType[*fsys.PathError](err)
	if !ok {
		t.Fatalf("error %v is no *fsys.PathError", err)
	}
	me, ok := errors.AsType[*merge.Error](err)
	if !ok {
		t.Fatalf("error %v carries no message for users", err)
	}
	if want := pe.Op + " " + pe.Path + ": " + kind.Error(); me.Msg != want {
		t.Errorf("message for users = %q, want %q (the full error is %q)", me.Msg, want, err)
	}
}
