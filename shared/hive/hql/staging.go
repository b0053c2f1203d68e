package hql

// Statements of the safe_merge strategy's staging table.

// CreateStagingTable returns
//
//	CREATE EXTERNAL TABLE tmp LIKE src LOCATION 'loc' TBLPROPERTIES ('external.table.purge'='false')
//
// the temporary table a rewrite writes into: src's columns, partition keys, SerDe, delimiters,
// format and compression over loc. LIKE copies src's table properties too, and a source with
// external.table.purge=true would make dropping the temporary table delete the merged files
// that the live table then points at, so the property is turned off explicitly.
func CreateStagingTable(tmp, src Table, location string) (string, error) {
	stmt, err := CreateExternalLike(tmp, src, location)
	if err != nil {
		return "", err
	}
	return finish(stmt + " TBLPROPERTIES ('external.table.purge'='false')")
}

// AddPartition returns ALTER TABLE t ADD PARTITION (...) [LOCATION 'loc'] for one partition
// (every partition column needs a value). An empty location lets Hive place it under the
// table's directory.
func AddPartition(t Table, spec Spec, location string) (string, error) {
	name, err := t.sql()
	if err != nil {
		return "", err
	}
	if !spec.Partitioned() {
		return "", invalid("ADD PARTITION needs a partitioned table")
	}
	part, err := spec.onePartition("ADD PARTITION")
	if err != nil {
		return "", err
	}
	stmt := "ALTER TABLE " + name + " ADD" + part
	if location != "" {
		loc, err := Location(location)
		if err != nil {
			return "", err
		}
		stmt += " LOCATION " + loc
	}
	return finish(stmt)
}
