package scan_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/fsys/localfs"
	"github.com/hivemerge/hivemerge/shared/fsys/scan"
)

// BenchmarkScanVsFind scans a local tree and runs `find DIR -type f -printf '%s\n'` over the
// same tree, and reports the ratio of their wall times (scan/find; below 1 means the scanner
// is faster). The tree (HIVEMERGE_BENCH_FILES files, default 1,000,000, 100 per directory) is
// built once under HIVEMERGE_BENCH_DIR (default the OS temp directory) and reused by later
// runs. Use -benchtime=1x at full scale: one iteration lists every file twice.
func BenchmarkScanVsFind(b *testing.B) {
	findPath, err := exec.LookPath("find")
	if err != nil {
		b.Skip("find is not installed")
	}
	files := benchFiles(b)
	root := benchTree(b, files)
	ctx := context.Background()
	fs := localfs.New()
	var s scan.Scanner

	// Warm the kernel's caches so that neither side pays for the first read from disk.
	want, err := s.Tree(ctx, fs, root)
	if err != nil {
		b.Fatal(err)
	}
	if want.Files != int64(files) {
		b.Fatalf("tree has %d files, want %d (remove %s to rebuild)", want.Files, files, root)
	}
	out, err := os.CreateTemp("", "find-output")
	if err != nil {
		b.Fatal(err)
	}
	defer os.Remove(out.Name())
	defer out.Close()

	var scanTime, findTime time.Duration
	b.ResetTimer()
	for range b.N {
		if _, err := out.Seek(0, 0); err != nil {
			b.Fatal(err)
		}
		if err := out.Truncate(0); err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(findPath, root, "-type", "f", "-printf", "%s\n")
		cmd.Stdout = out
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		findTime += time.Since(start)

		start = time.Now()
		got, err := s.Tree(ctx, fs, root)
		scanTime += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if got != want {
			b.Fatalf("scan = %+v, want %+v", got, want)
		}
	}
	b.StopTimer()
	n, bytes := sumFindOutput(b, out.Name())
	if n != want.Files || bytes != want.Bytes {
		b.Fatalf("find saw %d files with %d bytes, the scanner %d with %d", n, bytes, want.Files, want.Bytes)
	}
	b.ReportMetric(float64(scanTime)/float64(findTime), "scan/find")
	b.ReportMetric(float64(scanTime.Milliseconds())/float64(b.N), "scan-ms/op")
	b.ReportMetric(float64(findTime.Milliseconds())/float64(b.N), "find-ms/op")
	b.ReportMetric(float64(files)*float64(b.N)/scanTime.Seconds(), "scan-files/s")
}

func benchFiles(b *testing.B) int {
	files := 1_000_000
	if v := os.Getenv("HIVEMERGE_BENCH_FILES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("HIVEMERGE_BENCH_FILES=%q: want a positive number", v)
		}
		files = n
	}
	return files
}

func sumFindOutput(b *testing.B, name string) (files, total int64) {
	f, err := os.Open(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n, err := strconv.ParseInt(string(bytes.TrimSpace(sc.Bytes())), 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		files++
		total += n
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return files, total
}

// benchTree returns a tree of files spread 100 per directory over table=T/dt=D directories,
// building it unless a completed one is cached. Files are sparse (truncated), with sizes
// spread over every histogram bucket, so the tree costs inodes but no data blocks.
func benchTree(b *testing.B, files int) string {
	base := os.Getenv("HIVEMERGE_BENCH_DIR")
	if base == "" {
		base = filepath.Join(os.TempDir(), "hivemerge-bench")
	}
	root := filepath.Join(base, fmt.Sprintf("tree-%d", files))
	// The marker lives beside the tree so that find and the scanner see the same files.
	marker := root + ".complete"
	if _, err := os.Stat(marker); err == nil {
		return root
	}
	if err := os.RemoveAll(root); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	const perDir = 100
	dirs := (files + perDir - 1) / perDir
	var (
		wg    sync.WaitGroup
		next  = make(chan int)
		errMu sync.Mutex
		first error
	)
	for range 8 {
		wg.Go(func() {
			for d := range next {
				if err := buildDir(root, d, perDir, files); err != nil {
					errMu.Lock()
					first = err
					errMu.Unlock()
				}
			}
		})
	}
	for d := range dirs {
		next <- d
	}
	close(next)
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
	if err := os.WriteFile(marker, []byte(strconv.Itoa(files)), 0o666); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d files in %d directories under %s in %v", files, dirs, root, time.Since(start).Round(time.Millisecond))
	return root
}

func buildDir(root string, d, perDir, files int) error {
	dir := filepath.Join(root, fmt.Sprintf("table=%03d", d/100), fmt.Sprintf("dt=%04d", d%100))
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	for i := d * perDir; i < min((d+1)*perDir, files); i++ {
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%06d_0", i)), os.O_CREATE|os.O_WRONLY, 0o666)
		if err != nil {
			return err
		}
		err = f.Truncate(benchSize(i))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// benchSize spreads sizes like a table with a small-file problem: mostly tiny files, a few
// large ones.
func benchSize(i int) int64 {
	switch i % 20 {
	case 0:
		return int64(i%300) * scan.MiB
	case 1, 2:
		return int64(i%16) * scan.MiB
	default:
		return int64(i%1000) * 1024
	}
}
