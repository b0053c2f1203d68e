package hive_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkPool measures statements per second through a pool of 4 sessions to the sandbox,
// from 1 and from 8 goroutines (each statement is SHOW PARTITIONS: compile, run, fetch).
func BenchmarkPool(b *testing.B) {
	for _, goroutines := range []int{1, 8} {
		b.Run(fmt.Sprintf("goroutines=%d", goroutines), func(b *testing.B) {
			sb := startSandbox(b, endpoints[0])
			c := sb.client(b)
			seed(b, c)
			ctx := context.Background()
			tb, err := c.DescribeTable(ctx, orders)
			if err != nil {
				b.Fatal(err)
			}
			all := mustSpec(b, tb, nil)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range goroutines {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if _, err := c.Partitions(ctx, orders, all); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stmts/s")
		})
	}
}
