package hive

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Compaction states as SHOW COMPACTIONS prints them.
const (
	CompactionInitiated        = "initiated"
	CompactionWorking          = "working"
	CompactionReadyForCleaning = "ready for cleaning"
	CompactionSucceeded        = "succeeded"
	CompactionFailed           = "failed"
	CompactionAttempted        = "attempted"
	CompactionDidNotInitiate   = "did not initiate"
	CompactionRefused          = "refused"
)

// Compaction is one row of SHOW COMPACTIONS.
type Compaction struct {
	// ID is 0 when the output has no CompactionId column (Hive 2) or the value is masked.
	ID        int64  `json:"id"`
	Database  string `json:"database"`
	Table     string `json:"table"`
	Partition string `json:"partition,omitempty"`
	Type      string `json:"type"`  // MAJOR or MINOR
	State     string `json:"state"` // lower case: initiated, working, ready for cleaning, ...
	// Worker is the worker host or id; StartTime the start in Unix milliseconds (0 if
	// missing); Duration the run time Hive reported.
	Worker      string        `json:"worker,omitempty"`
	StartTime   int64         `json:"start_time,omitempty"`
	Duration    time.Duration `json:"duration,omitempty"`
	HadoopJobID string        `json:"hadoop_job_id,omitempty"`
	Error       string        `json:"error,omitempty"`
	// Fields holds every column by its normalised header name (lower case, letters and digits
	// only: "compactionid", "workerhost", ...); missing (" --- ") and masked values are left out.
	Fields map[string]string `json:"fields"`
}

// Done reports whether the compaction reached a final state.
func (c Compaction) Done() bool {
	switch c.State {
	case CompactionSucceeded, CompactionFailed, CompactionAttempted, CompactionDidNotInitiate, CompactionRefused:
		return true
	}
	return false
}

const compactionsWhat = "SHOW COMPACTIONS"

// Header names of the layouts without a header row, by number of columns.
var compactionLayouts = map[int][]string{
	// Hive 2: no compaction id.
	9: {"database", "table", "partition", "type", "state", "worker", "starttime", "durationms", "hadoopjobid"},
	// Hive 3.1.
	12: {"compactionid", "database", "table", "partition", "type", "state", "hostname", "worker", "enqueuetime", "starttime", "durationms", "hadoopjobid"},
	// Hive 4.
	20: {"compactionid", "database", "table", "partition", "type", "state", "workerhost", "worker", "enqueuetime", "starttime", "durationms", "hadoopjobid", "errormessage", "initiatorhost", "initiator", "poolname", "txnid", "nexttxnid", "committime", "highestwriteid"},
}

// Aliases from result-set column names (Hive 4 ShowCompactionsDesc) to header names.
var compactionAliases = map[string]string{
	"dbname": "database", "tabname": "table", "partname": "partition", "workerid": "worker",
	"duration": "durationms", "hightestwriteid": "highestwriteid", "initiatorid": "initiator",
}

func normHeader(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	n := b.String()
	if a, ok := compactionAliases[n]; ok {
		return a
	}
	return n
}

// isCompactionHeader reports whether a row is the header that Hive writes into the result.
func isCompactionHeader(row []string) bool {
	first := normHeader(cell(row, 0))
	return (first == "compactionid" || first == "database") && len(row) > 4 && normHeader(cell(row, 4)) == "type" ||
		first == "database" && len(row) > 3 && normHeader(cell(row, 3)) == "type"
}

const maskedField = "#Masked#"

// ParseCompactions parses the rows of SHOW COMPACTIONS. columns are the result-set column
// names if known (nil otherwise). The header row that Hive writes as data is used to name the
// columns and skipped; without one, columns or the column count (9: Hive 2, 12: Hive 3,
// 20: Hive 4) decide. Rows with fewer fields than the header are accepted only when a
// "#Masked#" field (Hive's test harness masking several fields at once) explains the gap.
func ParseCompactions(columns []string, rows [][]string) ([]Compaction, error) {
	var header []string
	if len(columns) > 1 {
		header = make([]string, len(columns))
		for i, c := range columns {
			header[i] = normHeader(c)
		}
	}
	out := []Compaction{}
	for i, row := range rows {
		line := i + 1
		if masked(row) || blank(row) {
			continue
		}
		if isCompactionHeader(row) {
			header = make([]string, len(row))
			for j, c := range row {
				header[j] = normHeader(c)
			}
			continue
		}
		h := header
		if h == nil {
			h = compactionLayouts[len(row)]
			if h == nil {
				return nil, parseErr(compactionsWhat, line, "%d fields and no header row to name them", len(row))
			}
		}
		fields, err := alignCompaction(h, row)
		if err != nil {
			return nil, parseErr(compactionsWhat, line, "%v", err)
		}
		c, err := compactionOf(fields)
		if err != nil {
			return nil, parseErr(compactionsWhat, line, "%v", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// alignCompaction maps a row's fields to header names. A short row must contain "#Masked#":
// fields before the last masked one align from the left, fields after it from the right.
func alignCompaction(header, row []string) (map[string]string, error) {
	n := len(row)
	// Trailing empty cells are padding, not fields.
	for n > len(header) && strings.TrimSpace(row[n-1]) == "" {
		n--
	}
	row = row[:n]
	fields := make(map[string]string, len(header))
	put := func(h, v string) {
		v = strings.TrimSpace(v)
		if v == "" || v == "---" || v == maskedField {
			return
		}
		fields[h] = v
	}
	switch {
	case len(row) == len(header):
		for j, v := range row {
			put(header[j], v)
		}
	case len(row) > len(header):
		return nil, fmt.Errorf("%d fields but the header has %d", len(row), len(header))
	default:
		k := -1
		for j, v := range row {
			if strings.TrimSpace(v) == maskedField {
				k = j
			}
		}
		if k < 0 {
			return nil, fmt.Errorf("%d fields but the header has %d, and no %s field explains the gap", len(row), len(header), maskedField)
		}
		for j := 0; j < k; j++ {
			put(header[j], row[j])
		}
		tail := len(row) - k - 1
		for j := 0; j < tail; j++ {
			put(header[len(header)-tail+j], row[k+1+j])
		}
	}
	return fields, nil
}

func compactionOf(f map[string]string) (Compaction, error) {
	c := Compaction{
		Database:    f["database"],
		Table:       f["table"],
		Partition:   f["partition"],
		Type:        strings.ToUpper(f["type"]),
		State:       strings.ToLower(f["state"]),
		Worker:      f["worker"],
		HadoopJobID: f["hadoopjobid"],
		Error:       f["errormessage"],
		Fields:      f,
	}
	if c.Worker == "" {
		c.Worker = firstNonEmpty(f["workerhost"], f["hostname"])
	}
	if c.Database == "" || c.Table == "" || c.State == "" {
		return c, fmt.Errorf("missing database, table or state")
	}
	var err error
	if v := f["compactionid"]; v != "" {
		if c.ID, err = strconv.ParseInt(v, 10, 64); err != nil {
			return c, fmt.Errorf("compaction id %q is not a number", v)
		}
	}
	if v := f["starttime"]; v != "" {
		if c.StartTime, err = strconv.ParseInt(v, 10, 64); err != nil {
			return c, fmt.Errorf("start time %q is not a number", v)
		}
	}
	if v := f["durationms"]; v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return c, fmt.Errorf("duration %q is not a number", v)
		}
		c.Duration = time.Duration(ms) * time.Millisecond
	}
	return c, nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
