package firestore_test

import (
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/taskstore/storetest"
)

func TestMetricsConformance(t *testing.T) {
	storetest.RunMetrics(t, func(t *testing.T) merge.MetricsStore { return newStore(t) })
}
