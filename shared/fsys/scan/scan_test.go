package scan_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/localfs"
	"github.com/hivemerge/hivemerge/shared/fsys/scan"
)

const mib = scan.MiB

// writeTree creates sparse files: sizes cost no disk.
func writeTree(t *testing.T, root string, files map[string]int64) {
	t.Helper()
	for name, size := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, size); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBucket(t *testing.T) {
	tests := []struct {
		size int64
		want int
	}{
		{0, 0}, {mib - 1, 0}, {mib, 1}, {16*mib - 1, 1}, {16 * mib, 2}, {64 * mib, 3},
		{128*mib - 1, 3}, {128 * mib, 4}, {256*mib - 1, 4}, {256 * mib, 5}, {1 << 40, 5},
	}
	for _, tt := range tests {
		if got := scan.Bucket(tt.size); got != tt.want {
			t.Errorf("Bucket(%d) = %d (%s), want %d (%s)", tt.size, got, scan.Labels[got], tt.want, scan.Labels[tt.want])
		}
	}
}

func TestTree(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]int64
		hidden  bool
		root    string
		want    scan.Stats
		wantErr error
	}{
		{
			name: "partitions and histogram",
			files: map[string]int64{
				"dt=1/000000_0":     10,
				"dt=1/000001_0":     mib,
				"dt=2/hr=00/a":      20 * mib,
				"dt=2/hr=01/b":      100 * mib,
				"dt=2/hr=01/c":      200 * mib,
				"dt=3/big":          300 * mib,
				"dt=3/delta_1_1/x":  5,
				"dt=3/base_0001/y":  6,
				"dt=3/empty/.keep":  0,
				"dt=3/deep/a/b/c/d": 1,
			},
			want: scan.Stats{
				Files: 9, Bytes: 10 + mib + 20*mib + 100*mib + 200*mib + 300*mib + 5 + 6 + 1,
				Dirs:  13, // root, dt=1, dt=2, hr=00, hr=01, dt=3, delta, base, empty, deep, a, b, c
				Sizes: scan.Histogram{4, 1, 1, 1, 1, 1},
			},
		},
		{
			name: "hidden files and directories are ignored",
			files: map[string]int64{
				"dt=1/000000_0":                  10,
				"dt=1/_SUCCESS":                  0,
				"dt=1/.000000_0.crc":             8,
				"_temporary/0/part-0":            99,
				".hive-staging_hive_2024/-ext-1": 99,
				"dt=2/_tmp.000000_0":             99,
			},
			want: scan.Stats{Files: 1, Bytes: 10, Dirs: 3, Sizes: scan.Histogram{1}},
		},
		{
			name: "hidden included on request",
			files: map[string]int64{
				"dt=1/000000_0": 10,
				"dt=1/_SUCCESS": 0,
				"_tmp/x":        1,
			},
			hidden: true,
			want:   scan.Stats{Files: 3, Bytes: 11, Dirs: 3, Sizes: scan.Histogram{3}},
		},
		{
			name:  "root is a file",
			files: map[string]int64{"f": 2 * mib},
			root:  "f",
			want:  scan.Stats{Files: 1, Bytes: 2 * mib, Sizes: scan.Histogram{0, 1}},
		},
		{
			name:  "hidden root is still scanned",
			files: map[string]int64{"_staging/a": 1},
			root:  "_staging",
			want:  scan.Stats{Files: 1, Bytes: 1, Dirs: 1, Sizes: scan.Histogram{1}},
		},
		{
			name:    "missing root",
			root:    "nope",
			wantErr: fsys.ErrNotExist,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tt.files)
			root := filepath.Join(dir, tt.root)
			for _, conc := range []int{1, 3, 0} {
				s := scan.Scanner{Concurrency: conc, IncludeHidden: tt.hidden}
				got, err := s.Tree(context.Background(), localfs.New(), root)
				if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
					t.Fatalf("Concurrency %d: error %v, want %v", conc, err, tt.wantErr)
				}
				if err == nil && got != tt.want {
					t.Errorf("Concurrency %d: got %+v, want %+v", conc, got, tt.want)
				}
			}
		})
	}
}

