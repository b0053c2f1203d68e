package hiveql

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// cloneTable deep-copies a table so a statement can work on it without holding the catalog lock.
func cloneTable(t *table) *table {
	c := *t
	c.Columns = slices.Clone(t.Columns)
	c.PartCols = slices.Clone(t.PartCols)
	c.BucketCols = slices.Clone(t.BucketCols)
	c.Params = maps.Clone(t.Params)
	c.Partitions = make(map[string]*partition, len(t.Partitions))
	for k, p := range t.Partitions {
		pc := *p
		pc.Values = slices.Clone(p.Values)
		pc.Params = maps.Clone(p.Params)
		c.Partitions[k] = &pc
	}
	return &c
}

// dbOf returns the database a reference names, defaulting to the session's.
func (x *exec) dbOf(ref tableRef) string {
	if ref.db != "" {
		return ref.db
	}
	return x.db
}

// table returns a snapshot of the referenced table, or Hive's "Table not found" error in the
// form the statement kind uses (positional for queries, plain for DDL).
func (x *exec) table(ref tableRef, positional bool) (*table, error) {
	x.w.mu.Lock()
	defer x.w.mu.Unlock()
	t, err := x.lookupLocked(ref, positional)
	if err != nil {
		return nil, err
	}
	return cloneTable(t), nil
}

// lookupLocked finds the live table behind ref; the caller holds the catalog lock.
func (x *exec) lookupLocked(ref tableRef, positional bool) (*table, error) {
	db := x.dbOf(ref)
	if _, ok := x.w.cat.Databases[db]; !ok && ref.db != "" {
		return nil, databaseNotFound(db)
	}
	t, ok := x.w.lookupTable(db, ref.name)
	if !ok {
		if positional {
			return nil, tableNotFoundAt(ref.tok, ref.written)
		}
		return nil, tableNotFound(ref.written)
	}
	if t.locErr != nil {
		return nil, refusedTable(t)
	}
	return t, nil
}

// lockLive takes the catalog lock and finds the live table behind t, a snapshot taken when
// the statement compiled, so that a statement can publish its work; the caller unlocks.
func (x *exec) lockLive(t *table) (live *table, unlock func(), err error) {
	x.w.mu.Lock()
	live, ok := x.w.lookupTable(t.DB, t.Name)
	if !ok {
		x.w.mu.Unlock()
		return nil, nil, tableNotFound(t.qualified())
	}
	return live, x.w.mu.Unlock, nil
}

// compileLocked is the compile step of a statement that changes the catalog: check runs
// Hive's semantic checks under the catalog lock, and the plan is reported without it, since
// the callback may block. The statement looks its objects up again when it changes them.
func (x *exec) compileLocked(check func() error) error {
	x.w.mu.Lock()
	err := check()
	x.w.mu.Unlock()
	if err != nil {
		return err
	}
	return x.compiled(nil)
}

