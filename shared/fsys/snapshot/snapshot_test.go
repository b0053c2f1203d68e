package snapshot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/fsystest"
	"github.com/hivemerge/hivemerge/shared/fsys/gcsfs"
	"github.com/hivemerge/hivemerge/shared/fsys/hdfsfs"
	"github.com/hivemerge/hivemerge/shared/fsys/hdfsfs/namenodetest"
	"github.com/hivemerge/hivemerge/shared/fsys/localfs"
	"github.com/hivemerge/hivemerge/shared/fsys/snapshot"
	"github.com/hivemerge/hivemerge/shared/merge"
)

var mtime = time.Date(2024, 3, 1, 12, 30, 15, 0, time.UTC)

// backends are the real adapters, each on a fresh, empty root.
var backends = []struct {
	name string
	new  func(t *testing.T) fsystest.Fixture
}{
	{"local", func(t *testing.T) fsystest.Fixture {
		return fsystest.Fixture{FS: localfs.New(), Root: t.TempDir(), WriteFile: func(t *testing.T, name string, size int64, mtime time.Time) {
			t.Helper()
			if err := os.MkdirAll(filepath.Dir(name), 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, make([]byte, size), 0o666); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(name, mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}}
	}},
	{"hdfs", func(t *testing.T) fsystest.Fixture {
		t.Setenv("HADOOP_CONF_DIR", "") // keep a developer's Hadoop configuration out
		t.Setenv("HADOOP_HOME", "")
		ns := namenodetest.NewNamespace()
		if err := ns.MkdirAll("/root"); err != nil {
			t.Fatal(err)
		}
		srv := namenodetest.Start(t, ns, namenodetest.Options{})
		fs, err := hdfsfs.New(context.Background(), hdfsfs.Config{Addresses: []string{srv.Addr()}, User: "hive"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fs.Close() })
		return fsystest.Fixture{FS: fs, Root: "/root", NoData: true, WriteFile: func(t *testing.T, name string, size int64, mtime time.Time) {
			if err := ns.WriteFile(name, size, mtime); err != nil {
				t.Fatal(err)
			}
		}}
	}},
	{"gcs", func(t *testing.T) fsystest.Fixture {
		srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Stop)
		srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "warehouse"})
		return fsystest.Fixture{FS: gcsfs.New(srv.Client(), "warehouse", gcsfs.Options{}), Root: "/root", WriteFile: func(t *testing.T, name string, size int64, mtime time.Time) {
			srv.CreateObject(fakestorage.Object{
				ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "warehouse", Name: strings.TrimPrefix(name, "/"), Updated: mtime},
				Content:     make([]byte, size),
			})
		}}
	}},
}

// noRename counts directory renames, which must never happen: on an object store a rename is a
// copy of every object that readers can see half done.
type noRename struct {
	fsys.FS
	renames atomic.Int32
}

func (f *noRename) Rename(ctx context.Context, oldpath, newpath string) error {
	f.renames.Add(1)
	return f.FS.Rename(ctx, oldpath, newpath)
}

// run runs fn on every backend, through noRename.
func run(t *testing.T, fn func(t *testing.T, fx fsystest.Fixture)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			fx := b.new(t)
			nr := &noRename{FS: fx.FS}
			fx.FS = nr
			fn(t, fx)
			if n := nr.renames.Load(); n != 0 {
				t.Errorf("Rename called %d times", n)
			}
		})
	}
}

func write(t *testing.T, fx fsystest.Fixture, rel string, size int64) {
	t.Helper()
	fx.WriteFile(t, path.Join(fx.Root, rel), size, mtime)
}

