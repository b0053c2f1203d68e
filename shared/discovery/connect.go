package discovery

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// Clusters connects to the clusters of the registry: one pooled hive.Client per cluster,
// built again when the cluster's settings change, and the filesystems of Files.
type Clusters struct {
	Registry merge.ClusterStore
	// Secrets resolves the password_ref of a cluster.
	Secrets merge.Secrets
	// Files resolves table locations. A location it cannot open is measured through Hive's
	// SHOW TABLE EXTENDED instead, and its metrics say so.
	Files  engine.Files
	Logger *slog.Logger

	mu      sync.Mutex
	clients map[string]*client
}

type client struct {
	c       *hive.Client
	updated time.Time
}

var _ Connector = (*Clusters)(nil)

// Connect returns the cluster's client, creating it on first use.
func (cs *Clusters) Connect(ctx context.Context, id string) (Hive, engine.Files, error) {
	c, err := cs.Registry.GetCluster(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cl, ok := cs.clients[id]; ok && cl.updated.Equal(c.UpdatedAt) {
		return cl.c, cs.Files, nil
	}
	var password string
	if c.PasswordRef != "" {
		if cs.Secrets == nil {
			return nil, nil, merge.Errorf(merge.ErrUnavailable, "cluster %s has a password_ref but no secret resolver is configured", id)
		}
		if password, err = cs.Secrets.Resolve(ctx, c.PasswordRef); err != nil {
			return nil, nil, err
		}
	}
	cfg := hive.ClusterConfig(c, password)
	cfg.Logger = cs.Logger
	hc, err := hive.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	if cs.clients == nil {
		cs.clients = map[string]*client{}
	}
	if old, ok := cs.clients[id]; ok {
		_ = old.c.Close()
	}
	cs.clients[id] = &client{c: hc, updated: c.UpdatedAt}
	return hc, cs.Files, nil
}

// Close closes every client.
func (cs *Clusters) Close() error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var errs []error
	for id, cl := range cs.clients {
		errs = append(errs, cl.c.Close())
		delete(cs.clients, id)
	}
	return errors.Join(errs...)
}