// alterTable is the compile step of an ALTER TABLE that changes only the catalog (the table
// must exist), then the catalog lock for the change: it returns the live table, and the
// caller unlocks.
func (x *exec) alterTable(ref tableRef) (t *table, unlock func(), err error) {
	err = x.compileLocked(func() error {
		_, err := x.lookupLocked(ref, false)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	x.w.mu.Lock()
	if t, err = x.lookupLocked(ref, false); err != nil {
		x.w.mu.Unlock()
		return nil, nil, err
	}
	return t, x.w.mu.Unlock, nil
}

// withTable runs fn on the live table under the catalog lock, for statements that only read
// metadata: no copy of a table with thousands of partitions. fn must not do I/O.
func (x *exec) withTable(ref tableRef, fn func(t *table) (*Result, error)) (*Result, error) {
	x.w.mu.Lock()
	defer x.w.mu.Unlock()
	t, err := x.lookupLocked(ref, false)
	if err != nil {
		return nil, err
	}
	return fn(t)
}

// normalizePartValue converts a partition value to the canonical string of its column type,
// as hive.typecheck.on.insert does (int '01' is stored as 1).
func normalizePartValue(c column, v string, tok token) (string, error) {
	if v == defaultPartitionName {
		return v, nil
	}
	switch baseType(c.Type) {
	case "int", "bigint", "smallint", "tinyint":
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return "", semanticErrorAt("42000", 10248, tok, fmt.Sprintf("Cannot add partition column %s of type %s as it cannot be converted to type %s", c.Name, "string", c.Type))
		}
		return strconv.FormatInt(n, 10), nil
	case "date":
		d, ok := parseDate(v)
		if !ok {
			return "", semanticErrorAt("42000", 10248, tok, fmt.Sprintf("Cannot add partition column %s of type %s as it cannot be converted to type %s", c.Name, "string", c.Type))
		}
		return d.String(), nil
	}
	return v, nil
}

// specString renders a spec like Hive's messages: {dt=2024-01-01, hr=00}.
func specString(spec []specItem) string {
	parts := make([]string, 0, len(spec))
	for _, s := range spec {
		v := ""
		if s.value != nil {
			v = *s.value
		}
		parts = append(parts, s.key+"="+v)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// resolveSpec checks a static partition spec against the table and returns normalised values
// by column name. With full set, every partition column must be given.
// partitionOf finds the partition a full PARTITION(...) spec names, with Hive's errors.
func (t *table) partitionOf(spec []specItem) (*partition, error) {
	vals, err := resolveSpec(t, spec, true)
	if err != nil {
		return nil, err
	}
	p, ok := t.Partitions[partName(t.PartCols, t.fullValues(vals))]
	if !ok {
		return nil, partitionNotFound(specString(spec))
	}
	return p, nil
}

func resolveSpec(t *table, spec []specItem, full bool) (map[string]string, error) {
	if !t.partitioned() {
		return nil, semanticError("42000", 10241, fmt.Sprintf("Table is not partitioned but partition spec exists: %s", specString(spec)))
	}
	vals := map[string]string{}
	for _, s := range spec {
		i := slices.IndexFunc(t.PartCols, func(c column) bool { return c.Name == s.key })
		if i < 0 {
			return nil, Errorf("42000", 40000, "%sFAILED: ValidationFailureSemanticException Partition spec %s contains non-partition columns", compilePrefix, specString(spec))
		}
		if s.value == nil {
			return nil, p2err(spec)
		}
		v, err := normalizePartValue(t.PartCols[i], *s.value, s.tok)
		if err != nil {
			return nil, err
		}
		vals[s.key] = v
	}
	if full && len(vals) != len(t.PartCols) {
		return nil, semanticError("42000", 10006, "Partition not found "+specString(spec))
	}
	return vals, nil
}

func p2err(spec []specItem) *Error {
	return semanticError("42000", 10125, "Partition columns in partition specification are not the same as that defined in the table schema. The names and orders have to be exactly the same. "+specString(spec))
}

// fullValues orders a complete spec's values by the table's partition columns.
func (t *table) fullValues(vals map[string]string) []string {
	out := make([]string, len(t.PartCols))
	for i, c := range t.PartCols {
		out[i] = vals[c.Name]
	}
	return out
}

// matchPartitions returns the sorted names of partitions matching a (partial) spec.
func (t *table) matchPartitions(vals map[string]string) []string {
	var names []string
	for _, n := range t.sortedPartitions() {
		p := t.Partitions[n]
		ok := true
		for i, c := range t.PartCols {
			if v, set := vals[c.Name]; set && p.Values[i] != v {
				ok = false
				break
			}
		}
		if ok {
			names = append(names, n)
		}
	}
	return names
}

// columnStatsAccurate is the COLUMN_STATS_ACCURATE value Hive writes when basic and column
// statistics are current (column names sorted, as Hive's TreeMap serialises them).
func columnStatsAccurate(cols []column) string {
	names := make([]string, 0, len(cols))
	for _, c := range cols {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString(`{"BASIC_STATS":"true","COLUMN_STATS":{`)
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(n)
		b.Write(k)
		b.WriteString(`:"true"`)
	}
	b.WriteString("}}")
	return b.String()
}

// basicStatsAccurate is the table-level claim of a partitioned table, whose statistics live
// on its partitions.
const basicStatsAccurate = `{"BASIC_STATS":"true"}`

// setStats records accurate basic statistics on a table or partition parameter map.
func setStats(params map[string]string, cols []column, s basicStats) {
	params["numFiles"] = strconv.FormatInt(s.files, 10)
	params["totalSize"] = strconv.FormatInt(s.total, 10)
	params["numRows"] = strconv.FormatInt(s.rows, 10)
	params["rawDataSize"] = strconv.FormatInt(s.raw, 10)
	params["COLUMN_STATS_ACCURATE"] = columnStatsAccurate(cols)
}

// setFastStats records only what a file listing tells (numFiles, totalSize); row counts are
// unknown, so Hive drops its claim that statistics are accurate.
func setFastStats(params map[string]string, s basicStats) {
	params["numFiles"] = strconv.FormatInt(s.files, 10)
	params["totalSize"] = strconv.FormatInt(s.total, 10)
	delete(params, "COLUMN_STATS_ACCURATE")
	delete(params, "numRows")
	delete(params, "rawDataSize")
}

// statsKeys are parameters Hive maintains itself; CREATE TABLE LIKE does not copy them.
var statsKeys = map[string]bool{
	"numFiles": true, "totalSize": true, "numRows": true, "rawDataSize": true,
	"COLUMN_STATS_ACCURATE": true, "transient_lastDdlTime": true, "EXTERNAL": true,
	"numFilesErasureCoded": true, "numPartitions": true,
}

type createTableStmt struct {
	ref                 tableRef
	like                *tableRef
	external, temporary bool
	ifNotExists         bool
	columns, partCols   []column
	bucketCols          []string
	numBuckets          int
	delim, format       string
	location            string
	props               map[string]string
	propOrder           []string
}

func (st *createTableStmt) run(x *exec) (*Result, error) {
	db := x.dbOf(st.ref)
	var src *table
	if st.like != nil {
		var err error
		if src, err = x.table(*st.like, false); err != nil {
			return nil, err
		}
	}
	now := x.w.unixNow()
	t := &table{
		DB: db, Name: st.ref.name, Owner: x.s.user, External: st.external,
		Columns: st.columns, PartCols: st.partCols, Format: st.format, Delim: st.delim,
		BucketCols: st.bucketCols, NumBuckets: st.numBuckets,
		Params: map[string]string{}, Partitions: map[string]*partition{}, CreateTime: now,
	}
	if src != nil {
		t.Columns, t.PartCols = slices.Clone(src.Columns), slices.Clone(src.PartCols)
		t.Format, t.Delim = src.Format, src.Delim
		t.BucketCols, t.NumBuckets = slices.Clone(src.BucketCols), src.NumBuckets
		for k, v := range src.Params {
			if !statsKeys[k] {
				t.Params[k] = v
			}
		}
		if st.external {
			delete(t.Params, "transactional")
			delete(t.Params, "transactional_properties")
		}
	}
	if t.Format == "" {
		t.Format = "TEXTFILE"
	}
	maps.Copy(t.Params, st.props)
	seen := map[string]bool{}
	for _, c := range append(slices.Clone(t.Columns), t.PartCols...) {
		if seen[c.Name] {
			return nil, semanticError("42000", 10036, "Duplicate column name: "+c.Name)
		}
		seen[c.Name] = true
	}
	for _, b := range t.BucketCols {
		if !slices.ContainsFunc(t.Columns, func(c column) bool { return c.Name == b }) {
			return nil, semanticError("42000", 10002, "Invalid column reference "+b)
		}
	}
	if st.numBuckets < 0 || st.bucketCols != nil && st.numBuckets == 0 {
		return nil, semanticError("42000", 10037, "Bucket number should be bigger than zero")
	}
	if t.transactional() {
		if t.Params["transactional_properties"] == "" {
			t.Params["transactional_properties"] = "default"
		}
		// An external transactional table is the metastore's refusal, at execution.
		if !t.External && !t.insertOnly() && t.Format != "ORC" {
			return nil, semanticError("42000", 10302, fmt.Sprintf("The table must be stored using an ACID compliant format (such as ORC): %s.%s", db, t.Name))
		}
	}
	err := x.compileLocked(func() error {
		d, ok := x.w.cat.Databases[db]
		if !ok {
			return databaseNotFound(db)
		}
		// A location that cannot be parsed is the metastore's refusal, at execution.
		if loc, err := tableLocation(d, t.Name, st.location); err == nil {
			if err := x.w.checkLocation(loc); err != nil {
				return refusedLocation(err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if t.transactional() && t.External {
		return nil, ddlError(fmt.Sprintf("MetaException(message:%s.%s cannot be declared transactional because it's an external table)", db, t.Name))
	}
	t.Params["bucketing_version"] = "2"
	if t.External {
		t.Params["EXTERNAL"] = "TRUE"
	}
	t.Params["transient_lastDdlTime"] = strconv.FormatInt(now, 10)

	w := x.w
	w.mu.Lock()
	defer w.mu.Unlock()
	d, ok := w.cat.Databases[db]
	if !ok {
		return nil, databaseNotFound(db)
	}
	if _, exists := d.Tables[t.Name]; exists {
		if st.ifNotExists {
			return nil, nil
		}
		return nil, ddlError(fmt.Sprintf("AlreadyExistsException(message:Table hive.%s.%s already exists)", db, t.Name))
	}
	loc, err := tableLocation(d, t.Name, st.location)
	if err != nil {
		return nil, ddlError(err.Error())
	}
	// Checked again: the database may have changed since the compile step.
	if err := w.checkLocation(loc); err != nil {
		return nil, refusedLocationAtRun(err)
	}
	if err := w.checkOverlapLocked(loc, locationUse{db: db, external: t.External}); err != nil {
		return nil, refusedLocationAtRun(err)
	}
	t.Location = loc
	if err := os.MkdirAll(t.Location, 0o755); err != nil {
		return nil, ddlError(fmt.Sprintf("MetaException(message:%v)", err))
	}
	if !t.partitioned() {
		s, err := scanStats(t, t.Location, false)
		if err != nil {
			return nil, ddlError(fmt.Sprintf("MetaException(message:%v)", err))
		}
		if s.files == 0 {
			setStats(t.Params, t.Columns, s)
		} else {
			setFastStats(t.Params, s)
		}
	} else {
		t.Params["COLUMN_STATS_ACCURATE"] = basicStatsAccurate
	}
	d.Tables[t.Name] = t
	return nil, w.commit()
}

// tableLocation is where a new table of database d lives: its LOCATION when given, else a
// directory named after it in the database's.
func tableLocation(d *database, name, location string) (string, error) {
	if location == "" {
		return filepath.Join(d.Location, name), nil
	}
	return localPath(location)
}

type dropTableStmt struct {
	ref             tableRef
	ifExists, purge bool
}

func (st *dropTableStmt) run(x *exec) (*Result, error) {
	err := x.compileLocked(func() error {
		// IF EXISTS does not hide a table the sandbox refuses to act on.
		if t, ok := x.w.lookupTable(x.dbOf(st.ref), st.ref.name); ok && t.locErr != nil {
			return refusedTable(t)
		}
		if _, err := x.lookupLocked(st.ref, false); err != nil && !st.ifExists {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	db := x.dbOf(st.ref)
	w := x.w
	w.mu.Lock()
	defer w.mu.Unlock()
	d, ok := w.cat.Databases[db]
	var t *table
	if ok {
		t, ok = d.Tables[st.ref.name]
	}
	if !ok {
		if st.ifExists {
			return nil, nil
		}
		return nil, tableNotFound(st.ref.written)
	}
	if t.locErr != nil {
		return nil, refusedTable(t)
	}
	if !t.External {
		if err := w.checkDropLocked(tableDirs(t), func(y *table) bool { return y == t }); err != nil {
			return nil, refusedLocationAtRun(err)
		}
	}
	delete(d.Tables, t.Name)
	if err := w.commit(); err != nil {
		return nil, err
	}
	if !t.External {
		w.removeTableData(t)
	}
	return nil, nil
}

type renameTableStmt struct{ ref, to tableRef }

func (st *renameTableStmt) run(x *exec) (*Result, error) {
	db, toDB := x.dbOf(st.ref), x.dbOf(st.to)
	err := x.compileLocked(func() error {
		t, err := x.lookupLocked(st.ref, false)
		if err != nil {
			return err
		}
		nd, ok := x.w.cat.Databases[toDB]
		if !ok {
			return databaseNotFound(toDB)
		}
		if loc, moves := renamedLocation(x.w.cat.Databases[db], nd, t, st.to.name); moves {
			if err := x.w.checkLocation(loc); err != nil {
				return refusedLocation(err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	w := x.w
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.lookupTable(db, st.ref.name)
	if !ok {
		return nil, tableNotFound(st.ref.written)
	}
	nd, ok := w.cat.Databases[toDB]
	if !ok {
		return nil, databaseNotFound(toDB)
	}
	if _, exists := nd.Tables[st.to.name]; exists {
		return nil, ddlError(fmt.Sprintf("Unable to alter table. AlreadyExistsException(message:Table %s.%s already exists)", toDB, st.to.name))
	}
	if t.locErr != nil {
		return nil, refusedTable(t)
	}
	oldLoc := t.Location
	if newLoc, moves := renamedLocation(w.cat.Databases[db], nd, t, st.to.name); moves {
		if err := w.checkLocation(newLoc); err != nil {
			return nil, refusedLocationAtRun(err)
		}
		if err := w.checkOverlapLocked(newLoc, locationUse{db: toDB, table: t, external: t.External}); err != nil {
			return nil, refusedLocationAtRun(err)
		}
		if err := os.Rename(oldLoc, newLoc); err != nil && !os.IsNotExist(err) {
			return nil, ddlError(fmt.Sprintf("Unable to alter table. %v", err))
		}
		t.Location = newLoc
		for _, p := range t.Partitions {
			if rel, err := filepath.Rel(oldLoc, p.Location); err == nil && !strings.HasPrefix(rel, "..") {
				p.Location = filepath.Join(newLoc, rel)
			}
		}
	}
	delete(w.cat.Databases[db].Tables, t.Name)
	t.DB, t.Name = toDB, st.to.name
	t.Params["transient_lastDdlTime"] = strconv.FormatInt(w.unixNow(), 10)
	nd.Tables[t.Name] = t
	return nil, w.commit()
}

// renamedLocation is where renaming t to database nd and name moves its directory, and
// whether it moves: Hive moves a managed table's directory only when it sits at its default
// location in database d.
func renamedLocation(d, nd *database, t *table, name string) (string, bool) {
	if t.External || t.Location != filepath.Join(d.Location, t.Name) {
		return "", false
	}
	return filepath.Join(nd.Location, name), true
}

// checkLocations is the compile-time confinement check of the LOCATION strings a statement
// names; strings that do not parse are left to the statement, which refuses them later.
func (x *exec) checkLocations(locations ...string) error {
	for _, l := range locations {
		if l == "" {
			continue
		}
		if loc, err := localPath(l); err == nil {
			if err := x.w.checkLocation(loc); err != nil {
				return refusedLocation(err)
			}
		}
	}
	return nil
}

type setLocationStmt struct {
	ref      tableRef
	spec     []specItem
	location string
}

func (st *setLocationStmt) run(x *exec) (*Result, error) {
	if err := x.checkLocations(st.location); err != nil {
		return nil, err
	}
	t, unlock, err := x.alterTable(st.ref)
	if err != nil {
		return nil, err
	}
	defer unlock()
	w := x.w
	loc, err := localPath(st.location)
	if err != nil {
		return nil, ddlError(err.Error())
	}
	if err := w.checkLocation(loc); err != nil {
		return nil, refusedLocationAtRun(err)
	}
	now := strconv.FormatInt(w.unixNow(), 10)
	if st.spec == nil {
		if err := w.checkOverlapLocked(loc, locationUse{db: t.DB, table: t, external: t.External}); err != nil {
			return nil, refusedLocationAtRun(err)
		}
		t.Location = loc
		t.Params["transient_lastDdlTime"] = now
		return nil, w.commit()
	}
	p, err := t.partitionOf(st.spec)
	if err != nil {
		return nil, err
	}
	use := locationUse{db: t.DB, table: t, partition: partName(t.PartCols, p.Values), external: t.External}
	if err := w.checkOverlapLocked(loc, use); err != nil {
		return nil, refusedLocationAtRun(err)
	}
	p.Location = loc
	p.Params["transient_lastDdlTime"] = now
	return nil, w.commit()
}

type addPart struct {
	spec     []specItem
	location string
}

type addPartitionStmt struct {
	ref         tableRef
	ifNotExists bool
	parts       []addPart
}

func (st *addPartitionStmt) run(x *exec) (*Result, error) {
	for _, a := range st.parts {
		if err := x.checkLocations(a.location); err != nil {
			return nil, err
		}
	}
	t, unlock, err := x.alterTable(st.ref)
	if err != nil {
		return nil, err
	}
	defer unlock()
	w := x.w
	for _, a := range st.parts {
		vals, err := resolveSpec(t, a.spec, false)
		if err != nil {
			return nil, err
		}
		if len(vals) != len(t.PartCols) {
			return nil, semanticError("42000", 10006, "Partition not found "+specString(a.spec))
		}
		values := t.fullValues(vals)
		name := partName(t.PartCols, values)
		if _, exists := t.Partitions[name]; exists {
			if st.ifNotExists {
				continue
			}
			return nil, ddlError(fmt.Sprintf("AlreadyExistsException(message:Partition already exists: Partition(values:[%s], dbName:%s, tableName:%s))", strings.Join(values, ", "), t.DB, t.Name))
		}
		loc := filepath.Join(t.Location, name)
		if a.location != "" {
			if loc, err = localPath(a.location); err != nil {
				return nil, ddlError(err.Error())
			}
			if err := w.checkLocation(loc); err != nil {
				return nil, refusedLocationAtRun(err)
			}
			if err := w.checkOverlapLocked(loc, locationUse{db: t.DB, table: t, partition: name, external: t.External}); err != nil {
				return nil, refusedLocationAtRun(err)
			}
		}
		if _, err := w.addPartitionLocked(t, values, loc); err != nil {
			return nil, ddlError(fmt.Sprintf("MetaException(message:%v)", err))
		}
	}
	return nil, w.commit()
}

// addPartitionLocked registers a partition and creates its directory, computing the fast
// statistics Hive's metastore records for a new partition. The caller holds w.mu.
func (w *Warehouse) addPartitionLocked(t *table, values []string, loc string) (*partition, error) {
	if err := os.MkdirAll(loc, 0o755); err != nil {
		return nil, err
	}
	now := w.unixNow()
	p := &partition{Values: values, Location: loc, CreateTime: now, Params: map[string]string{
		"transient_lastDdlTime": strconv.FormatInt(now, 10),
	}}
	s, err := scanStats(t, loc, false)
	if err != nil {
		return nil, err
	}
	if s.files == 0 {
		setStats(p.Params, t.Columns, s)
	} else {
		setFastStats(p.Params, s)
	}
	t.Partitions[partName(t.PartCols, values)] = p
	return p, nil
}

type dropPartitionStmt struct {
	ref             tableRef
	specs           [][]specItem
	ifExists, purge bool
}

func (st *dropPartitionStmt) run(x *exec) (*Result, error) {
	t, unlock, err := x.alterTable(st.ref)
	if err != nil {
		return nil, err
	}
	w := x.w
	// Every spec is checked before any partition goes, so a refusal changes nothing.
	var names []string
	for _, spec := range st.specs {
		vals, err := resolveSpec(t, spec, false)
		if err != nil {
			unlock()
			return nil, err
		}
		matched := t.matchPartitions(vals)
		if len(matched) == 0 && !st.ifExists {
			unlock()
			return nil, semanticError("42000", 10006, "Partition not found "+specString(spec))
		}
		for _, n := range matched {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if !t.External {
		dirs := make([]string, 0, len(names))
		for _, n := range names {
			dirs = append(dirs, t.Partitions[n].Location)
		}
		if err := w.checkDropLocked(dirs, func(y *table) bool { return y == t }); err != nil {
			unlock()
			return nil, refusedLocationAtRun(err)
		}
	}
	var dropped []*partition
	for _, n := range names {
		dropped = append(dropped, t.Partitions[n])
		delete(t.Partitions, n)
		x.log("Dropped the partition %s", n)
	}
	err = w.commit()
	external := t.External
	unlock()
	if err != nil {
		return nil, err
	}
	if !external {
		for _, p := range dropped {
			w.removeLocation(p.Location)
		}
	}
	return nil, nil
}

type setPropsStmt struct {
	ref             tableRef
	props           map[string]string
	order           []string
	unset, ifExists bool
}

func (st *setPropsStmt) run(x *exec) (*Result, error) {
	t, unlock, err := x.alterTable(st.ref)
	if err != nil {
		return nil, err
	}
	defer unlock()
	w := x.w
	if st.unset {
		for _, k := range st.order {
			if _, ok := t.Params[k]; !ok && !st.ifExists {
				return nil, semanticError("42000", 10215, "Please use the following syntax if not sure whether the property existed or not:\nALTER TABLE tableName UNSET TBLPROPERTIES IF EXISTS (key1, key2, ...)\n The following property "+k+" does not exist in "+t.Name)
			}
			delete(t.Params, k)
		}
	} else {
		if v, ok := st.props["EXTERNAL"]; ok {
			// A managed table's DROP deletes its files: an external table may only become
			// managed where a managed table could have been created.
			if t.External && !strings.EqualFold(v, "TRUE") {
				if err := w.checkOverlapLocked(t.Location, locationUse{db: t.DB, table: t}); err != nil {
					return nil, refusedLocationAtRun(err)
				}
			}
			t.External = strings.EqualFold(v, "TRUE")
			if t.External {
				st.props["EXTERNAL"] = "TRUE"
			} else {
				delete(st.props, "EXTERNAL")
				delete(t.Params, "EXTERNAL")
			}
		}
		maps.Copy(t.Params, st.props)
		if t.transactional() && t.Params["transactional_properties"] == "" {
			t.Params["transactional_properties"] = "default"
		}
		t.Params["last_modified_by"] = x.s.user
		t.Params["last_modified_time"] = strconv.FormatInt(w.unixNow(), 10)
	}
	t.Params["transient_lastDdlTime"] = strconv.FormatInt(w.unixNow(), 10)
	return nil, w.commit()
}
