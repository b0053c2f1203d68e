package hive

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// Table types as DESCRIBE FORMATTED prints them.
const (
	ManagedTable     = "MANAGED_TABLE"
	ExternalTable    = "EXTERNAL_TABLE"
	VirtualView      = "VIRTUAL_VIEW"
	MaterializedView = "MATERIALIZED_VIEW"
)

// Format is a table's storage format, recognised from its input format, SerDe, storage handler
// and parameters.
type Format string

const (
	FormatText         Format = "TEXTFILE"
	FormatORC          Format = "ORC"
	FormatParquet      Format = "PARQUET"
	FormatRCFile       Format = "RCFILE"
	FormatAvro         Format = "AVRO"
	FormatSequenceFile Format = "SEQUENCEFILE"
	// Table formats that keep their own metadata; hivemerge must not rewrite their files.
	FormatIceberg Format = "ICEBERG"
	FormatHudi    Format = "HUDI"
	FormatDelta   Format = "DELTA"
	// FormatOther is anything else, including tables of other storage handlers (HBase,
	// Kafka, JDBC, Druid).
	FormatOther Format = "OTHER"
)

// Column is a column as DESCRIBE reports it.
type Column struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Comment string `json:"comment,omitempty"`
}

// SortColumn is one entry of "Sort Columns: [Order(col:a, order:1)]".
type SortColumn struct {
	Name      string `json:"name"`
	Ascending bool   `json:"ascending"`
}

// Storage is the "# Storage Information" section of DESCRIBE FORMATTED.
type Storage struct {
	SerDe        string `json:"serde"`
	InputFormat  string `json:"input_format"`
	OutputFormat string `json:"output_format"`
	Compressed   bool   `json:"compressed"`
	// NumBuckets is -1 (or 0) for tables that are not bucketed.
	NumBuckets    int          `json:"num_buckets"`
	BucketColumns []string     `json:"bucket_columns"`
	SortColumns   []SortColumn `json:"sort_columns"`
	// SerDeParams are the "Storage Desc Params": field.delim, serialization.format, ...
	SerDeParams map[string]string `json:"serde_params"`
}

// Stats are the metastore statistics kept in table or partition parameters. They may be stale
// (they are only as fresh as the last ANALYZE or stats-gathering write); nil means Hive has none.
type Stats struct {
	NumFiles      *int64 `json:"num_files"`
	TotalSize     *int64 `json:"total_size"`
	NumRows       *int64 `json:"num_rows"`
	RawDataSize   *int64 `json:"raw_data_size"`
	NumPartitions *int64 `json:"num_partitions,omitempty"`
}

func statsOf(params map[string]string) Stats {
	return Stats{
		NumFiles:      statInt(params, "numFiles"),
		TotalSize:     statInt(params, "totalSize"),
		NumRows:       statInt(params, "numRows"),
		RawDataSize:   statInt(params, "rawDataSize"),
		NumPartitions: statInt(params, "numPartitions"),
	}
}

// Table is what DESCRIBE FORMATTED says about a table.
type Table struct {
	Database       string   `json:"database"`
	Owner          string   `json:"owner,omitempty"`
	CreateTime     string   `json:"create_time,omitempty"`
	Location       string   `json:"location,omitempty"`
	TableType      string   `json:"table_type"`
	Columns        []Column `json:"columns"`
	PartitionKeys  []Column `json:"partition_keys"`
	Storage        Storage  `json:"storage"`
	Format         Format   `json:"format"`
	StorageHandler string   `json:"storage_handler,omitempty"`
	// Compression is the codec named by the format's table property (orc.compress,
	// parquet.compression, avro.output.codec), if any.
	Compression   string            `json:"compression,omitempty"`
	Transactional bool              `json:"transactional"`
	InsertOnly    bool              `json:"insert_only"`
	Stats         Stats             `json:"stats"`
	Parameters    map[string]string `json:"parameters"`
	// ViewText is the original text of a view.
	ViewText string `json:"view_text,omitempty"`
	// Details holds every "Key: value" row of the detailed and storage sections, verbatim.
	Details map[string]string `json:"details"`
}

// Partitioned reports whether the table has partition keys.
func (t *Table) Partitioned() bool { return len(t.PartitionKeys) > 0 }

// Bucketed reports whether the table is bucketed (CLUSTERED BY).
func (t *Table) Bucketed() bool { return t.Storage.NumBuckets > 0 }

// Native reports whether Hive manages the table's files itself: not an Iceberg, Hudi or Delta
// table and not a table of a storage handler.
func (t *Table) Native() bool {
	switch t.Format {
	case FormatIceberg, FormatHudi, FormatDelta:
		return false
	}
	return t.StorageHandler == ""
}

