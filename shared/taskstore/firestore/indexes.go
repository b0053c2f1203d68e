package firestore

// Index is a composite index the store's queries need in production (the emulator needs none).
// Its query scope is COLLECTION. Firestore appends __name__ to every index in the direction of
// the last field, which is the tie-break ListTasks orders by, so it is not listed.
type Index struct {
	Collection string
	Fields     []IndexField
}

// IndexField is one field of an Index, ascending unless Descending.
type IndexField struct {
	Path       string
	Descending bool
}

// Indexes lists every composite index the store needs, derived from the query shapes ListTasks
// builds (listFilters and listOrder), so that the list cannot drift from the code.
//
// It relies on Firestore's index merging: a query with several equality filters and one
// ordering is served by merging one index per equality field, each made of that field followed
// by the ordering, e.g. (status, created_at desc) and (cluster_id, created_at desc) together
// serve status == x AND cluster_id == y ORDER BY created_at DESC. So one index per filter field
// covers all 2^n combinations of filters. Queries with at most one field overall (the
// unfiltered listing, TaskStats' counts and sums, Logs on seq) use the automatic single-field
// indexes and need no entry here. The scheduler's run listing adds runIndexes.
func Indexes() []Index {
	out := make([]Index, 0, len(listFilters))
	for _, f := range listFilters {
		fields := append([]IndexField{{Path: f.path}}, listOrder...)
		out = append(out, Index{Collection: colTasks, Fields: fields})
	}
	return append(out, runIndexes()...)
}

// Unindexed is a field that holds opaque JSON or bytes, which no query filters or orders on.
// Firestore indexes every field by default, and a large value costs index writes on every
// update for nothing, so Terraform exempts these from indexing.
type Unindexed struct {
	Collection string // a collection group: subcollections of any parent share it
	Field      string
}

// UnindexedFields lists the store's opaque fields.
func UnindexedFields() []Unindexed {
	return []Unindexed{
		{colTasks, "checkpoint"},
		{colBackups, "snapshot"},
		{colScans, "data"},
		{colTableMetrics, "data"},
		{colHistory, "data"},
		{colPartitions, "data"},
	}
}
