package hivesandbox_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/beltran/gohive"
)

// BenchmarkStatements measures whole statements through gohive over the wire: ExecuteStatement,
// GetOperationStatus, GetResultSetMetadata, FetchResults until empty and CloseOperation, as
// the hive adapter runs them. It reports statements per second for docs/benchmarks.md; the
// engine alone is benchmarked in package hiveql.
func BenchmarkStatements(b *testing.B) {
	stmts := []struct{ name, stmt string }{
		{"DescribeFormatted", "DESCRIBE FORMATTED orders"},
		{"ShowPartitions", "SHOW PARTITIONS orders"},
	}
	for _, tr := range []transport{nosasl, sasl, httpPlain} {
		sb := startSandbox(b, tr)
		cur := sb.connect(b).Cursor()
		seedBenchOrders(b, sb, cur)
		for _, st := range stmts {
			b.Run(fmt.Sprintf("%s/%s", st.name, tr.name), func(b *testing.B) {
				ctx := context.Background()
				for b.Loop() {
					rows, err := tryQuery(ctx, cur, st.stmt)
					if err != nil {
						b.Fatal(err)
					}
					if len(rows) == 0 {
						b.Fatal("no rows")
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stmts/s")
			})
		}
		cur.Close()
	}
}

// seedBenchOrders creates sales.orders with 24 hourly partitions of 4 files each.
func seedBenchOrders(b *testing.B, sb *sandbox, cur *gohive.Cursor) {
	b.Helper()
	ctx := context.Background()
	for _, stmt := range []string{
		"CREATE DATABASE sales",
		"USE sales",
		"CREATE TABLE orders (id BIGINT, amount DOUBLE, note STRING) PARTITIONED BY (dt STRING, hr STRING) STORED AS TEXTFILE",
	} {
		exec(b, cur, stmt)
	}
	for h := range 24 {
		for f := range 4 {
			part := map[string]string{"dt": "2024-01-01", "hr": fmt.Sprintf("%02d", h)}
			if _, err := sb.Warehouse().AppendFile(ctx, "sales", "orders", part, [][]string{{fmt.Sprint(h*10 + f), "1.5", "x"}}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
