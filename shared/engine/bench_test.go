package engine_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/hivemerge/hivemerge/shared/engine"
)

// BenchmarkPreview500Partitions measures a whole preview of a table of 500 partitions (125
// days of 4 hours, 6 small files each) on the sandbox: SHOW PARTITIONS, 500 DESCRIBE
// FORMATTED PARTITION round trips and 500 directory listings.
//
//	go test -run '^$' -bench Preview500 -benchtime=3x ./shared/engine/
func BenchmarkPreview500Partitions(b *testing.B) {
	sb := startSandbox(b)
	ctx := context.Background()
	sb.exec(b, "CREATE DATABASE m", "CREATE TABLE m.orders (id INT, v STRING) PARTITIONED BY (dt STRING, hr INT)")
	for day := range 125 {
		for hr := range 4 {
			sb.files(b, "orders", map[string]string{"dt": fmt.Sprintf("2024-%03d", day), "hr": strconv.Itoa(hr)}, 6, 2)
		}
	}
	const partitions, files = 500, 3000
	req := engine.Request{Database: "m", Table: "orders"}
	for b.Loop() {
		pv, err := sb.planner.Preview(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if len(pv.Partitions) != partitions || pv.Totals.FilesBefore != files {
			b.Fatalf("preview of %d partitions and %d files, want %d and %d", len(pv.Partitions), pv.Totals.FilesBefore, partitions, files)
		}
	}
	b.ReportMetric(float64(partitions*b.N)/b.Elapsed().Seconds(), "partitions/s")
}
