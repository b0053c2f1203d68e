package discovery_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/discovery"
	fsscan "github.com/hivemerge/hivemerge/shared/fsys/scan"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
)

// BenchmarkScanWarehouse runs a full scan of one table of HIVEMERGE_BENCH_SCAN_PARTITIONS
// partitions (default 5,000) holding HIVEMERGE_BENCH_SCAN_FILES files (default 200,000), each
// iteration into an empty store so every partition is listed, and the bare scanner of package
// scan over the same partition locations in the same run. It reports the ratio of their wall
// times (scan/bare), tables per minute and files per second of the scan. The scan's extra time
// is Hive's: one DESCRIBE FORMATTED per partition for its location and statistics.
func BenchmarkScanWarehouse(b *testing.B) {
	files := envInt(b, "HIVEMERGE_BENCH_SCAN_FILES", 200_000)
	parts := envInt(b, "HIVEMERGE_BENCH_SCAN_PARTITIONS", 5_000)
	e := start(b)
	e.exec(b, "CREATE DATABASE bench", "CREATE TABLE bench.events (id bigint, msg string) PARTITIONED BY (dt string, hr int) STORED AS TEXTFILE")
	ctx := context.Background()
	table := e.location(b, "bench", "events")
	var locations []string
	data := []byte("1\tx\n")
	for p := range parts {
		dt, hr := fmt.Sprintf("2024-%02d-%02d", 1+p/(28*24)%12, 1+p/24%28), p%24
		e.exec(b, fmt.Sprintf("ALTER TABLE bench.events ADD PARTITION (dt='%s', hr=%d)", dt, hr))
		dir := filepath.Join(table, "dt="+dt, "hr="+strconv.Itoa(hr))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := p * files / parts; f < (p+1)*files/parts; f++ {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%06d_0", f)), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		locations = append(locations, "file://"+dir)
	}
	var scanTime, bareTime time.Duration
	b.ResetTimer()
	for i := range b.N {
		store, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		svc := &discovery.Service{Store: store, Connector: e.connector(b, e.files), PartitionConcurrency: 16}
		t0 := time.Now()
		sc, err := svc.Scan(ctx, cluster, merge.ScanScope{Database: "bench", Table: "events"})
		scanTime += time.Since(t0)
		if err != nil || sc.Progress.FilesListed != int64(files) {
			b.Fatalf("iteration %d: %+v, %v", i, sc, err)
		}
		t0 = time.Now()
		res, err := fsscan.Scanner{}.Locations(ctx, e.files, locations)
		bareTime += time.Since(t0)
		if err != nil || len(res) != parts {
			b.Fatal(err)
		}
		svc.Close()
		store.Close()
	}
	b.ReportMetric(float64(scanTime)/float64(bareTime), "scan/bare")
	b.ReportMetric(float64(b.N)/scanTime.Minutes(), "tables/min")
	b.ReportMetric(float64(files*b.N)/scanTime.Seconds(), "files/s")
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
