package firestore

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Discovery's queries filter by equality only (served by merging the automatic single-field
// indexes) or order one field of a subcollection, so Indexes, and the Terraform built from
// it, need nothing for them.
func TestMetricsQueriesNeedNoCompositeIndex(t *testing.T) {
	shapes := []queryShape{
		{Collection: colScans, Equalities: []string{"cluster_id"}},
		{Collection: colScans, Equalities: []string{"status"}},
		{Collection: colPartitions, Equalities: []string{"scan_id"}},
		{Collection: colHistory, Orders: []IndexField{{Path: "scanned_at", Descending: true}}},
		{Collection: colHistory, Orders: []IndexField{{Path: "scanned_at"}}},
	}
	for _, f := range []merge.TableMetricsFilter{{ClusterID: "prod"}, {ClusterID: "prod", Database: "web"}} {
		shape := listTablesShape(f)
		if len(shape.Orders) != 0 {
			t.Errorf("ListTableMetrics(%+v) orders in the query: %+v", f, shape)
		}
	}
	for _, shape := range shapes {
		if !covered(shape, nil) {
			t.Errorf("shape %+v needs a composite index", shape)
		}
	}
}

// A chunk of partitions with long locations and every rule in words stays far below 1 MiB.
func TestPartitionChunkSize(t *testing.T) {
	long := strings.Repeat("x", 200)
	chunk := make([]merge.PartitionMetrics, partitionChunk)
	for i := range chunk {
		p := &chunk[i]
		p.Partition = fmt.Sprintf("dt=2024-01-01/hr=%02d/source=%s%d", i%24, long[:60], i)
		p.Location = "hdfs://nameservice1/warehouse/" + long + "/" + p.Partition
		p.Source = merge.SourceListing
		e := merge.EvaluatePartition(merge.TableFacts{Format: merge.FormatText}, merge.FileFacts{Files: 123456, Bytes: 123456 * 1000}, time.Time{}, merge.Thresholds{}, time.Now())
		p.Evaluation = e
		p.Error = long
	}
	data, err := encodeJSON(chunk)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 512<<10 {
		t.Errorf("a chunk of %d partitions takes %d bytes", partitionChunk, len(data))
	}
}
