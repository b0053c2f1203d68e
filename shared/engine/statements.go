package engine

import (
	"maps"
	"slices"
	"strconv"

	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// settings are the session settings a strategy's statements run under. Rewrites turn on
// Hive's small-file merge after every kind of job (map-only, MapReduce, Tez; Hive's defaults
// leave the last two off) and aim it at the target: merge when output files average below the
// target, into files of about the target. Every INSERT names all partition values, so no
// dynamic-partition setting is needed. CONCATENATE sizes its output by
// hive.merge.size.per.task. A compaction runs in the metastore's compactor, whose settings are
// the cluster's.
func settings(s merge.Strategy, target int64) map[string]string {
	t := strconv.FormatInt(target, 10)
	switch s {
	case merge.StrategySafeMerge, merge.StrategyInsertOverwrite:
		return map[string]string{
			"hive.merge.mapfiles":           "true",
			"hive.merge.mapredfiles":        "true",
			"hive.merge.tezfiles":           "true",
			"hive.merge.smallfiles.avgsize": t,
			"hive.merge.size.per.task":      t,
		}
	case merge.StrategyConcatenate:
		return map[string]string{"hive.merge.size.per.task": t}
	}
	return map[string]string{}
}

// statements builds one target's HiveQL, in order, through package hql only.
func statements(s merge.Strategy, taskID string, src hql.Table, t *target, cols []string, set map[string]string) ([]string, error) {
	var out []string
	add := func(stmt string, err error) error {
		if err == nil {
			out = append(out, stmt)
		}
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		if err := add(hql.Set(k, set[k])); err != nil {
			return nil, err
		}
	}
	var err error
	switch s {
	case merge.StrategySafeMerge:
		err = safeMerge(add, taskID, src, t, cols)
	case merge.StrategyInsertOverwrite:
		if err = add(hql.InsertOverwrite(src, src, t.spec, cols)); err == nil {
			err = add(hql.Analyze(src, t.spec))
		}
	case merge.StrategyConcatenate:
		if err = add(hql.Concatenate(src, t.spec)); err == nil {
			err = add(hql.Analyze(src, t.spec))
		}
	case merge.StrategyACIDCompact:
		err = add(hql.CompactMajor(src, t.spec))
	default:
		err = merge.Errorf(merge.ErrInvalid, "no statements for strategy %q", s)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// safeMerge writes the rows into a staging table over a hidden sibling of the partition's
// location, validates them against the source (row count and order-independent checksum),
// points the partition at the new files, refreshes statistics and drops the staging table,
// which is EXTERNAL with purge off so the drop keeps the files. The old location stays as the
// backup that a rollback points back at.
func safeMerge(add func(string, error) error, taskID string, src hql.Table, t *target, cols []string) error {
	staging, err := stagingLocation(t.location, taskID)
	if err != nil {
		return err
	}
	tmp := tempTable(src.Database, taskID, t.name)
	steps := []func() (string, error){}
	if t.spec.Partitioned() {
		// The staging table lives in a directory of its own and registers the partition's
		// staging directory explicitly, so the merged files land exactly there whatever the
		// partition's location.
		root, err := stagingTableLocation(staging, tmp)
		if err != nil {
			return err
		}
		steps = append(steps,
			func() (string, error) { return hql.CreateStagingTable(tmp, src, root) },
			func() (string, error) { return hql.AddPartition(tmp, t.spec, staging) })
	} else {
		steps = append(steps, func() (string, error) { return hql.CreateStagingTable(tmp, src, staging) })
	}
	steps = append(steps,
		func() (string, error) { return hql.InsertOverwrite(tmp, src, t.spec, cols) },
		func() (string, error) { return hql.Checksum(src, cols, t.spec) },
		func() (string, error) { return hql.Checksum(tmp, cols, t.spec) },
		func() (string, error) { return hql.SetLocation(src, t.spec, staging) },
		func() (string, error) { return hql.Analyze(src, t.spec) },
		func() (string, error) { return hql.DropExternalTable(tmp) })
	for _, step := range steps {
		if err := add(step()); err != nil {
			return err
		}
	}
	return nil
}
