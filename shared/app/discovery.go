package app

import (
	"context"

	"github.com/hivemerge/hivemerge/shared/discovery"
	"github.com/hivemerge/hivemerge/shared/engine"
)

var _ discovery.Connector = (*Clusters)(nil)

// Connect gives discovery the Hive client and filesystems that merges use for cluster id. A
// scan does not hold them: when the cluster is registered again during a scan, its old
// client closes once no merge uses it, and the scan fails and can be started again.
func (r *Clusters) Connect(ctx context.Context, id string) (discovery.Hive, engine.Files, error) {
	// An unknown cluster is not found here, not a conflict as for a task's cluster.
	if _, err := r.svc.GetCluster(ctx, id); err != nil {
		return nil, nil, err
	}
	c, release, err := r.acquire(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	release()
	return c.client, c.files, nil
}