// tree lists every file under dir, hidden ones included, as "path size".
func tree(t *testing.T, fx fsystest.Fixture, dir string) []string {
	t.Helper()
	var out []string
	var walk func(rel string)
	walk = func(rel string) {
		entries, err := fsys.ReadDir(context.Background(), fx.FS, path.Join(fx.Root, dir, rel))
		if errors.Is(err, fsys.ErrNotExist) && rel == "" {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir {
				walk(path.Join(rel, e.Name))
				continue
			}
			out = append(out, fmt.Sprintf("%s %d", path.Join(rel, e.Name), e.Size))
		}
	}
	walk("")
	slices.Sort(out)
	return out
}

func take(t *testing.T, fx fsystest.Fixture, dir string) snapshot.Snapshot {
	t.Helper()
	s, err := snapshot.Take(context.Background(), fx.FS, path.Join(fx.Root, dir))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTake(t *testing.T) {
	run(t, func(t *testing.T, fx fsystest.Fixture) {
		ctx := context.Background()
		write(t, fx, "p/000000_0", 10)
		write(t, fx, "p/delta_1_1/bucket_00000", 20)
		write(t, fx, "p/_SUCCESS", 0)
		write(t, fx, "p/.hive-staging_1/-ext-10000/000000_0", 99)
		write(t, fx, "p/_tmp/x", 99)
		s := take(t, fx, "p")
		var paths []string
		for _, f := range s.Files {
			paths = append(paths, f.Path)
			if !f.ModTime.Equal(mtime) {
				t.Errorf("%s: ModTime %v, want %v", f.Path, f.ModTime, mtime)
			}
		}
		if want := []string{"000000_0", "delta_1_1/bucket_00000"}; !slices.Equal(paths, want) || s.Count != 2 || s.Bytes != 30 {
			t.Fatalf("Take = %q, %d files, %d bytes; want %q, 2 files, 30 bytes", paths, s.Count, s.Bytes, want)
		}
		if again := take(t, fx, "p"); again.Fingerprint != s.Fingerprint {
			t.Errorf("fingerprint not stable: %s then %s", s.Fingerprint, again.Fingerprint)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back snapshot.Snapshot
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("decoding %s: %v", b, err)
		}
		if snapshot.Compare(s, back).Empty() != true || back.Fingerprint != s.Fingerprint {
			t.Errorf("JSON round trip changed the snapshot: %s", b)
		}
		if _, err := snapshot.Take(ctx, fx.FS, path.Join(fx.Root, "missing")); !errors.Is(err, fsys.ErrNotExist) {
			t.Errorf("Take of a missing directory: error %v, want ErrNotExist", err)
		}
	})
}

// TestChanged changes the directory one step at a time; each step is compared with the first
// snapshot.
func TestChanged(t *testing.T) {
	run(t, func(t *testing.T, fx fsystest.Fixture) {
		ctx := context.Background()
		write(t, fx, "p/a", 10)
		write(t, fx, "p/sub/b", 20)
		snap := take(t, fx, "p")
		steps := []struct {
			name     string
			change   func()
			want     snapshot.Diff
			sameHash bool
		}{
			{"hidden file added", func() { write(t, fx, "p/_SUCCESS", 0) }, snapshot.Diff{}, true},
			{"file added", func() { write(t, fx, "p/c", 1) }, snapshot.Diff{Added: []string{"c"}}, false},
			{"added file removed", func() { remove(t, fx, "p/c") }, snapshot.Diff{}, true},
			{"file removed", func() { remove(t, fx, "p/sub/b") }, snapshot.Diff{Removed: []string{"sub/b"}}, false},
			{"file restored", func() { write(t, fx, "p/sub/b", 20) }, snapshot.Diff{}, true},
			{"size changed", func() { write(t, fx, "p/a", 11) }, snapshot.Diff{Modified: []string{"a"}}, false},
		}
		for _, st := range steps {
			st.change()
			d, err := snapshot.Changed(ctx, fx.FS, path.Join(fx.Root, "p"), snap)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(d) != fmt.Sprint(st.want) || d.Empty() != st.sameHash {
				t.Errorf("%s: Changed = %+v, want %+v", st.name, d, st.want)
			}
			if now := take(t, fx, "p"); (now.Fingerprint == snap.Fingerprint) != st.sameHash {
				t.Errorf("%s: fingerprint equal = %v, want %v", st.name, !st.sameHash, st.sameHash)
			}
		}
	})
}

func remove(t *testing.T, fx fsystest.Fixture, rel string) {
	t.Helper()
	if err := fx.FS.Remove(context.Background(), path.Join(fx.Root, rel)); err != nil {
		t.Fatal(err)
	}
}

// mergeSetup is a partition after a merge: old was read (snap), new holds the merged files,
// and a writer added late files to old afterwards.
func mergeSetup(t *testing.T, fx fsystest.Fixture) snapshot.Snapshot {
	t.Helper()
	write(t, fx, "old/000000_0", 10)
	write(t, fx, "old/000001_0", 10)
	snap := take(t, fx, "old")
	write(t, fx, "new/000000_0", 15) // merged output
	write(t, fx, "new/000002_0", 5)
	write(t, fx, "old/000002_0", 3) // late, and its name is taken in new
	write(t, fx, "old/part-1.orc", 4)
	write(t, fx, "old/delta_5_5/bucket_00000", 6)
	write(t, fx, "old/_tmp/000003_0", 7) // a writer still at work
	return snap
}

var wantNew = []string{"000000_0 15", "000002_0 5", "000002_0_copy_1 3", "delta_5_5/bucket_00000 6", "part-1.orc 4"}

func TestCarryOver(t *testing.T) {
	run(t, func(t *testing.T, fx fsystest.Fixture) {
		ctx := context.Background()
		snap := mergeSetup(t, fx)
		oldDir, newDir := path.Join(fx.Root, "old"), path.Join(fx.Root, "new")
		moved, err := snapshot.CarryOver(ctx, fx.FS, snap, oldDir, newDir)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"000002_0_copy_1", "delta_5_5/bucket_00000", "part-1.orc"}; !slices.Equal(moved, want) {
			t.Errorf("CarryOver moved %q, want %q", moved, want)
		}
		wantOld := []string{"000000_0 10", "000001_0 10", "_tmp/000003_0 7"}
		check := func(when string) {
			if got := tree(t, fx, "new"); !slices.Equal(got, wantNew) {
				t.Errorf("%s: new holds %q, want %q", when, got, wantNew)
			}
			if got := tree(t, fx, "old"); !slices.Equal(got, wantOld) {
				t.Errorf("%s: old holds %q, want %q", when, got, wantOld)
			}
		}
		check("after CarryOver")

		moved, err = snapshot.CarryOver(ctx, fx.FS, snap, oldDir, newDir)
		if err != nil || len(moved) != 0 {
			t.Errorf("CarryOver again moved %q, %v; want nothing", moved, err)
		}
		check("after CarryOver again")
	})
}