// PartitionDetail is what DESCRIBE FORMATTED t PARTITION (...) says about one partition.
type PartitionDetail struct {
	Database string `json:"database"`
	Table    string `json:"table"`
	// Values are the partition's values in key order, from "Partition Value: [a, b]"; nil when
	// a value contains ", " and the list cannot be split unambiguously.
	Values        []string          `json:"values"`
	CreateTime    string            `json:"create_time,omitempty"`
	Location      string            `json:"location,omitempty"`
	Columns       []Column          `json:"columns"`
	PartitionKeys []Column          `json:"partition_keys"`
	Storage       Storage           `json:"storage"`
	Stats         Stats             `json:"stats"`
	Parameters    map[string]string `json:"parameters"`
	Details       map[string]string `json:"details"`
}

// described is the raw content of DESCRIBE FORMATTED output.
type described struct {
	columns, partKeys []Column
	details           map[string]string
	params            map[string]string
	storage           Storage
	viewText          string
	partition         bool // "# Detailed Partition Information"
}

type section int

const (
	secColumns section = iota
	secPartKeys
	secDetail
	secStorage
	secView
	secOther
)

const describeWhat = "DESCRIBE FORMATTED"

var sortRE = regexp.MustCompile(`^Order\(col:(.*), order:(\d+)\)$`)

// parseDescribe reads the three-column (col_name, data_type, comment) layout of DESCRIBE
// FORMATTED, from Hive 0.7 (headers without '#') to Hive 4.
func parseDescribe(rows [][]string) (*described, error) {
	d := &described{
		details: map[string]string{},
		params:  map[string]string{},
		storage: Storage{NumBuckets: -1, SerDeParams: map[string]string{}, BucketColumns: []string{}, SortColumns: []SortColumn{}},
	}
	sec := secColumns
	var params map[string]string // the parameter list being read, if any
	// value is the parameter value that continuation rows extend. Its lines are joined when it
	// ends: appending to the string on every row would copy it each time.
	var value struct {
		in    map[string]string
		key   string
		lines []string
	}
	endValue := func() {
		if len(value.lines) > 1 {
			value.in[value.key] = strings.Join(value.lines, "\n")
		}
		value.lines = nil
	}
	paramMasked := false // the last parameter row was masked, and so are its continuation rows
	lastView := ""
	seenAny := false
	for i := 0; i < len(rows); i++ {
		row := rows[i]
		line := i + 1
		if !blank(row) && !continues(row) {
			endValue()
		}
		if masked(row) {
			paramMasked = true
			continue
		}
		if blank(row) {
			if params != nil && (value.lines != nil || paramMasked) {
				if n := emptyLines(rows[i:]); n > 0 {
					if value.lines != nil {
						value.lines = append(value.lines, make([]string, n)...)
					}
					i += n - 1
					continue
				}
			}
			params = nil
			continue
		}
		c0, c1, c2 := cell(row, 0), cell(row, 1), cell(row, 2)
		seenAny = true
		if c1 == "data_type" && (c0 == "# col_name" || c0 == "col_name") {
			continue // column header
		}
		if strings.HasPrefix(c0, "#") {
			params = nil
			switch strings.ToLower(strings.TrimSpace(strings.TrimLeft(c0, "#"))) {
			case "partition information":
				sec = secPartKeys
			case "detailed table information":
				sec = secDetail
			case "detailed partition information":
				sec, d.partition = secDetail, true
			case "storage information":
				sec = secStorage
			case "view information":
				sec = secView
			default:
				sec = secOther // constraints, partition transforms, ...
			}
			continue
		}
		if params != nil {
			if c0 == "" && c1 != "" {
				params[c1] = unescapeJava(c2)
				value.in, value.key, value.lines = params, c1, []string{params[c1]}
				paramMasked = false
				continue
			}
			if continues(row) {
				if value.lines != nil {
					value.lines = append(value.lines, unescapeJava(valueLine(row)))
				} else if !paramMasked {
					return nil, parseErr(describeWhat, line, "continuation row without a parameter: %q", strings.Join(row, "\t"))
				}
				continue
			}
			params = nil
		}
		switch sec {
		case secColumns, secPartKeys:
			cols := &d.columns
			if sec == secPartKeys {
				cols = &d.partKeys
			}
			if c0 == "" {
				// Padded output continues a multi-line comment on rows of its own.
				if c1 == "" && len(*cols) > 0 {
					last := &(*cols)[len(*cols)-1]
					last.Comment += "\n" + c2
					continue
				}
				return nil, parseErr(describeWhat, line, "column row without a name: %q", strings.Join(row, "\t"))
			}
			*cols = append(*cols, Column{Name: c0, Type: c1, Comment: c2})
		case secView:
			if key, ok := strings.CutSuffix(c0, ":"); ok {
				d.details[key] = c1
				lastView = key
				if key == "View Original Text" {
					d.viewText = c1
				}
				continue
			}
			if lastView == "" {
				return nil, parseErr(describeWhat, line, "view information row without a key: %q", c0)
			}
			// A view text with line breaks continues on rows of its own.
			text := strings.TrimRight(strings.Join(row, "\t"), " \t")
			d.details[lastView] += "\n" + text
			if lastView == "View Original Text" {
				d.viewText += "\n" + text
			}
		case secDetail, secStorage:
			key, ok := strings.CutSuffix(c0, ":")
			if !ok {
				return nil, parseErr(describeWhat, line, "expected \"Key:\" in the first column, got %q", c0)
			}
			switch key {
			case "Table Parameters", "Partition Parameters":
				params, paramMasked = d.params, false
				continue
			case "Storage Desc Params":
				params, paramMasked = d.storage.SerDeParams, false
				continue
			}
			d.details[key] = c1
			if sec != secStorage {
				continue
			}
			if err := d.storage.set(key, c1); err != nil {
				return nil, parseErr(describeWhat, line, "%v", err)
			}
		case secOther:
		}
	}
	endValue()
	if !seenAny {
		return nil, parseErr(describeWhat, 0, "no rows")
	}
	if len(d.columns) == 0 && d.details["Table Type"] != VirtualView {
		return nil, parseErr(describeWhat, 0, "no columns (is this DESCRIBE FORMATTED output?)")
	}
	return d, nil
}

