package functions

import (
	"log/slog"

	"github.com/hivemerge/hivemerge/shared/discovery"
	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore"
)

// newDiscovery is the deployed functions' discovery service, resolving cluster passwords with
// secrets. No filesystem is configured for them yet, so file statistics come from Hive's SHOW
// TABLE EXTENDED (the metrics say so).
func newDiscovery(st taskstore.Store, secrets merge.Secrets, logger *slog.Logger) Discovery {
	clusters := &discovery.Clusters{Registry: st, Secrets: secrets, Files: fsys.NewResolver(nil), Logger: logger}
	return &discovery.Service{Store: st, Connector: clusters, Registry: st, Logger: logger}
}
