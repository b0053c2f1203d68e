package hiveql

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The output layouts below follow Hive's TextMetaDataFormatter and MetaDataFormatUtils: text
// lines of tab-separated fields, padded to 20 characters, that HiveServer2 splits into the
// result columns. A field missing from a line is NULL (Hive's DDL result tables use " " as the
// NULL format, which is how the golden .q.out files show it).

const alignment = 20

func pad(s string) string { return fmt.Sprintf("%-*s", alignment, s) }

var descColumns = []Column{{Name: "col_name", Type: "STRING"}, {Name: "data_type", Type: "STRING"}, {Name: "comment", Type: "STRING"}}

// formatClasses are the SerDe, InputFormat and OutputFormat a declared format implies.
func formatClasses(format string) (serde, in, out string) {
	switch format {
	case "ORC":
		return "org.apache.hadoop.hive.ql.io.orc.OrcSerde", "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat", "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat"
	case "PARQUET":
		return "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat", "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
	case "RCFILE":
		return "org.apache.hadoop.hive.serde2.columnar.LazyBinaryColumnarSerDe", "org.apache.hadoop.hive.ql.io.RCFileInputFormat", "org.apache.hadoop.hive.ql.io.RCFileOutputFormat"
	case "SEQUENCEFILE":
		return "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe", "org.apache.hadoop.mapred.SequenceFileInputFormat", "org.apache.hadoop.hive.ql.io.HiveSequenceFileOutputFormat"
	case "AVRO":
		return "org.apache.hadoop.hive.serde2.avro.AvroSerDe", "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat", "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat"
	case "JSONFILE":
		return "org.apache.hadoop.hive.serde2.JsonSerDe", "org.apache.hadoop.mapred.TextInputFormat", "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
	}
	return "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe", "org.apache.hadoop.mapred.TextInputFormat", "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
}

