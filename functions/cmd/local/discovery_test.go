package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hivemerge/hivemerge/shared/app"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/hiveql"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/sandboxtest"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// The demo cluster is scanned at the first start, and only then.
func TestDemoIsScannedAtFirstStart(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.Start(t)
	s := sb.Warehouse().NewSession("test")
	for _, stmt := range []string{"CREATE DATABASE sales", "CREATE TABLE sales.orders (id int) STORED AS TEXTFILE"} {
		if _, err := s.Execute(ctx, stmt, hiveql.Events{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		if _, err := sb.Warehouse().AppendFile(ctx, "sales", "orders", nil, [][]string{{strconv.Itoa(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	dbPath := filepath.Join(t.TempDir(), "db")
	env := map[string]string{
		"HIVEMERGE_STORE":             "bolt",
		"HIVEMERGE_BOLT_PATH":         dbPath,
		"HIVEMERGE_SANDBOX_ADDR":      sb.Addr(),
		"HIVEMERGE_SANDBOX_WAREHOUSE": sb.Warehouse().Dir(),
	}
	getenv := func(k string) string { return env[k] }
	logger := slog.New(slog.DiscardHandler)
	var files int64
	for start := range 2 {
		a, err := app.Open(ctx, getenv, logger, app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := ensureDemoCluster(ctx, a.Service, getenv); err != nil {
			t.Fatal(err)
		}
		if err := startDiscovery(ctx, a, logger, true); err != nil {
			t.Fatal(err)
		}
		scans, err := a.Store.ListScans(ctx, "demo")
		if err != nil || len(scans) != 1 {
			t.Fatalf("start %d: %d scans, %v", start, len(scans), err)
		}
		sc, err := a.Discovery.Wait(ctx, "demo", scans[0].ID)
		if err != nil || sc.Status != merge.ScanSucceeded {
			t.Fatalf("start %d: %+v, %v", start, sc, err)
		}
		m, err := a.Store.LatestTableMetrics(ctx, "demo", "sales", "orders")
		if err != nil {
			t.Fatal(err)
		}
		files = m.Stats.Files
		a.Close()
	}
	if files != 4 {
		t.Errorf("sales.orders after the demo scan holds %d files, want 4", files)
	}
}
