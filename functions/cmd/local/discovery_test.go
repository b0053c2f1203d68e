package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/hiveql"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
)

// The demo cluster is scanned at the first start, and only then.
func TestDemoIsScannedAtFirstStart(t *testing.T) {
	ctx := context.Background()
	sb, err := hivesandbox.Start(ctx, hivesandbox.Config{Addr: "127.0.0.1:0", Warehouse: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
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
	store, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := merge.NewService(store, store)
	if err := ensureDemoCluster(ctx, svc, func(k string) string {
		if k == "HIVEMERGE_SANDBOX_ADDR" {
			return sb.Addr()
		}
		return ""
	}); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	for start := range 2 {
		d, err := newDiscovery(ctx, store, nil, logger, "bolt", true)
		if err != nil {
			t.Fatal(err)
		}
		scans, err := store.ListScans(ctx, "demo")
		if err != nil || len(scans) != 1 {
			t.Fatalf("start %d: %d scans, %v", start, len(scans), err)
		}
		sc, err := d.Wait(ctx, "demo", scans[0].ID)
		d.Close()
		if err != nil || sc.Status != merge.ScanSucceeded {
			t.Fatalf("start %d: %+v, %v", start, sc, err)
		}
	}
	m, err := store.LatestTableMetrics(ctx, "demo", "sales", "orders")
	if err != nil || m.Stats.Files != 4 {
		t.Errorf("sales.orders after the demo scan: %+v, %v", m, err)
	}
}