// TestCopy: late files are copied into the new directory under the names CarryOver would
// give them, the originals stay, and what was copied can join the snapshot, so that
// CarryOver leaves those originals alone and Cleanup deletes them.
func TestCopy(t *testing.T) {
	run(t, func(t *testing.T, fx fsystest.Fixture) {
		if fx.NoData {
			t.Skip("the backend's test double keeps no file contents")
		}
		ctx := context.Background()
		snap := mergeSetup(t, fx)
		oldDir, newDir := path.Join(fx.Root, "old"), path.Join(fx.Root, "new")
		late := snapshot.Compare(snap, take(t, fx, "old")).Added
		copied, names, err := snapshot.Copy(ctx, fx.FS, oldDir, late, newDir)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"000002_0_copy_1", "delta_5_5/bucket_00000", "part-1.orc"}; !slices.Equal(names, want) {
			t.Errorf("Copy named the copies %q, want %q", names, want)
		}
		if got := tree(t, fx, "new"); !slices.Equal(got, wantNew) {
			t.Errorf("new holds %q, want %q", got, wantNew)
		}
		wantOld := []string{"000000_0 10", "000001_0 10", "000002_0 3", "_tmp/000003_0 7", "delta_5_5/bucket_00000 6", "part-1.orc 4"}
		if got := tree(t, fx, "old"); !slices.Equal(got, wantOld) {
			t.Errorf("old holds %q, want %q: the originals stay", got, wantOld)
		}
		taken := snapshot.New(append(slices.Clone(snap.Files), copied...))
		if d := snapshot.Compare(taken, take(t, fx, "old")); !d.Empty() {
			t.Errorf("the snapshot with the copies differs from old: %+v", d)
		}
		if moved, err := snapshot.CarryOver(ctx, fx.FS, taken, oldDir, newDir); err != nil || len(moved) != 0 {
			t.Errorf("CarryOver after the copies moved %q, %v; want nothing", moved, err)
		}
		res, err := snapshot.Cleanup(ctx, fx.FS, taken, oldDir, newDir)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Deleted) != 5 || len(res.Carried) != 0 {
			t.Errorf("Cleanup deleted %q and carried %q; want the five files read or copied, and nothing carried", res.Deleted, res.Carried)
		}
		if got := tree(t, fx, "new"); !slices.Equal(got, wantNew) {
			t.Errorf("after Cleanup new holds %q, want %q", got, wantNew)
		}

		if _, _, err := snapshot.Copy(ctx, fx.FS, oldDir, []string{"../x"}, newDir); !errors.Is(err, merge.ErrInvalid) {
			t.Errorf("Copy of ../x: error %v, want ErrInvalid", err)
		}
		if _, _, err := snapshot.Copy(ctx, fx.FS, oldDir, late, path.Join(oldDir, "sub")); !errors.Is(err, merge.ErrInvalid) {
			t.Errorf("Copy into old itself: error %v, want ErrInvalid", err)
		}
	})
}

