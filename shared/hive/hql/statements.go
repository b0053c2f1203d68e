package hql

import (
	"fmt"
	"sort"
	"strings"
)

// Use returns USE `db`.
func Use(db string) (string, error) {
	id, err := Ident(db)
	if err != nil {
		return "", err
	}
	return finish("USE " + id)
}

// Set returns SET key=value. Hive's SET is not parsed as SQL (everything after '=' is the value),
// so both sides are whitelisted: key a dotted name, value plain words separated by single spaces
// without quotes, semicolons or "${".
func Set(key, value string) (string, error) {
	if len(key) > 256 || !setKeyRE.MatchString(key) {
		return "", invalid("setting name %q is not a dotted name", key)
	}
	if len(value) > 1024 || !setValRE.MatchString(value) {
		return "", invalid("value of %s may only contain letters, digits, single spaces and . , : / + = @ %% _ -", key)
	}
	return finish("SET " + key + "=" + value)
}

// DescribeFormatted returns DESCRIBE FORMATTED t, or DESCRIBE FORMATTED t PARTITION (...) when
// spec names a partition (then every partition column needs a value).
func DescribeFormatted(t Table, spec Spec) (string, error) {
	name, err := t.sql()
	if err != nil {
		return "", err
	}
	part, err := spec.fullOrNone("DESCRIBE FORMATTED ... PARTITION")
	if err != nil {
		return "", err
	}
	return finish("DESCRIBE FORMATTED " + name + part)
}

// ShowPartitions returns SHOW PARTITIONS t [PARTITION (...)]; spec may be partial, which filters
// the listed partitions.
func ShowPartitions(t Table, spec Spec) (string, error) {
	name, err := t.sql()
	if err != nil {
		return "", err
	}
	part, err := spec.clause(false)
	if err != nil {
		return "", err
	}
	return finish("SHOW PARTITIONS " + name + part)
}

// ShowTableExtended returns SHOW TABLE EXTENDED IN `db` LIKE 't' [PARTITION (...)], whose output
// carries a live file listing (totalNumberFiles, totalFileSize, ...). Names are restricted to
// letters, digits and underscores, so the LIKE pattern has no wildcard except '_' on Hive
// versions that treat it as one: callers pick the block whose tableName matches.
func ShowTableExtended(t Table, spec Spec) (string, error) {
	db, err := Ident(t.Database)
	if err != nil {
		return "", fmt.Errorf("database: %w", err)
	}
	if err := checkIdent(t.Name); err != nil {
		return "", fmt.Errorf("table: %w", err)
	}
	like, err := Literal(t.Name)
	if err != nil {
		return "", err
	}
	part, err := spec.fullOrNone("SHOW TABLE EXTENDED ... PARTITION")
	if err != nil {
		return "", err
	}
	return finish("SHOW TABLE EXTENDED IN " + db + " LIKE " + like + part)
}

// ShowTableProperties returns SHOW TBLPROPERTIES t.
func ShowTableProperties(t Table) (string, error) {
	name, err := t.sql()
	if err != nil {
		return "", err
	}
	return finish("SHOW TBLPROPERTIES " + name)
}

// ShowTableProperty returns SHOW TBLPROPERTIES t('key'). Hive answers a missing key with a
// message row instead of an error (see hive.ParseTableProperties).
func ShowTableProperty(t Table, key string) (string, error) {
	name, err := t.sql()
	if err != nil {
		return "", err
	}
	if !setKeyRE.MatchString(key) || len(key) > 256 {
		return "", invalid("table property name %q is not a dotted name", key)
	}
	lit, err := Literal(key)
	if err != nil {
		return "", err
	}
	return finish("SHOW TBLPROPERTIES " + name + "(" + lit + ")")
}

// ShowDatabases returns SHOW DATABASES: the cheapest statement that proves a session works
// (a metastore call, no job), used to test a cluster's connection.
func ShowDatabases() (string, error) { return finish("SHOW DATABASES") }

