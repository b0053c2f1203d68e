package functions

import (
	"log/slog"

	"github.com/hivemerge/hivemerge/shared/discovery"
	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/secretref"
	"github.com/hivemerge/hivemerge/shared/taskstore"
)

// newDiscovery is the deployed functions' discovery service. No filesystem is configured for
// them yet, so file statistics come from Hive's SHOW TABLE EXTENDED (the metrics say so).
func newDiscovery(st taskstore.Store, logger *slog.Logger) Discovery {
	clusters := &discovery.Clusters{Registry: st, Secrets: secretref.New(nil), Files: fsys.NewResolver(nil), Logger: logger}
	return &discovery.Service{Store: st, Connector: clusters, Registry: st, Logger: logger}
}
