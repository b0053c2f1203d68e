package main

import (
	"context"
	"log/slog"

	"github.com/hivemerge/hivemerge/shared/app"
	"github.com/hivemerge/hivemerge/shared/discovery"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// startDiscovery resumes the scans a previous run left unfinished. The embedded store admits
// one process, so every running scan in it is an orphan; over Firestore only those silent past
// the lease are. With demo, a demo cluster never scanned is scanned now, so a newcomer's first
// look at the dashboard has the worst tables.
func startDiscovery(ctx context.Context, a *app.App, logger *slog.Logger, demo bool) error {
	d := a.Discovery
	stale := discovery.DefaultLease
	if a.StoreKind == "bolt" {
		stale = 0
	}
	n, err := d.Resume(ctx, "", stale)
	if err != nil {
		return err
	}
	if n > 0 {
		logger.Info("resumed unfinished scans", "scans", n)
	}
	if demo {
		if scans, err := d.Store.ListScans(ctx, "demo"); err == nil && len(scans) == 0 {
			if sc, err := d.StartScan(ctx, "demo", merge.ScanScope{}); err != nil {
				logger.Warn("the demo cluster could not be scanned", "error", err.Error())
			} else {
				logger.Info("scanning the demo cluster", "scan_id", sc.ID, "url", "/api/v1/clusters/demo/scans/"+sc.ID)
			}
		}
	}
	return nil
}
