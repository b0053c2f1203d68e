// Package discoverytest connects discovery to one Hive client and one set of filesystems, for
// the tests of packages that shared/app imports and that therefore cannot use app.Clusters.
package discoverytest

import (
	"context"

	"github.com/hivemerge/hivemerge/shared/discovery"
	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// Connector connects every cluster of Registry to Hive and Files; an unregistered cluster is
// merge.ErrNotFound, as with app.Clusters.
type Connector struct {
	Registry interface {
		GetCluster(ctx context.Context, id string) (*merge.Cluster, error)
	}
	Hive  discovery.Hive
	Files engine.Files
}

var _ discovery.Connector = Connector{}

// Connect returns Hive and Files once id is found in Registry.
func (c Connector) Connect(ctx context.Context, id string) (discovery.Hive, engine.Files, error) {
	if _, err := c.Registry.GetCluster(ctx, id); err != nil {
		return nil, nil, err
	}
	return c.Hive, c.Files, nil
}