// crashing fails every MoveFile after the first n, as a process dying midway would leave it.
type crashing struct {
	fsys.FS
	n atomic.Int32
}

var errCrash = errors.New("crash")

func (f *crashing) MoveFile(ctx context.Context, oldpath, newpath string) error {
	if f.n.Add(-1) < 0 {
		return errCrash
	}
	return f.FS.MoveFile(ctx, oldpath, newpath)
}

func TestCarryOverAfterCrash(t *testing.T) {
	run(t, func(t *testing.T, fx fsystest.Fixture) {
		ctx := context.Background()
		snap := mergeSetup(t, fx)
		oldDir, newDir := path.Join(fx.Root, "old"), path.Join(fx.Root, "new")
		c := &crashing{FS: fx.FS}
		c.n.Store(2) // 000002_0 is taken, 000002_0_copy_1 is free
		moved, err := snapshot.CarryOver(ctx, c, snap, oldDir, newDir)
		if !errors.Is(err, errCrash) || len(moved) != 1 {
			t.Fatalf("CarryOver with a crash after one move: %q, %v; want one file and the crash", moved, err)
		}
		rest, err := snapshot.CarryOver(ctx, fx.FS, snap, oldDir, newDir)
		if err != nil {
			t.Fatal(err)
		}
		if all := append(moved, rest...); len(all) != 3 {
			t.Errorf("moved %q then %q, want three files in all", moved, rest)
		}
		if got := tree(t, fx, "new"); !slices.Equal(got, wantNew) {
			t.Errorf("new holds %q, want %q", got, wantNew)
		}
	})
}

