package hive

import (
	"strconv"
	"strings"
)

// TableStatus is one table's block of SHOW TABLE EXTENDED output. Its file counts and sizes
// come from a live listing of the table's (or partition's) directory when the statement ran,
// unlike the metastore Stats of DESCRIBE FORMATTED.
type TableStatus struct {
	TableName    string `json:"table_name"`
	Owner        string `json:"owner,omitempty"`
	Location     string `json:"location,omitempty"`
	InputFormat  string `json:"input_format"`
	OutputFormat string `json:"output_format"`
	// Columns is Hive's Thrift-style rendering: "struct columns { i32 key, string value}".
	Columns     string `json:"columns"`
	Partitioned bool   `json:"partitioned"`
	// PartitionColumns names the partition keys listed in "partitionColumns:".
	PartitionColumns []string `json:"partition_columns"`
	// The file statistics are nil when Hive printed "unknown" (the filesystem could not be
	// listed) or omitted them: not available, which is different from zero.
	TotalNumberFiles *int64 `json:"total_number_files"`
	TotalFileSize    *int64 `json:"total_file_size"`
	MaxFileSize      *int64 `json:"max_file_size"`
	MinFileSize      *int64 `json:"min_file_size"`
	// Fields holds every key:value line verbatim.
	Fields map[string]string `json:"fields"`
}

// FilesKnown reports whether Hive could list the files.
func (s *TableStatus) FilesKnown() bool {
	return s.TotalNumberFiles != nil && s.TotalFileSize != nil
}

const tableExtendedWhat = "SHOW TABLE EXTENDED"

// ParseTableStatus parses the rows of SHOW TABLE EXTENDED: key:value lines, one block per
// matching table, each starting with "tableName:". No rows is no block: Hive lists no table
// when none matches the LIKE pattern (and throws only when a PARTITION is given).
func ParseTableStatus(rows [][]string) ([]TableStatus, error) {
	out := []TableStatus{}
	var cur *TableStatus
	for i, row := range rows {
		line := i + 1
		if masked(row) || blank(row) {
			continue
		}
		// The single result column may have been split at tabs by the caller's rendering.
		text := strings.TrimSpace(strings.Join(row, "\t"))
		key, val, ok := strings.Cut(text, ":")
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			return nil, parseErr(tableExtendedWhat, line, "expected key:value, got %q", text)
		}
		if key == "tableName" {
			out = append(out, TableStatus{TableName: val, Fields: map[string]string{}, PartitionColumns: []string{}})
			cur = &out[len(out)-1]
			continue
		}
		if cur == nil {
			return nil, parseErr(tableExtendedWhat, line, "%q before the first tableName line", key)
		}
		cur.Fields[key] = val
		var err error
		switch key {
		case "owner":
			cur.Owner = val
		case "location":
			cur.Location = val
		case "inputformat":
			cur.InputFormat = val
		case "outputformat":
			cur.OutputFormat = val
		case "columns":
			cur.Columns = val
		case "partitioned":
			cur.Partitioned, err = strconv.ParseBool(val)
		case "partitionColumns":
			cur.PartitionColumns = structFieldNames(val)
		case "totalNumberFiles":
			cur.TotalNumberFiles, err = fileStat(val)
		case "totalFileSize":
			cur.TotalFileSize, err = fileStat(val)
		case "maxFileSize":
			cur.MaxFileSize, err = fileStat(val)
		case "minFileSize":
			cur.MinFileSize, err = fileStat(val)
		}
		if err != nil {
			return nil, parseErr(tableExtendedWhat, line, "%s: %q is not a number", key, val)
		}
	}
	return out, nil
}

func fileStat(v string) (*int64, error) {
	if v == "" || strings.EqualFold(v, "unknown") {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// structFieldNames returns the field names of "struct name { type a, type b}".
func structFieldNames(s string) []string {
	names := []string{}
	open, end := strings.IndexByte(s, '{'), strings.LastIndexByte(s, '}')
	if open < 0 || end < open {
		return names
	}
	for _, f := range splitTopLevel(s[open+1:end], ',') {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if i := strings.LastIndexByte(f, ' '); i >= 0 {
			f = f[i+1:]
		}
		names = append(names, f)
	}
	return names
}
