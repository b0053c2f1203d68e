package functions

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/cloudlog"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// BenchmarkLatency measures create, get and list through the HTTP API (a real http.Server on
// loopback, a keep-alive http.Client, token check and JSON logging included) and the same
// operation on the store directly, in the same run, at 1, 16 and 64 concurrent clients. It
// reports p50 and p99 of each in microseconds and api/raw, the ratio of the p50s: what the
// HTTP layer costs on top of the store. floor-p50 is GET /health through the same client and
// server: the loopback HTTP round trip that no API can go below.
//
//	go test -run '^$' -bench Latency ./functions/
func BenchmarkLatency(b *testing.B) {
	for _, be := range backends {
		b.Run("store="+be.name, func(b *testing.B) {
			for _, op := range []string{"create", "get", "list"} {
				for _, clients := range []int{1, 16, 64} {
					b.Run(fmt.Sprintf("op=%s/clients=%d", op, clients), func(b *testing.B) {
						benchLatency(b, be, op, clients)
					})
				}
			}
		})
	}
}

// benchSeed is how many tasks get and list find in the store.
const benchSeed = 200

func benchLatency(b *testing.B, be backend, op string, clients int) {
	st := be.open(b)
	svc := merge.NewService(st, st)
	ctx := b.Context()
	if _, err := svc.CreateCluster(ctx, merge.Cluster{ID: "bench", Host: "127.0.0.1"}); err != nil {
		b.Fatal(err)
	}
	var ids []string
	for i := range benchSeed {
		t, err := svc.CreateTask(ctx, merge.CreateTaskRequest{ClusterID: "bench", Name: "seed", Database: "db", Table: fmt.Sprintf("seed_%d", i), CreatedBy: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, t.ID)
	}
	srv := NewServer(svc, testAuth(b), cloudlog.New(io.Discard, slog.LevelInfo))
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()

	var seq atomic.Int64 // distinct tables, so that creates never conflict
	nextTable := func() string { return fmt.Sprintf("t_%d_%d", time.Now().UnixNano(), seq.Add(1)) }

	api := func(i int) error {
		var req *http.Request
		switch op {
		case "create":
			body := fmt.Sprintf(`{"cluster_id":"bench","task_name":"b","database_name":"db","table_name":%q}`, nextTable())
			req, _ = http.NewRequestWithContext(ctx, "POST", hs.URL+"/api/v1/tasks/", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
		case "get":
			req, _ = http.NewRequestWithContext(ctx, "GET", hs.URL+"/api/v1/tasks/"+ids[i%len(ids)], nil)
		case "list":
			req, _ = http.NewRequestWithContext(ctx, "GET", hs.URL+"/api/v1/tasks/?limit=20", nil)
		}
		req.Header.Set("Authorization", "Bearer "+operatorToken)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return fmt.Errorf("%s: %s", op, resp.Status)
		}
		return nil
	}
	floor := func(int) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", hs.URL+"/health", nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil
	}
	raw := func(i int) error {
		switch op {
		case "create":
			now := time.Now().UTC()
			return st.CreateTask(ctx, &merge.Task{ID: merge.NewID(), Name: "b", ClusterID: "bench", Database: "db", Table: nextTable(),
				Strategy: merge.StrategyAuto, Status: merge.StatusPending, CreatedBy: "bench", CreatedAt: now, UpdatedAt: now})
		case "get":
			_, err := st.GetTask(ctx, ids[i%len(ids)])
			return err
		default:
			_, err := st.ListTasks(ctx, merge.TaskFilter{Limit: 20})
			return err
		}
	}

	// Warm both paths (connections, caches) before measuring.
	for i := range clients {
		if err := api(i); err != nil {
			b.Fatal(err)
		}
		if err := raw(i); err != nil {
			b.Fatal(err)
		}
	}
	// Two rounds each, alternating, so that neither side always meets the bigger store.
	b.ResetTimer()
	half := (b.N + 1) / 2
	apiLat := measure(b, half, clients, api)
	rawLat := measure(b, half, clients, raw)
	apiLat = append(apiLat, measure(b, b.N-half, clients, api)...)
	rawLat = append(rawLat, measure(b, b.N-half, clients, raw)...)
	b.StopTimer()
	floorLat := measure(b, b.N, clients, floor)

	ap50, ap99 := percentile(apiLat, 50), percentile(apiLat, 99)
	rp50, rp99 := percentile(rawLat, 50), percentile(rawLat, 99)
	b.ReportMetric(0, "ns/op") // the interesting figures are the latencies below
	b.ReportMetric(us(ap50), "api-p50-µs")
	b.ReportMetric(us(ap99), "api-p99-µs")
	b.ReportMetric(us(rp50), "raw-p50-µs")
	b.ReportMetric(us(rp99), "raw-p99-µs")
	b.ReportMetric(us(percentile(floorLat, 50)), "floor-p50-µs")
	if rp50 > 0 {
		b.ReportMetric(float64(ap50)/float64(rp50), "api/raw-p50")
	}
}

// measure runs n calls of f spread over clients goroutines and returns each call's latency.
func measure(b *testing.B, n, clients int, f func(i int) error) []time.Duration {
	var (
		next atomic.Int64
		mu   sync.Mutex
		all  = make([]time.Duration, 0, n)
		wg   sync.WaitGroup
		fail atomic.Value
	)
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					break
				}
				start := time.Now()
				if err := f(i); err != nil {
					fail.CompareAndSwap(nil, err)
					break
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if err, _ := fail.Load().(error); err != nil {
		b.Fatal(err)
	}
	return all
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