// escapeJava is HiveStringUtils.escapeJava, which DESCRIBE FORMATTED applies to parameter
// values (so JSON quotes show as \" and a tab delimiter as \t).
func escapeJava(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 || r > 0x7e {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

type rows [][]any

func (r *rows) add(cells ...any) { *r = append(*r, cells) }

// kv adds a "Name:  value" line: two padded fields and a NULL third column.
func (r *rows) kv(name, value string) { r.add(pad(name), pad(value), nil) }

func (r *rows) section(title string) { r.add(title, nil, nil) }

func (r *rows) blank() { r.add("", nil, nil) }

func (r *rows) columns(cols []column) {
	r.add("# "+pad("col_name"), pad("data_type"), pad("comment"))
	for _, c := range cols {
		r.add(pad(c.Name), pad(c.Type), pad(c.Comment))
	}
}

func (r *rows) params(params map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(params)) {
		r.add("", pad(k), pad(escapeJava(params[k])))
	}
}

func javaDate(unix int64) string {
	return time.Unix(unix, 0).Format("Mon Jan 02 15:04:05 MST 2006")
}

func (r *rows) storage(t *table) {
	serde, in, out := formatClasses(t.Format)
	r.section("# Storage Information")
	r.kv("SerDe Library:", serde)
	r.kv("InputFormat:", in)
	r.kv("OutputFormat:", out)
	r.kv("Compressed:", "No")
	nb := -1
	if len(t.BucketCols) > 0 {
		nb = t.NumBuckets
	}
	r.kv("Num Buckets:", strconv.Itoa(nb))
	r.kv("Bucket Columns:", "["+strings.Join(t.BucketCols, ", ")+"]")
	r.kv("Sort Columns:", "[]")
	if sp := serdeParams(t); len(sp) > 0 {
		r.section("Storage Desc Params:")
		r.params(sp)
	}
}

// serdeParams are the storage descriptor's SerDe parameters. Hive records
// serialization.format=1 for tables created with the default row format and the declared
// delimiter otherwise; transactional ORC tables carry none.
func serdeParams(t *table) map[string]string {
	if t.fullACID() {
		return nil
	}
	if t.Delim != "" {
		return map[string]string{"field.delim": t.Delim, "serialization.format": t.Delim}
	}
	return map[string]string{"serialization.format": "1"}
}

type describeStmt struct {
	ref                 tableRef
	spec                []specItem
	formatted, extended bool
	column              string
	columnTok           token
}

func (st *describeStmt) run(x *exec) (*Result, error) {
	return x.withTable(st.ref, st.describe)
}

func (st *describeStmt) describe(t *table) (*Result, error) {
	var part *partition
	if st.spec != nil {
		p, err := t.partitionOf(st.spec)
		if err != nil {
			return nil, err
		}
		part = p
	}
	var r rows
	if st.column != "" {
		for _, c := range append(slices.Clone(t.Columns), t.PartCols...) {
			if c.Name == st.column {
				r.add(pad(c.Name), pad(c.Type), pad("from deserializer"))
				return &Result{Columns: descColumns, Rows: r}, nil
			}
		}
		return nil, semanticError("42000", 10002, "Invalid column reference "+st.column)
	}
	if !st.formatted {
		for _, c := range t.Columns {
			r.add(pad(c.Name), pad(c.Type), pad(c.Comment))
		}
		for _, c := range t.PartCols {
			r.add(pad(c.Name), pad(c.Type), pad(c.Comment))
		}
		if t.partitioned() {
			r.blank()
			r.section("# Partition Information")
			r.columns(t.PartCols)
		}
		if st.extended {
			r.blank()
			r.add("Detailed Table Information", fmt.Sprintf("Table(tableName:%s, dbName:%s, owner:%s, createTime:%d, location:%s, tableType:%s)", t.Name, t.DB, t.Owner, t.CreateTime, locationURI(t.Location), tableType(t)), "")
		}
		return &Result{Columns: descColumns, Rows: r}, nil
	}
	r.columns(t.Columns)
	r.blank()
	if t.partitioned() {
		r.section("# Partition Information")
		r.columns(t.PartCols)
		r.blank()
	}
	if part != nil {
		r.section("# Detailed Partition Information")
		r.kv("Partition Value:", "["+strings.Join(part.Values, ", ")+"]")
		r.kv("Database:", t.DB)
		r.kv("Table:", t.Name)
		r.kv("CreateTime:", javaDate(part.CreateTime))
		r.kv("LastAccessTime:", "UNKNOWN")
		r.kv("Location:", locationURI(part.Location))
		r.section("Partition Parameters:")
		r.params(part.Params)
	} else {
		r.section("# Detailed Table Information")
		r.kv("Database:", t.DB)
		r.kv("OwnerType:", "USER")
		r.kv("Owner:", t.Owner)
		r.kv("CreateTime:", javaDate(t.CreateTime))
		r.kv("LastAccessTime:", "UNKNOWN")
		r.kv("Retention:", "0")
		r.kv("Location:", locationURI(t.Location))
		r.kv("Table Type:", tableType(t))
		r.section("Table Parameters:")
		r.params(describedParams(t))
	}
	r.blank()
	r.storage(t)
	return &Result{Columns: descColumns, Rows: r}, nil
}

func tableType(t *table) string {
	if t.External {
		return "EXTERNAL_TABLE"
	}
	return "MANAGED_TABLE"
}

// describedParams are the table parameters DESCRIBE FORMATTED prints: for a partitioned table
// Hive adds the partitions' statistics summed up and numPartitions.
func describedParams(t *table) map[string]string {
	params := maps.Clone(t.Params)
	if !t.partitioned() {
		return params
	}
	sums := map[string]int64{}
	for _, p := range t.Partitions {
		for _, k := range []string{"numFiles", "numRows", "rawDataSize", "totalSize"} {
			if v, err := strconv.ParseInt(p.Params[k], 10, 64); err == nil {
				sums[k] += v
			}
		}
	}
	for _, k := range []string{"numFiles", "numRows", "rawDataSize", "totalSize"} {
		params[k] = strconv.FormatInt(sums[k], 10)
	}
	params["numPartitions"] = strconv.Itoa(len(t.Partitions))
	return params
}

type describeDatabaseStmt struct{ db string }

func (st *describeDatabaseStmt) run(x *exec) (*Result, error) {
	x.w.mu.Lock()
	d, ok := x.w.cat.Databases[st.db]
	var row []any
	if ok {
		row = []any{d.Name, d.Comment, locationURI(d.Location), "", d.Owner, "USER", ""}
	}
	x.w.mu.Unlock()
	if !ok {
		return nil, databaseNotFound(st.db)
	}
	cols := []Column{{"db_name", "STRING"}, {"comment", "STRING"}, {"location", "STRING"}, {"managedlocation", "STRING"}, {"owner_name", "STRING"}, {"owner_type", "STRING"}, {"parameters", "STRING"}}
	return &Result{Columns: cols, Rows: [][]any{row}}, nil
}

type showTablesStmt struct{ db, like string }

func (st *showTablesStmt) run(x *exec) (*Result, error) {
	db := st.db
	if db == "" {
		db = x.db
	}
	x.w.mu.Lock()
	d, ok := x.w.cat.Databases[db]
	var names []string
	if ok {
		names = slices.Sorted(maps.Keys(d.Tables))
	}
	x.w.mu.Unlock()
	if !ok {
		return nil, databaseNotFound(db)
	}
	res := &Result{Columns: []Column{{Name: "tab_name", Type: "STRING"}}}
	for _, n := range names {
		if st.like == "" || likeMatch(st.like, n) {
			res.Rows = append(res.Rows, []any{n})
		}
	}
	return res, nil
}

type showPartitionsStmt struct {
	ref  tableRef
	spec []specItem
}

func (st *showPartitionsStmt) run(x *exec) (*Result, error) {
	return x.withTable(st.ref, st.show)
}

func (st *showPartitionsStmt) show(t *table) (*Result, error) {
	var err error
	if !t.partitioned() {
		return nil, ddlError(fmt.Sprintf("Table %s is not a partitioned table", t.Name))
	}
	var vals map[string]string
	if st.spec != nil {
		if vals, err = resolveSpec(t, st.spec, false); err != nil {
			return nil, err
		}
	}
	res := &Result{Columns: []Column{{Name: "partition", Type: "STRING"}}}
	for _, n := range t.matchPartitions(vals) {
		res.Rows = append(res.Rows, []any{n})
	}
	return res, nil
}

type showTableExtendedStmt struct {
	db, like string
	likeTok  token
	spec     []specItem
}

// thriftType is the Thrift DDL type name SHOW TABLE EXTENDED prints in "columns:".
func thriftType(t string) string {
	switch baseType(t) {
	case "int":
		return "i32"
	case "bigint":
		return "i64"
	case "smallint":
		return "i16"
	case "tinyint":
		return "byte"
	case "boolean":
		return "bool"
	}
	return t
}

func structOf(name string, cols []column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = thriftType(c.Type) + " " + c.Name
	}
	return "struct " + name + " { " + strings.Join(parts, ", ") + "}"
}