func TestCleanup(t *testing.T) {
	run(t, func(t *testing.T, fx fsystest.Fixture) {
		ctx := context.Background()
		snap := mergeSetup(t, fx)
		backup, live := path.Join(fx.Root, "old"), path.Join(fx.Root, "new")
		before := tree(t, fx, "old")
		for _, l := range []string{backup, backup + "/", path.Join(backup, "delta_5_5"), fx.Root} {
			_, err := snapshot.Cleanup(ctx, fx.FS, snap, backup, l)
			if !errors.Is(err, merge.ErrConflict) {
				t.Errorf("Cleanup with the table at %q: error %v, want ErrConflict", l, err)
			}
		}
		if _, err := snapshot.Cleanup(ctx, fx.FS, snap, backup, ""); !errors.Is(err, merge.ErrInvalid) {
			t.Errorf("Cleanup without the table's location: error %v, want ErrInvalid", err)
		}
		if got := tree(t, fx, "old"); !slices.Equal(got, before) {
			t.Fatalf("a refused Cleanup changed the backup from %q to %q", before, got)
		}

		write(t, fx, "old/000001_0", 11) // rewritten since the merge read it
		res, err := snapshot.Cleanup(ctx, fx.FS, snap, backup, live)
		if err != nil {
			t.Fatal(err)
		}
		want := snapshot.CleanupResult{
			Carried: []string{"000002_0_copy_1", "delta_5_5/bucket_00000", "part-1.orc"},
			Deleted: []string{"000000_0"},
			Kept:    []snapshot.Kept{{Path: "000001_0", Reason: snapshot.KeptModified}, {Path: "_tmp/000003_0", Reason: snapshot.KeptHidden}},
		}
		if fmt.Sprint(res) != fmt.Sprint(want) {
			t.Errorf("Cleanup = %+v, want %+v", res, want)
		}
		if got, want := tree(t, fx, "old"), []string{"000001_0 11", "_tmp/000003_0 7"}; !slices.Equal(got, want) {
			t.Errorf("backup holds %q, want %q", got, want)
		}
		if got := tree(t, fx, "new"); !slices.Equal(got, wantNew) {
			t.Errorf("live holds %q, want %q", got, wantNew)
		}

		// Once the writer is done and the rewritten file is dealt with, the backup goes.
		remove(t, fx, "old/_tmp/000003_0")
		write(t, fx, "old/000001_0", 10)
		write(t, fx, "old/late", 1)
		res, err = snapshot.Cleanup(ctx, fx.FS, snap, backup, live)
		if err != nil {
			t.Fatal(err)
		}
		want = snapshot.CleanupResult{Carried: []string{"late"}, Deleted: []string{"000001_0"}, Removed: true}
		if fmt.Sprint(res) != fmt.Sprint(want) {
			t.Errorf("second Cleanup = %+v, want %+v", res, want)
		}
		if _, err := fx.FS.Stat(ctx, backup); !errors.Is(err, fsys.ErrNotExist) {
			t.Errorf("backup after Cleanup: Stat error %v, want ErrNotExist", err)
		}
		if got := tree(t, fx, "new"); !slices.Contains(got, "late 1") || len(got) != len(wantNew)+1 {
			t.Errorf("live holds %q, want the merged and late files", got)
		}

		res, err = snapshot.Cleanup(ctx, fx.FS, snap, backup, live)
		if err != nil || fmt.Sprint(res) != fmt.Sprint(snapshot.CleanupResult{Removed: true}) {
			t.Errorf("Cleanup of a removed backup = %+v, %v; want it removed, nothing done", res, err)
		}
	})
}

// racingWriter commits a file into the backup just before Cleanup's first delete, after
// Cleanup has carried late files over: a writer's job that resolved the old location long ago.
type racingWriter struct {
	fsys.FS
	once  sync.Once
	write func()
}

func (f *racingWriter) Remove(ctx context.Context, name string) error {
	f.once.Do(f.write)
	return f.FS.Remove(ctx, name)
}

