package hdfsfs_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/fsys/hdfsfs"
	"github.com/hivemerge/hivemerge/shared/fsys/hdfsfs/namenodetest"
	"github.com/hivemerge/hivemerge/shared/fsys/scan"
)

// BenchmarkScan scans trees served by the test NameNode and reports NameNode calls per file
// (lease renewals excluded), the figure that matters to a busy production NameNode.
// HIVEMERGE_BENCH_HDFS_FILES sets the number of files (default 100,000).
func BenchmarkScan(b *testing.B) {
	files := 100_000
	if v := os.Getenv("HIVEMERGE_BENCH_HDFS_FILES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("HIVEMERGE_BENCH_HDFS_FILES=%q: want a positive number", v)
		}
		files = n
	}
	for _, perDir := range []int{10, 100, 10_000} {
		b.Run(fmt.Sprintf("files=%d/per-dir=%d", files, perDir), func(b *testing.B) {
			b.Setenv("HADOOP_CONF_DIR", "")
			b.Setenv("HADOOP_HOME", "")
			ns := namenodetest.NewNamespace()
			now := time.Now()
			for i := range files {
				d := i / perDir
				p := fmt.Sprintf("/w/t/dt=%04d/hr=%03d/%06d_0", d/100, d%100, i)
				if err := ns.WriteFile(p, int64(i%5000)*1024, now); err != nil {
					b.Fatal(err)
				}
			}
			srv := namenodetest.Start(b, ns, namenodetest.Options{})
			fs, err := hdfsfs.New(context.Background(), hdfsfs.Config{Addresses: []string{srv.Addr()}, User: "hive"})
			if err != nil {
				b.Fatal(err)
			}
			defer fs.Close()
			srv.ResetCalls()
			b.ResetTimer()
			for range b.N {
				stats, err := scan.Scanner{}.Tree(context.Background(), fs, "/w/t")
				if err != nil {
					b.Fatal(err)
				}
				if stats.Files != int64(files) {
					b.Fatalf("scanned %d files, want %d", stats.Files, files)
				}
			}
			b.StopTimer()
			calls := 0
			for method, n := range srv.CallCounts() {
				if method != "renewLease" {
					calls += n
				}
			}
			b.ReportMetric(float64(calls)/float64(files*b.N), "calls/file")
			b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}