// ShowCompactions returns SHOW COMPACTIONS (every table: Hive 3 has no filter syntax).
func ShowCompactions() (string, error) { return finish("SHOW COMPACTIONS") }

// Concatenate returns ALTER TABLE t [PARTITION (...)] CONCATENATE. A partitioned table needs a
// full partition spec (Hive refuses table-level CONCATENATE on partitioned tables).
func Concatenate(t Table, spec Spec) (string, error) {
	name, err := t.sql()
	if err != nil {
		return "", err
	}
	part, err := spec.onePartition("CONCATENATE")
	if err != nil {
		return "", err
	}
	return finish("ALTER TABLE " + name + part + " CONCATENATE")
}

// CompactMajor returns ALTER TABLE t [PARTITION (...)] COMPACT 'major'. A partitioned table needs
// a full partition spec.
func CompactMajor(t Table, spec Spec) (string, error) {
	name, err := t.sql()
	if err != nil {
		return "", err
	}
	part, err := spec.onePartition("COMPACT")
	if err != nil {
		return "", err
	}
	return finish("ALTER TABLE " + name + part + " COMPACT 'major'")
}

// InsertOverwrite returns
//
//	INSERT OVERWRITE TABLE dst [PARTITION (...)] SELECT cols [, dynamic keys] FROM src [WHERE ...]
//
// which rewrites the rows of src selected by spec into dst. spec holds dst's (and src's)
// partition columns: columns with a value are static (and filter src), the others are dynamic
// and are appended to the select list in order; Hive requires static columns to come first.
// cols are the non-partition columns, in table order.
func InsertOverwrite(dst, src Table, spec Spec, cols []string) (string, error) {
	dstName, err := dst.sql()
	if err != nil {
		return "", fmt.Errorf("target: %w", err)
	}
	srcName, err := src.sql()
	if err != nil {
		return "", fmt.Errorf("source: %w", err)
	}
	sel, err := columnList(cols, spec)
	if err != nil {
		return "", err
	}
	dynamicSeen := ""
	for i, c := range spec.cols {
		if !spec.set[i] {
			if dynamicSeen == "" {
				dynamicSeen = c.Name
			}
			id, err := Ident(c.Name)
			if err != nil {
				return "", err
			}
			sel = append(sel, id)
		} else if dynamicSeen != "" {
			return "", invalid("static partition column %s follows dynamic column %s", c.Name, dynamicSeen)
		}
	}
	part, err := spec.clause(true)
	if err != nil {
		return "", err
	}
	where, err := spec.where()
	if err != nil {
		return "", err
	}
	return finish("INSERT OVERWRITE TABLE " + dstName + part + " SELECT " + strings.Join(sel, ", ") + " FROM " + srcName + where)
}

// columnList backticks the non-partition columns of a select list.
func columnList(cols []string, spec Spec) ([]string, error) {
	if len(cols) == 0 {
		return nil, invalid("no columns")
	}
	part := make(map[string]bool)
	for _, c := range spec.cols {
		part[strings.ToLower(c.Name)] = true
	}
	seen := make(map[string]bool)
	out := make([]string, 0, len(cols)+len(spec.cols))
	for _, c := range cols {
		id, err := Ident(c)
		if err != nil {
			return nil, fmt.Errorf("column: %w", err)
		}
		l := strings.ToLower(c)
		if part[l] {
			return nil, invalid("%s is a partition column, not a data column", c)
		}
		if seen[l] {
			return nil, invalid("column %s listed twice", c)
		}
		seen[l] = true
		out = append(out, id)
	}
	return out, nil
}

// CreateExternalLike returns CREATE EXTERNAL TABLE tmp LIKE src LOCATION 'loc': a table with
// src's columns, partition keys, SerDe, delimiters, format and compression whose data lives
// at loc, and which Hive will not delete data for when it is dropped.
func CreateExternalLike(tmp, src Table, location string) (string, error) {
	tmpName, err := tmp.sql()
	if err != nil {
		return "", fmt.Errorf("new table: %w", err)
	}
	srcName, err := src.sql()
	if err != nil {
		return "", fmt.Errorf("source: %w", err)
	}
	loc, err := Location(location)
	if err != nil {
		return "", err
	}
	return finish("CREATE EXTERNAL TABLE " + tmpName + " LIKE " + srcName + " LOCATION " + loc)
}

