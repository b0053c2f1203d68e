package hiveql

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The benchmarks pair each sandbox statement with "rawfs": the bare filesystem work over the
// same directories and files, measured in the same run, so the sandbox's overhead can be
// reported as a ratio. Nothing here asserts timings.

// benchPartitions adds days×24 hourly partitions to table t in one statement.
func benchPartitions(b *testing.B, s *Session, table string, days int) {
	b.Helper()
	var q strings.Builder
	fmt.Fprintf(&q, "alter table %s add", table)
	for d := range days {
		for h := range 24 {
			fmt.Fprintf(&q, " partition (dt='2024-%02d-%02d', hr='%02d')", 1+d/28, 1+d%28, h)
		}
	}
	run(b, s, q.String())
}

func BenchmarkDescribeFormatted(b *testing.B) {
	w := newWarehouse(b)
	s := w.NewSession("bench")
	run(b, s, "create table orders (id bigint, amount double, note string) partitioned by (dt string, hr string) stored as orc")
	benchPartitions(b, s, "orders", 30)
	loc := locationOf(b, w, "default", "orders", "")
	b.Run("sandbox", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Execute(context.Background(), "describe formatted orders", Events{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stmts/s")
	})
	b.Run("rawfs", func(b *testing.B) {
		for b.Loop() {
			if _, err := os.Stat(loc); err != nil {
				b.Fatal(err)
			}
			if _, err := os.ReadDir(loc); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stmts/s")
	})
}

func BenchmarkShowPartitions(b *testing.B) {
	w := newWarehouse(b)
	s := w.NewSession("bench")
	run(b, s, "create table orders (id bigint) partitioned by (dt string, hr string)")
	const days = 90 // 2,160 partitions
	benchPartitions(b, s, "orders", days)
	loc := locationOf(b, w, "default", "orders", "")
	b.Run("sandbox", func(b *testing.B) {
		for b.Loop() {
			res, err := s.Execute(context.Background(), "show partitions orders", Events{})
			if err != nil || len(res.Rows) != days*24 {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stmts/s")
	})
	b.Run("rawfs", func(b *testing.B) {
		for b.Loop() {
			n := 0
			dts, err := os.ReadDir(loc)
			if err != nil {
				b.Fatal(err)
			}
			for _, dt := range dts {
				hrs, err := os.ReadDir(filepath.Join(loc, dt.Name()))
				if err != nil {
					b.Fatal(err)
				}
				n += len(hrs)
			}
			if n != days*24 {
				b.Fatalf("%d partition directories", n)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stmts/s")
	})
}

// BenchmarkInsertOverwrite rewrites 100,000 small files (100 partitions of 1,000 files of 10
// rows) with dynamic partitions and the default merge settings, which leave one file per
// partition.
func BenchmarkInsertOverwrite(b *testing.B) {
	const (
		parts       = 100
		filesPer    = 1000
		rowsPerFile = 10
		rows        = parts * filesPer * rowsPerFile
	)
	w := newWarehouse(b)
	s := w.NewSession("bench")
	run(b, s, "create table src (k string, v bigint) partitioned by (dt string)",
		"create table dst (k string, v bigint) partitioned by (dt string)",
		"set hive.exec.dynamic.partition.mode=nonstrict")
	var q strings.Builder
	q.WriteString("alter table src add")
	for p := range parts {
		fmt.Fprintf(&q, " partition (dt='p%03d')", p)
	}
	run(b, s, q.String())
	loc := locationOf(b, w, "default", "src", "")
	var buf []byte
	for p := range parts {
		dir := filepath.Join(loc, fmt.Sprintf("dt=p%03d", p))
		for f := range filesPer {
			buf = buf[:0]
			for r := range rowsPerFile {
				buf = fmt.Appendf(buf, "key-%d\x01%d\n", r, p*filesPer*rowsPerFile+f*rowsPerFile+r)
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%06d_0", f)), buf, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("sandbox", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Execute(context.Background(), "insert overwrite table dst partition (dt) select k, v, dt from src", Events{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("rawfs", func(b *testing.B) {
		for b.Loop() {
			n := 0
			dirs, err := os.ReadDir(loc)
			if err != nil {
				b.Fatal(err)
			}
			for _, d := range dirs {
				files, err := os.ReadDir(filepath.Join(loc, d.Name()))
				if err != nil {
					b.Fatal(err)
				}
				for _, f := range files {
					data, err := os.ReadFile(filepath.Join(loc, d.Name(), f.Name()))
					if err != nil {
						b.Fatal(err)
					}
					n += bytes.Count(data, []byte{'\n'})
				}
			}
			if n != rows {
				b.Fatalf("read %d rows", n)
			}
		}
		b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
