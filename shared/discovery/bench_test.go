package discovery_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/discovery"
	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/hdfsfs"
	"github.com/hivemerge/hivemerge/shared/fsys/hdfsfs/namenodetest"
	fsscan "github.com/hivemerge/hivemerge/shared/fsys/scan"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
)

// BenchmarkScanWarehouse scans one table of the sandbox whose files are on the local disk
// (HIVEMERGE_BENCH_SCAN_FILES files, default 200,000, in HIVEMERGE_BENCH_SCAN_PARTITIONS
// partitions, default 5,000) or on the test NameNode (HIVEMERGE_BENCH_SCAN_HDFS_FILES, default
// 20,000, in HIVEMERGE_BENCH_SCAN_HDFS_PARTITIONS, default 500). Each iteration scans into an
// empty store, so every partition is described and listed, then runs the bare scanner of
// package scan over the same partition locations. It reports the ratio of their wall times
// (scan/bare) and to the scan's Hive statements run alone through the same client (scan/hive),
// the ratios of the CPU time the process spent on each (the sandbox and the NameNode run in it),
// the three times, files per second of the scan and, on HDFS, NameNode calls per partition of
// the scan and of the bare scanner. The local tree is built once under HIVEMERGE_BENCH_DIR (default the OS
// temp directory) and reused.
func BenchmarkScanWarehouse(b *testing.B) {
	files := envInt(b, "HIVEMERGE_BENCH_SCAN_FILES", 200_000)
	parts := envInt(b, "HIVEMERGE_BENCH_SCAN_PARTITIONS", 5_000)
	b.Run(fmt.Sprintf("fs=local/files=%d/partitions=%d", files, parts), func(b *testing.B) {
		root := localTree(b, files, parts)
		e := start(b, func(c *hivesandbox.Config) { c.ExtraRoots = []string{filepath.Dir(root)} })
		e.exec(b, "CREATE DATABASE bench", "CREATE EXTERNAL TABLE bench.events (id bigint, msg string) PARTITIONED BY (dt string, hr int) STORED AS TEXTFILE LOCATION 'file://"+root+"'")
		locations := addPartitions(b, e, root, parts)
		benchScan(b, e, e.files, locations, files, nil)
	})

	files = envInt(b, "HIVEMERGE_BENCH_SCAN_HDFS_FILES", 20_000)
	parts = envInt(b, "HIVEMERGE_BENCH_SCAN_HDFS_PARTITIONS", 500)
	b.Run(fmt.Sprintf("fs=hdfs/files=%d/partitions=%d", files, parts), func(b *testing.B) {
		b.Setenv("HADOOP_CONF_DIR", "")
		b.Setenv("HADOOP_HOME", "")
		e := start(b)
		e.exec(b, "CREATE DATABASE bench", "CREATE TABLE bench.events (id bigint, msg string) PARTITIONED BY (dt string, hr int) STORED AS TEXTFILE")
		root := e.location(b, "bench", "events")
		locations := addPartitions(b, e, root, parts)
		// The sandbox keeps its partition directories on the local disk, empty; the files are
		// on the NameNode under the same paths, and every location is opened there.
		ns := namenodetest.NewNamespace()
		now := time.Now()
		for p := range parts {
			for f := p * files / parts; f < (p+1)*files/parts; f++ {
				if err := ns.WriteFile(filepath.Join(root, partDir(p), fmt.Sprintf("%06d_0", f)), 4, now); err != nil {
					b.Fatal(err)
				}
			}
		}
		nn := namenodetest.Start(b, ns, namenodetest.Options{})
		hfs, err := hdfsfs.New(context.Background(), hdfsfs.Config{Addresses: []string{nn.Addr()}, User: "hive"})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { hfs.Close() })
		res := fsys.NewResolver(map[string]fsys.Opener{"file": func(context.Context, string) (fsys.FS, error) { return hfs, nil }})
		b.Cleanup(func() { res.Close() })
		benchScan(b, e, res, locations, files, nn)
	})
}