func TestLocations(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]int64{
		"a/dt=1/f": 1,
		"a/dt=2/f": 2,
		"b/f":      3 * mib,
	})
	down := errors.New("namenode down")
	r := fsys.NewResolver(map[string]fsys.Opener{
		"file": localfs.Opener(),
		"hdfs": func(context.Context, string) (fsys.FS, error) { return nil, down },
	})
	locations := []string{
		filepath.Join(dir, "a"),
		"file://" + filepath.Join(dir, "b"),
		filepath.Join(dir, "missing"),
		"hdfs://nn/w",
		"s3a://bucket/w",
	}
	got, err := scan.Scanner{Concurrency: 2}.Locations(context.Background(), r, locations)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		stats scan.Stats
		err   error
	}{
		{scan.Stats{Files: 2, Bytes: 3, Dirs: 3, Sizes: scan.Histogram{2}}, nil},
		{scan.Stats{Files: 1, Bytes: 3 * mib, Dirs: 1, Sizes: scan.Histogram{0, 1}}, nil},
		{scan.Stats{}, fsys.ErrNotExist},
		{scan.Stats{}, down},
		{scan.Stats{}, fsys.ErrUnsupported},
	}
	if len(got) != len(want) {
		t.Fatalf("%d results for %d locations", len(got), len(locations))
	}
	for i, w := range want {
		if got[i].Location != locations[i] {
			t.Errorf("result %d is for %q, want %q", i, got[i].Location, locations[i])
		}
		if !errors.Is(got[i].Err, w.err) || (w.err == nil) != (got[i].Err == nil) {
			t.Errorf("%s: error %v, want %v", locations[i], got[i].Err, w.err)
		}
		if got[i].Stats != w.stats {
			t.Errorf("%s: %+v, want %+v", locations[i], got[i].Stats, w.stats)
		}
	}
}

// gatedFS wraps a filesystem: List blocks until released or canceled, and records how many
// run at once.
type gatedFS struct {
	fsys.FS
	entered  chan string
	release  chan struct{}
	inFlight atomic.Int32
	max      atomic.Int32
	failDir  string
}

func (g *gatedFS) List(ctx context.Context, dir string, fn func([]fsys.Entry) error) error {
	n := g.inFlight.Add(1)
	defer g.inFlight.Add(-1)
	for {
		m := g.max.Load()
		if n <= m || g.max.CompareAndSwap(m, n) {
			break
		}
	}
	if dir == g.failDir {
		return &fsys.PathError{Op: "list", Path: dir, Kind: fsys.ErrUnavailable}
	}
	if g.entered != nil {
		select {
		case g.entered <- dir:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case <-g.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return g.FS.List(ctx, dir, fn)
}

func TestTreeCancel(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]int64{"dt=1/f": 1, "dt=2/f": 1, "dt=3/f": 1})
	g := &gatedFS{FS: localfs.New(), entered: make(chan string), release: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := scan.Scanner{Concurrency: 2}.Tree(ctx, g, dir)
		done <- err
	}()
	<-g.entered // the root listing is in flight
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Tree after cancel: error %v, want context.Canceled", err)
	}
}

func TestTreeSubdirectoryFails(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]int64{"dt=1/f": 1, "dt=2/f": 1, "dt=3/f": 1})
	g := &gatedFS{FS: localfs.New(), failDir: filepath.Join(dir, "dt=2")}
	_, err := scan.Scanner{Concurrency: 2}.Tree(context.Background(), g, dir)
	if !errors.Is(err, fsys.ErrUnavailable) {
		t.Errorf("Tree with an unreachable partition: error %v, want ErrUnavailable", err)
	}
}

func TestConcurrencyBound(t *testing.T) {
	dir := t.TempDir()
	files := make(map[string]int64)
	for i := range 60 {
		files[fmt.Sprintf("dt=%d/hr=%d/f", i%20, i)] = 1
	}
	writeTree(t, dir, files)
	g := &gatedFS{FS: localfs.New()}
	const limit = 3
	got, err := scan.Scanner{Concurrency: limit}.Tree(context.Background(), g, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Files != 60 || got.Dirs != 81 {
		t.Errorf("got %+v, want 60 files in 81 directories", got)
	}
	if m := g.max.Load(); m > limit {
		t.Errorf("%d listings ran at once, limit %d", m, limit)
	}
}