func TestCleanupRacingWriter(t *testing.T) {
	run(t, func(t *testing.T, fx fsystest.Fixture) {
		ctx := context.Background()
		snap := mergeSetup(t, fx)
		backup, live := path.Join(fx.Root, "old"), path.Join(fx.Root, "new")
		remove(t, fx, "old/_tmp/000003_0") // the other writer is done
		rw := &racingWriter{FS: fx.FS, write: func() { write(t, fx, "old/000009_0", 9) }}
		res, err := snapshot.Cleanup(ctx, rw, snap, backup, live)
		if err != nil {
			t.Fatal(err)
		}
		if res.Removed || !slices.Contains(res.Kept, snapshot.Kept{Path: "000009_0", Reason: snapshot.KeptLate}) {
			t.Errorf("Cleanup = %+v; want 000009_0 kept as late and the backup kept", res)
		}
		if got := tree(t, fx, "old"); !slices.Contains(got, "000009_0 9") {
			t.Errorf("backup holds %q: the racing writer's file is gone", got)
		}

		// The next cleanup carries it over and removes the backup.
		res, err = snapshot.Cleanup(ctx, fx.FS, snap, backup, live)
		if err != nil || !res.Removed || !slices.Equal(res.Carried, []string{"000009_0"}) {
			t.Errorf("next Cleanup = %+v, %v; want 000009_0 carried over and the backup removed", res, err)
		}
		if got := tree(t, fx, "new"); !slices.Contains(got, "000009_0 9") {
			t.Errorf("live holds %q, want 000009_0 too", got)
		}
	})
}

// TestDecode checks that a recorded snapshot is refused, not trusted, when it was damaged or
// edited: its paths decide what Cleanup deletes.
func TestDecode(t *testing.T) {
	good := snapshot.New([]snapshot.File{{Path: "a", Size: 1, ModTime: mtime}, {Path: "d/b", Size: 2, ModTime: mtime}})
	b, err := json.Marshal(good)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		json string
	}{
		{"size edited", strings.Replace(string(b), `"a",1,`, `"a",5,`, 1)},
		{"escapes the directory", encode(t, snapshot.New([]snapshot.File{{Path: "../x", Size: 1}}))},
		{"absolute", encode(t, snapshot.New([]snapshot.File{{Path: "/x", Size: 1}}))},
		{"hidden", encode(t, snapshot.New([]snapshot.File{{Path: "d/_x", Size: 1}}))},
		{"not clean", encode(t, snapshot.New([]snapshot.File{{Path: "d//x", Size: 1}}))},
		{"not a triple", `{"fingerprint":"","count":1,"bytes":1,"files":[["a",1]]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s snapshot.Snapshot
			if err := json.Unmarshal([]byte(tt.json), &s); err == nil {
				t.Errorf("decoding %s succeeded", tt.json)
			}
		})
	}
	var s snapshot.Snapshot
	if err := json.Unmarshal(b, &s); err != nil || s.Fingerprint != good.Fingerprint {
		t.Errorf("decoding %s: %+v, %v", b, s, err)
	}
	if _, err := snapshot.CarryOver(context.Background(), localfs.New(), snapshot.New([]snapshot.File{{Path: "../x"}}), t.TempDir(), t.TempDir()); !errors.Is(err, merge.ErrInvalid) {
		t.Errorf("CarryOver with an escaping path: error %v, want ErrInvalid", err)
	}
}

func encode(t *testing.T, s snapshot.Snapshot) string {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestJSONSize bounds the record of a large partition: a task document must stay far below
// Firestore's 1 MiB. 2,000 Spark-style names (66 characters) with sizes of 100 MB and
// millisecond times encode to about 190 KB; the bound is 256 KiB.
func TestJSONSize(t *testing.T) {
	files := make([]snapshot.File, 2000)
	for i := range files {
		files[i] = snapshot.File{
			Path:    fmt.Sprintf("part-%05d-8c3f9a2e-5b1d-4e7a-9f3c-2d1e0b7a6c54.c000.snappy.parquet", i),
			Size:    134_217_728 + int64(i),
			ModTime: mtime.Add(time.Duration(i) * time.Millisecond),
		}
	}
	b, err := json.Marshal(snapshot.New(files))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("2,000 files: %d bytes of JSON", len(b))
	if len(b) > 256<<10 {
		t.Errorf("2,000 files encode to %d bytes, want at most 256 KiB", len(b))
	}
}
