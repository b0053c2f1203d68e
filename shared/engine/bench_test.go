package engine_test

import (
	"context"
	"testing"

	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/hiveql"
)

// BenchmarkPreview500Partitions measures a whole preview of a table of 500 partitions (125
// days of 4 hours, 6 small files each) on the sandbox: SHOW PARTITIONS, 500 DESCRIBE
// FORMATTED PARTITION round trips and 500 directory listings.
//
//	go test -run '^$' -bench Preview500 -benchtime=10x ./shared/engine/
func BenchmarkPreview500Partitions(b *testing.B) {
	sb := startSandbox(b)
	ctx := context.Background()
	rep, err := hiveql.Generate(ctx, sb.srv.Warehouse(), hiveql.GenerateOptions{Databases: []string{"sales"}, TablesPerDB: 1, Days: 125, HoursPerDay: 4})
	if err != nil {
		b.Fatal(err)
	}
	if rep.Partitions != 500 {
		b.Fatalf("generated %d partitions, want 500", rep.Partitions)
	}
	req := engine.Request{Database: "sales", Table: "orders"}
	for b.Loop() {
		pv, err := sb.planner.Preview(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if len(pv.Partitions) != 500 || pv.Totals.FilesBefore != int64(rep.Files) {
			b.Fatalf("preview of %d partitions and %d files, generated %d and %d", len(pv.Partitions), pv.Totals.FilesBefore, rep.Partitions, rep.Files)
		}
	}
}