// Padded output (Hive's CLI and its test results; HiveServer2 escapes line breaks instead)
// prints each further line of a multi-line parameter value on a row of its own: ("", padding,
// line). Java's split drops trailing empty lines, but an empty line inside the value is printed
// as a row of padding alone, which looks like the blank row that ends a parameter list.

// continues reports whether row continues the previous parameter's value.
func continues(row []string) bool {
	return cell(row, 0) == "" && cell(row, 1) == "" && cell(row, 2) != ""
}

// valueLine is the line a continuation row carries: the padding is trailing spaces, and the
// line's own indentation (JSON in avro.schema.literal) is kept.
func valueLine(row []string) string { return strings.TrimRight(row[2], " ") }

// emptyLines counts the blank rows at the start of rows when a continuation row follows them:
// they are empty lines of the value. Otherwise they end the parameter list, and it returns 0.
func emptyLines(rows [][]string) int {
	n := 0
	for n < len(rows) && blank(rows[n]) {
		n++
	}
	if n < len(rows) && continues(rows[n]) {
		return n
	}
	return 0
}

func (s *Storage) set(key, v string) error {
	switch key {
	case "SerDe Library":
		s.SerDe = v
	case "InputFormat":
		s.InputFormat = v
	case "OutputFormat":
		s.OutputFormat = v
	case "Compressed":
		s.Compressed = strings.EqualFold(v, "Yes")
	case "Num Buckets":
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("Num Buckets " + strconv.Quote(v) + " is not a number")
		}
		s.NumBuckets = n
	case "Bucket Columns":
		cols, ok := splitList(v)
		if !ok {
			return errors.New("Bucket Columns " + strconv.Quote(v) + " is not a list")
		}
		s.BucketColumns = cols
	case "Sort Columns":
		items, ok := splitList(v)
		if !ok {
			return errors.New("Sort Columns " + strconv.Quote(v) + " is not a list")
		}
		s.SortColumns = make([]SortColumn, 0, len(items))
		for _, it := range items {
			m := sortRE.FindStringSubmatch(it)
			if m == nil {
				return errors.New("sort column " + strconv.Quote(it) + " is not Order(col:..., order:...)")
			}
			s.SortColumns = append(s.SortColumns, SortColumn{Name: m[1], Ascending: m[2] == "1"})
		}
	}
	return nil
}

// ParseTable parses the rows of DESCRIBE FORMATTED t.
func ParseTable(rows [][]string) (*Table, error) {
	d, err := parseDescribe(rows)
	if err != nil {
		return nil, err
	}
	if d.partition {
		return nil, parseErr(describeWhat, 0, "the output describes a partition, not a table")
	}
	t := &Table{
		Database:      d.details["Database"],
		Owner:         d.details["Owner"],
		CreateTime:    d.details["CreateTime"],
		Location:      d.details["Location"],
		TableType:     d.details["Table Type"],
		Columns:       nonNil(d.columns),
		PartitionKeys: nonNil(d.partKeys),
		Storage:       d.storage,
		Parameters:    d.params,
		ViewText:      d.viewText,
		Details:       d.details,
		Stats:         statsOf(d.params),
	}
	p := lowerKeys(d.params)
	t.StorageHandler = p["storage_handler"]
	t.Transactional = strings.EqualFold(p["transactional"], "true")
	t.InsertOnly = t.Transactional && strings.EqualFold(p["transactional_properties"], "insert_only")
	t.Format = detectFormat(t.Storage, p)
	for _, k := range []string{"orc.compress", "parquet.compression", "avro.output.codec", "write.parquet.compression-codec"} {
		if v := p[k]; v != "" {
			t.Compression = v
			break
		}
		if v := t.Storage.SerDeParams[k]; v != "" {
			t.Compression = v
			break
		}
	}
	return t, nil
}