func (st *showTableExtendedStmt) run(x *exec) (*Result, error) {
	db := st.db
	if db == "" {
		db = x.db
	}
	x.w.mu.Lock()
	d, ok := x.w.cat.Databases[db]
	var tables []*table
	if ok {
		for _, n := range slices.Sorted(maps.Keys(d.Tables)) {
			if likeMatch(st.like, n) {
				if t := d.Tables[n]; t.locErr != nil {
					x.w.mu.Unlock()
					return nil, refusedTable(t)
				}
				tables = append(tables, cloneTable(d.Tables[n]))
			}
		}
	}
	x.w.mu.Unlock()
	if !ok {
		return nil, databaseNotFound(db)
	}
	if len(tables) == 0 && !strings.ContainsAny(st.like, "*|") {
		return nil, tableNotFound(st.like)
	}
	res := &Result{Columns: []Column{{Name: "tab_name", Type: "STRING"}}}
	for _, t := range tables {
		loc := t.Location
		var locs []string
		switch {
		case st.spec != nil:
			p, err := t.partitionOf(st.spec)
			if err != nil {
				return nil, err
			}
			loc = p.Location
			locs = []string{loc}
		case t.partitioned():
			for _, n := range t.sortedPartitions() {
				locs = append(locs, t.Partitions[n].Location)
			}
		default:
			locs = []string{loc}
		}
		_, in, out := formatClasses(t.Format)
		partCols := ""
		if t.partitioned() {
			partCols = structOf("partition_columns", t.PartCols)
		}
		s := liveStats(locs)
		for _, line := range []string{
			"tableName:" + t.Name,
			"owner:" + t.Owner,
			"location:" + locationURI(loc),
			"inputformat:" + in,
			"outputformat:" + out,
			"columns:" + structOf("columns", t.Columns),
			"partitioned:" + strconv.FormatBool(t.partitioned()),
			"partitionColumns:" + partCols,
			"totalNumberFiles:" + strconv.Itoa(s.files),
			"totalFileSize:" + strconv.FormatInt(s.total, 10),
			"maxFileSize:" + strconv.FormatInt(s.maxSz, 10),
			"minFileSize:" + strconv.FormatInt(s.minSz, 10),
			"lastAccessTime:" + strconv.FormatInt(s.lastAccess, 10),
			"lastUpdateTime:" + strconv.FormatInt(s.lastMod, 10),
			"",
		} {
			res.Rows = append(res.Rows, []any{line})
		}
	}
	return res, nil
}

