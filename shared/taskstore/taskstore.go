// Package taskstore opens the task store a deployment is configured for: Firestore in production,
// the embedded bolt file locally.
package taskstore

import (
	"context"
	"fmt"
	"io"

	gfs "cloud.google.com/go/firestore"

	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/bolt"
	"github.com/hivemerge/hivemerge/shared/taskstore/firestore"
)

// Store is what the services need from a backend: tasks, clusters, discovery's metrics, the
// scheduler's policies and run records, safe_merge's backup records, and a way to let go.
type Store interface {
	merge.Store
	merge.ClusterStore
	merge.MetricsStore
	merge.PolicyStore
	merge.RunStore
	merge.BackupStore
	io.Closer
}

// DefaultBoltPath is where the embedded store lives unless HIVEMERGE_BOLT_PATH says otherwise.
const DefaultBoltPath = "var/hivemerge.db"

// Kind returns which store the environment selects: HIVEMERGE_STORE when set, else
// firestore when a Google Cloud project or the Firestore emulator is configured, else bolt.
func Kind(getenv func(string) string) (string, error) {
	switch k := getenv("HIVEMERGE_STORE"); k {
	case "firestore", "bolt":
		return k, nil
	case "":
		if getenv("GOOGLE_CLOUD_PROJECT") != "" || getenv("FIRESTORE_EMULATOR_HOST") != "" {
			return "firestore", nil
		}
		return "bolt", nil
	default:
		return "", fmt.Errorf("HIVEMERGE_STORE=%q: use firestore or bolt", k)
	}
}

// Open opens the store the environment selects (see Kind):
//
//	HIVEMERGE_BOLT_PATH            the bolt file (default var/hivemerge.db; directories are created)
//	GOOGLE_CLOUD_PROJECT           the Firestore project
//	HIVEMERGE_FIRESTORE_DATABASE   the Firestore database (FIRESTORE_DATABASE also works;
//	                               default "(default)")
func Open(ctx context.Context, getenv func(string) string) (Store, error) {
	kind, err := Kind(getenv)
	if err != nil {
		return nil, err
	}
	if kind == "firestore" {
		return openFirestore(ctx, getenv)
	}
	path := getenv("HIVEMERGE_BOLT_PATH")
	if path == "" {
		path = DefaultBoltPath
	}
	return bolt.Open(path)
}

// openFirestore opens Firestore for GOOGLE_CLOUD_PROJECT; without one it uses the project of
// the credentials or, on the emulator, a local demo project.
func openFirestore(ctx context.Context, getenv func(string) string) (Store, error) {
	project := getenv("GOOGLE_CLOUD_PROJECT")
	switch {
	case project != "":
	case getenv("FIRESTORE_EMULATOR_HOST") != "":
		project = "demo-hivemerge"
	default:
		project = gfs.DetectProjectID
	}
	db := getenv("HIVEMERGE_FIRESTORE_DATABASE")
	if db == "" {
		db = getenv("FIRESTORE_DATABASE")
	}
	return firestore.Open(ctx, project, db)
}