// ParsePartitionDetail parses the rows of DESCRIBE FORMATTED t PARTITION (...).
func ParsePartitionDetail(rows [][]string) (*PartitionDetail, error) {
	d, err := parseDescribe(rows)
	if err != nil {
		return nil, err
	}
	if !d.partition {
		return nil, parseErr(describeWhat, 0, "the output describes a table, not a partition")
	}
	p := &PartitionDetail{
		Database:      d.details["Database"],
		Table:         d.details["Table"],
		CreateTime:    d.details["CreateTime"],
		Location:      d.details["Location"],
		Columns:       nonNil(d.columns),
		PartitionKeys: nonNil(d.partKeys),
		Storage:       d.storage,
		Stats:         statsOf(d.params),
		Parameters:    d.params,
		Details:       d.details,
	}
	if vals, ok := partitionValues(d.details["Partition Value"], len(p.PartitionKeys)); ok {
		p.Values = vals
	}
	return p, nil
}

// partitionValues splits "Partition Value: [v1, v2]", Java's List.toString of n values. The
// values are kept exactly (one may be nothing but spaces); when a value contains ", " itself the
// split at top-level commas is tried.
func partitionValues(s string, n int) ([]string, bool) {
	inner, ok := strings.CutPrefix(s, "[")
	if ok {
		inner, ok = strings.CutSuffix(inner, "]")
	}
	if !ok {
		return nil, false
	}
	if vals := strings.Split(inner, ", "); len(vals) == n {
		return vals, true
	}
	if vals, ok := splitList(s); ok && len(vals) == n {
		return vals, true
	}
	return nil, false
}

func detectFormat(s Storage, p map[string]string) Format {
	in := strings.ToLower(s.InputFormat)
	serde := strings.ToLower(s.SerDe)
	handler := strings.ToLower(p["storage_handler"])
	provider := strings.ToLower(p["spark.sql.sources.provider"])
	switch {
	case strings.EqualFold(p["table_type"], "ICEBERG"), strings.Contains(handler, "iceberg"), strings.Contains(in, "iceberg"):
		return FormatIceberg
	case strings.Contains(in, "hoodie"), strings.Contains(in, "hudi"), provider == "hudi":
		return FormatHudi
	case strings.Contains(handler, "delta"), strings.Contains(in, "delta"), provider == "delta":
		return FormatDelta
	case handler != "":
		return FormatOther
	case strings.Contains(in, "orcinputformat"), strings.Contains(serde, "orcserde"):
		return FormatORC
	case strings.Contains(in, "parquet"):
		return FormatParquet
	case strings.Contains(in, "rcfileinputformat"):
		return FormatRCFile
	case strings.Contains(in, "avro"):
		return FormatAvro
	case strings.Contains(in, "sequencefileinputformat"):
		return FormatSequenceFile
	case strings.Contains(in, "textinputformat"):
		return FormatText
	}
	return FormatOther
}

func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ColumnStats is the output of DESCRIBE FORMATTED t col: one "property value" row each.
type ColumnStats struct {
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Properties map[string]string `json:"properties"`
}

// ParseColumnStats parses the rows of DESCRIBE FORMATTED t col (Hive 3 layout, one property per
// row: col_name, data_type, min, max, num_nulls, distinct_count, ...).
func ParseColumnStats(rows [][]string) (*ColumnStats, error) {
	cs := &ColumnStats{Properties: map[string]string{}}
	for i, row := range rows {
		if masked(row) || blank(row) {
			continue
		}
		k := cell(row, 0)
		if k == "" {
			return nil, parseErr(describeWhat, i+1, "column statistics row without a property name")
		}
		v := unescapeJava(cell(row, 1))
		switch k {
		case "col_name":
			cs.Name = v
		case "data_type":
			cs.Type = v
		default:
			cs.Properties[k] = v
		}
	}
	if cs.Name == "" {
		return nil, parseErr(describeWhat, 0, "no col_name row")
	}
	return cs, nil
}