type showTblPropertiesStmt struct {
	ref tableRef
	key string
}

func (st *showTblPropertiesStmt) run(x *exec) (*Result, error) {
	return x.withTable(st.ref, st.show)
}

func (st *showTblPropertiesStmt) show(t *table) (*Result, error) {
	res := &Result{Columns: []Column{{Name: "prpt_name", Type: "STRING"}, {Name: "prpt_value", Type: "STRING"}}}
	if st.key != "" {
		if v, ok := t.Params[st.key]; ok {
			res.Rows = append(res.Rows, []any{v, nil})
		} else {
			res.Rows = append(res.Rows, []any{fmt.Sprintf("Table %s does not have property: %s", t.qualified(), st.key), nil})
		}
		return res, nil
	}
	for _, k := range slices.Sorted(maps.Keys(t.Params)) {
		res.Rows = append(res.Rows, []any{k, t.Params[k]})
	}
	return res, nil
}

// compactionColumns is Hive 4's ShowCompactionsDesc schema; Hive also writes the header
// names as the first data row.
var compactionColumns = []struct{ name, header string }{
	{"compactionid", "CompactionId"}, {"dbname", "Database"}, {"tabname", "Table"},
	{"partname", "Partition"}, {"type", "Type"}, {"state", "State"},
	{"workerhost", "Worker host"}, {"workerid", "Worker"}, {"enqueuetime", "Enqueue Time"},
	{"starttime", "Start Time"}, {"duration", "Duration(ms)"}, {"hadoopjobid", "HadoopJobId"},
	{"errormessage", "Error message"}, {"initiatorhost", "Initiator host"},
	{"initiatorid", "Initiator"}, {"poolname", "Pool name"}, {"txnid", "TxnId"},
	{"nexttxnid", "Next TxnId"}, {"committime", "Commit Time"}, {"hightestwriteid", "Highest WriteId"},
}

const noValue = " --- "

type showCompactionsStmt struct {
	db   string
	ref  *tableRef
	spec []specItem
}