// SetLocation returns ALTER TABLE t [PARTITION (...)] SET LOCATION 'loc'. With an empty spec it
// changes the table's own location, which for a partitioned table only affects new partitions;
// swapping a partition needs its full spec.
func SetLocation(t Table, spec Spec, location string) (string, error) {
	name, err := t.sql()
	if err != nil {
		return "", err
	}
	part, err := spec.fullOrNone("SET LOCATION")
	if err != nil {
		return "", err
	}
	loc, err := Location(location)
	if err != nil {
		return "", err
	}
	return finish("ALTER TABLE " + name + part + " SET LOCATION " + loc)
}

// DropExternalTable returns DROP TABLE IF EXISTS t. It exists only to remove hivemerge's own
// temporary EXTERNAL tables: dropping a managed table (or an external one with
// external.table.purge=true) deletes its data, and Hive has no syntax that refuses to. Callers
// must check the table type first; hive.Client.DropExternalTable does.
func DropExternalTable(t Table) (string, error) {
	name, err := t.sql()
	if err != nil {
		return "", err
	}
	return finish("DROP TABLE IF EXISTS " + name)
}

// Analyze returns ANALYZE TABLE t [PARTITION (...)] COMPUTE STATISTICS. For a partitioned table,
// columns without a value are listed bare, which analyses every matching partition.
func Analyze(t Table, spec Spec) (string, error) {
	name, err := t.sql()
	if err != nil {
		return "", err
	}
	part, err := spec.clause(true)
	if err != nil {
		return "", err
	}
	return finish("ANALYZE TABLE " + name + part + " COMPUTE STATISTICS")
}

// Checksum returns
//
//	SELECT COUNT(*), COALESCE(SUM(HASH(cols...)), 0) FROM t [WHERE spec]
//
// the row count and an order-independent checksum used to validate a rewrite: HASH combines the
// columns of a row (NULL hashes to 0) and SUM is independent of row and file order. COALESCE
// turns the NULL that SUM returns on zero rows into 0.
func Checksum(t Table, cols []string, where Spec) (string, error) {
	name, err := t.sql()
	if err != nil {
		return "", err
	}
	list, err := columnList(cols, Spec{})
	if err != nil {
		return "", err
	}
	w, err := where.where()
	if err != nil {
		return "", err
	}
	return finish("SELECT COUNT(*), COALESCE(SUM(HASH(" + strings.Join(list, ", ") + ")), 0) FROM " + name + w)
}

// MsckRepair returns MSCK REPAIR TABLE t.
func MsckRepair(t Table) (string, error) {
	name, err := t.sql()
	if err != nil {
		return "", err
	}
	return finish("MSCK REPAIR TABLE " + name)
}

// SetTableProperties returns ALTER TABLE t SET TBLPROPERTIES ('k'='v', ...), keys sorted.
func SetTableProperties(t Table, props map[string]string) (string, error) {
	name, err := t.sql()
	if err != nil {
		return "", err
	}
	if len(props) == 0 {
		return "", invalid("no table properties")
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		if len(k) > 256 || !setKeyRE.MatchString(k) {
			return "", invalid("table property name %q is not a dotted name", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, 0, len(keys))
	for _, k := range keys {
		kl, err := Literal(k)
		if err != nil {
			return "", err
		}
		vl, err := Literal(props[k])
		if err != nil {
			return "", fmt.Errorf("table property %s: %w", k, err)
		}
		pairs = append(pairs, kl+"="+vl)
	}
	return finish("ALTER TABLE " + name + " SET TBLPROPERTIES (" + strings.Join(pairs, ", ") + ")")
}