// benchScan times scans of bench.events against the bare scanner over locations; nn, when not
// nil, is the NameNode whose calls are counted.
func benchScan(b *testing.B, e *env, files engine.Files, locations []string, want int, nn *namenodetest.Server) {
	ctx := context.Background()
	conn := e.connector(b, files)
	calls := func() int {
		n := 0
		for method, c := range nn.CallCounts() {
			if method != "renewLease" {
				n += c
			}
		}
		return n
	}
	scanOnce := func() time.Duration {
		store, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer store.Close()
		svc := &discovery.Service{Store: store, Connector: conn}
		defer svc.Close()
		t0 := time.Now()
		sc, err := svc.Scan(ctx, cluster, merge.ScanScope{Database: "bench", Table: "events"})
		d := time.Since(t0)
		if err != nil || sc.Status != merge.ScanSucceeded || sc.Progress.FilesListed != int64(want) {
			b.Fatalf("scan: %+v, %v", sc, err)
		}
		return d
	}
	bareOnce := func() time.Duration {
		t0 := time.Now()
		res, err := fsscan.Scanner{}.Locations(ctx, files, locations)
		d := time.Since(t0)
		if err != nil || len(res) != len(locations) {
			b.Fatal(err)
		}
		var n int64
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
			n += r.Files
		}
		if n != int64(want) {
			b.Fatalf("the bare scanner found %d files, want %d", n, want)
		}
		return d
	}
	// The Hive part alone: the scan's statements (the table's DESCRIBE, SHOW PARTITIONS and
	// one DESCRIBE per partition) through the same client, as many at once as the scan runs.
	hiveOnce := func() time.Duration {
		h, _, err := conn.Connect(ctx, cluster)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		src := hql.Table{Database: "bench", Name: "events"}
		tb, err := h.DescribeTable(ctx, src)
		if err != nil {
			b.Fatal(err)
		}
		ps, err := h.Partitions(ctx, src, hql.Spec{})
		if err != nil || len(ps) != len(locations) {
			b.Fatalf("%d partitions, %v", len(ps), err)
		}
		sem := make(chan struct{}, discovery.DefaultPartitionConcurrency)
		var wg sync.WaitGroup
		for _, p := range ps {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				spec, err := tb.Spec(p.Spec())
				if err == nil {
					_, err = h.DescribePartition(ctx, src, spec)
				}
				if err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		return time.Since(t0)
	}
	// Once untimed, so that sessions, connections and caches are warm for every timed run.
	scanOnce()
	bareOnce()
	var scanTime, bareTime, hiveTime, scanCPU, bareCPU, hiveCPU time.Duration
	var scanCalls, bareCalls int
	b.ResetTimer()
	for range b.N {
		if nn != nil {
			nn.ResetCalls()
		}
		c0 := cpuTime(b)
		scanTime += scanOnce()
		c1 := cpuTime(b)
		if nn != nil {
			scanCalls += calls()
			nn.ResetCalls()
		}
		bareTime += bareOnce()
		c2 := cpuTime(b)
		scanCPU, bareCPU = scanCPU+c1-c0, bareCPU+c2-c1
		if nn != nil {
			bareCalls += calls()
		}
		hiveTime += hiveOnce()
		hiveCPU += cpuTime(b) - c2
	}
	b.ReportMetric(float64(scanTime)/float64(bareTime), "scan/bare")
	b.ReportMetric(float64(scanTime)/float64(hiveTime), "scan/hive")
	b.ReportMetric(float64(scanCPU)/float64(bareCPU), "scan/bare(cpu)")
	b.ReportMetric(float64(hiveCPU)/float64(bareCPU), "hive/bare(cpu)")
	b.ReportMetric(float64(scanTime.Milliseconds())/float64(b.N), "scan-ms")
	b.ReportMetric(float64(bareTime.Milliseconds())/float64(b.N), "bare-ms")
	b.ReportMetric(float64(hiveTime.Milliseconds())/float64(b.N), "hive-ms")
	b.ReportMetric(float64(want*b.N)/scanTime.Seconds(), "files/s")
	if nn != nil {
		per := float64(len(locations) * b.N)
		b.ReportMetric(float64(scanCalls)/per, "nn-calls/part(scan)")
		b.ReportMetric(float64(bareCalls)/per, "nn-calls/part(bare)")
	}
}

// cpuTime is the CPU time the process (the sandbox and the NameNode included) has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// partDir is the directory of partition p below the table's.
func partDir(p int) string {
	return time.Date(2024, 1, 1+p/24, 0, 0, 0, 0, time.UTC).Format("dt=2006-01-02") + "/hr=" + strconv.Itoa(p%24)
}

// addPartitions adds partitions 0 to n-1 at their default locations below root, 500 per
// statement, and returns their locations.
func addPartitions(b *testing.B, e *env, root string, n int) []string {
	var locations []string
	var stmt strings.Builder
	for p := range n {
		if stmt.Len() == 0 {
			stmt.WriteString("ALTER TABLE bench.events ADD")
		}
		dir := partDir(p)
		dt, hr, _ := strings.Cut(strings.TrimPrefix(dir, "dt="), "/hr=")
		fmt.Fprintf(&stmt, " PARTITION (dt='%s', hr=%s)", dt, hr)
		if p%500 == 499 || p == n-1 {
			e.exec(b, stmt.String())
			stmt.Reset()
		}
		locations = append(locations, "file://"+filepath.Join(root, dir))
	}
	return locations
}

// localTree returns the directory of a table of files four-byte files in parts partitions,
// building it unless a completed one is cached.
func localTree(b *testing.B, files, parts int) string {
	base := os.Getenv("HIVEMERGE_BENCH_DIR")
	if base == "" {
		base = filepath.Join(os.TempDir(), "hivemerge-bench")
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		b.Fatal(err)
	}
	base, err := filepath.EvalSymlinks(base)
	if err != nil {
		b.Fatal(err)
	}
	if base, err = filepath.Abs(base); err != nil {
		b.Fatal(err)
	}
	// A directory of its own, below which the sandbox may put locations.
	root := filepath.Join(base, fmt.Sprintf("discovery-%d-%d", files, parts), "events")
	marker := filepath.Join(filepath.Dir(root), "complete")
	if _, err := os.Stat(marker); err == nil {
		return root
	}
	if err := os.RemoveAll(filepath.Dir(root)); err != nil {
		b.Fatal(err)
	}
	data := []byte("1\tx\n")
	for p := range parts {
		dir := filepath.Join(root, partDir(p))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := p * files / parts; f < (p+1)*files/parts; f++ {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%06d_0", f)), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return root
}

func envInt(b *testing.B, name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("%s=%q is not a positive number", name, v)
		}
		return n
	}
	return def
}