func (st *showCompactionsStmt) run(x *exec) (*Result, error) {
	var tbl *table
	if st.ref != nil {
		t, err := x.table(*st.ref, false)
		if err != nil {
			return nil, err
		}
		tbl = t
	}
	part := ""
	if st.spec != nil && tbl != nil {
		vals, err := resolveSpec(tbl, st.spec, true)
		if err != nil {
			return nil, err
		}
		part = partName(tbl.PartCols, tbl.fullValues(vals))
	}
	res := &Result{}
	header := make([]any, len(compactionColumns))
	for i, c := range compactionColumns {
		res.Columns = append(res.Columns, Column{Name: c.name, Type: "STRING"})
		header[i] = c.header
	}
	res.Rows = append(res.Rows, header)
	x.w.mu.Lock()
	defer x.w.mu.Unlock()
	host := hostName()
	for _, c := range x.w.cat.Compactions {
		if st.db != "" && c.DB != st.db || tbl != nil && (c.DB != tbl.DB || c.Table != tbl.Name) || part != "" && c.Partition != part {
			continue
		}
		orNone := func(s string) string {
			if s == "" {
				return noValue
			}
			return s
		}
		msOrNone := func(ms int64) string {
			if ms == 0 {
				return noValue
			}
			return strconv.FormatInt(ms, 10)
		}
		duration := noValue
		if c.StartTime != 0 && c.EndTime != 0 {
			duration = strconv.FormatInt(c.EndTime-c.StartTime, 10)
		}
		res.Rows = append(res.Rows, []any{
			strconv.FormatInt(c.ID, 10), c.DB, c.Table, orNone(c.Partition), c.Type, c.State,
			orNone(c.WorkerHost), orNone(c.WorkerID), strconv.FormatInt(c.EnqueueTime, 10),
			msOrNone(c.StartTime), duration, noValue, orNone(c.Error), host, "manual",
			"default", strconv.FormatInt(c.TxnID, 10), "0", strconv.FormatInt(c.CommitTime, 10),
			msOrNone(c.HighestWID),
		})
	}
	return res, nil
}

type showCreateTableStmt struct{ ref tableRef }

func (st *showCreateTableStmt) run(x *exec) (*Result, error) {
	t, err := x.table(st.ref, false)
	if err != nil {
		return nil, err
	}
	var lines []string
	kind := "TABLE"
	if t.External {
		kind = "EXTERNAL TABLE"
	}
	lines = append(lines, fmt.Sprintf("CREATE %s `%s`.`%s`(", kind, t.DB, t.Name))
	colLines := func(cols []column) {
		for i, c := range cols {
			sep := ","
			if i == len(cols)-1 {
				sep = ")"
			}
			lines = append(lines, fmt.Sprintf("  `%s` %s%s", c.Name, c.Type, sep))
		}
	}
	colLines(t.Columns)
	if t.partitioned() {
		lines = append(lines, "PARTITIONED BY (")
		colLines(t.PartCols)
	}
	if len(t.BucketCols) > 0 {
		lines = append(lines, "CLUSTERED BY (", "  "+strings.Join(t.BucketCols, ", ")+")", fmt.Sprintf("INTO %d BUCKETS", t.NumBuckets))
	}
	serde, in, out := formatClasses(t.Format)
	lines = append(lines, "ROW FORMAT SERDE", "  '"+serde+"'")
	if sp := serdeParams(t); t.Delim != "" {
		lines = append(lines, "WITH SERDEPROPERTIES (", fmt.Sprintf("  'field.delim'='%s',", escapeJava(sp["field.delim"])), fmt.Sprintf("  'serialization.format'='%s')", escapeJava(sp["serialization.format"])))
	}
	lines = append(lines, "STORED AS INPUTFORMAT", "  '"+in+"'", "OUTPUTFORMAT", "  '"+out+"'", "LOCATION", "  '"+locationURI(t.Location)+"'", "TBLPROPERTIES (")
	keys := slices.Sorted(maps.Keys(t.Params))
	for i, k := range keys {
		sep := ","
		if i == len(keys)-1 {
			sep = ")"
		}
		lines = append(lines, fmt.Sprintf("  '%s'='%s'%s", k, t.Params[k], sep))
	}
	res := &Result{Columns: []Column{{Name: "createtab_stmt", Type: "STRING"}}}
	for _, l := range lines {
		res.Rows = append(res.Rows, []any{l})
	}
	return res, nil
}
