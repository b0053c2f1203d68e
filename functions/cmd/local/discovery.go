package main

import (
	"context"
	"log/slog"

	"github.com/hivemerge/hivemerge/shared/discovery"
	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/localfs"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore"
)

// discoveryService scans the registered clusters and closes their clients with it.
type discoveryService struct {
	*discovery.Service
	clusters *discovery.Clusters
	files    *fsys.Resolver
}

func (d *discoveryService) Close() error {
	err := d.Service.Close()
	d.clusters.Close()
	d.files.Close()
	return err
}

// newDiscovery builds the discovery service over the store and resumes the scans a previous
// run left unfinished. The embedded store admits one process, so every running scan in it is
// an orphan; over Firestore only those silent past the lease are. With demo, a demo cluster
// never scanned is scanned now, so a newcomer's first look at the dashboard has the worst
// tables.
func newDiscovery(ctx context.Context, store taskstore.Store, secrets merge.Secrets, logger *slog.Logger, kind string, demo bool) (*discoveryService, error) {
	files := fsys.NewResolver(map[string]fsys.Opener{"file": localfs.Opener()})
	clusters := &discovery.Clusters{Registry: store, Secrets: secrets, Files: files, Logger: logger}
	d := &discoveryService{Service: &discovery.Service{Store: store, Connector: clusters, Registry: store, Logger: logger}, clusters: clusters, files: files}
	stale := discovery.DefaultLease
	if kind == "bolt" {
		stale = 0
	}
	n, err := d.Resume(ctx, "", stale)
	if err != nil {
		d.Close()
		return nil, err
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
	return d, nil
}
