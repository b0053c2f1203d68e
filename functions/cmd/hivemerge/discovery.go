package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The discovery endpoints (scans, table metrics) are read generically, by field paths such as
// "stats.files": the client prints what the server sends and does not break on a field it does
// not know.

const scanUsage = `Usage:
  hivemerge scan CLUSTER [--db DB [--table T]] [--no-wait] [--interval 2s]

Measures the files of a cluster's tables (or of one database or table) and waits for the scan
to finish, printing its progress and totals; exits 7 when the scan failed, was cancelled or
was interrupted. --no-wait prints the scan as started and returns.

Examples:
  hivemerge scan demo
  hivemerge scan demo --db sales --table orders
  hivemerge scan demo --no-wait --json | jq -r .scan_id
`

func (a *app) scan(args []string) error {
	fs := a.flags("scan")
	db := fs.String("db", "", "scan only this `database`")
	tbl := fs.String("table", "", "scan only this `table` of --db")
	noWait := fs.Bool("no-wait", false, "start the scan and return")
	interval := fs.Duration("interval", 2*time.Second, "how often to poll the scan")
	pos, err := a.args(fs, args, scanUsage, "CLUSTER")
	if err != nil {
		return err
	}
	if *interval <= 0 {
		return usageErrorf("scan: --interval must be positive")
	}
	if *tbl != "" && *db == "" {
		return usageErrorf("scan: --table needs --db")
	}
	body := map[string]any{}
	if *db != "" {
		body["database_name"] = *db
	}
	if *tbl != "" {
		body["table_name"] = *tbl
	}
	base := "/api/v1/clusters/" + seg(pos[0]) + "/scans"
	raw, err := a.do(http.MethodPost, base, nil, body, nil, "scan")
	if err != nil {
		return err
	}
	obj := object(raw)
	id := str(obj, "scan_id", "id")
	if *noWait || id == "" {
		if a.g.json {
			return a.raw(raw)
		}
		return a.printScan(obj)
	}
	last := ""
	for {
		if !a.g.json {
			line := "scan " + id + " " + str(obj, "status")
			if total, ok := num(obj, "progress.tables_total"); ok && total > 0 {
				done, _ := num(obj, "progress.tables_done")
				line += fmt.Sprintf(": %.0f of %.0f tables", done, total)
			}
			if line != last {
				fmt.Fprintln(a.stdout, line)
				last = line
			}
		}
		if scanEnded(obj) {
			break
		}
		if err := a.sleep(*interval); err != nil {
			return err
		}
		if raw, err = a.do(http.MethodGet, base+"/"+seg(id), nil, nil, nil, "scan"); err != nil {
			return err
		}
		obj = object(raw)
	}
	if a.g.json {
		if err := a.raw(raw); err != nil {
			return err
		}
	} else if err := a.printScan(obj); err != nil {
		return err
	}
	if s := str(obj, "status"); slices.Contains(failedStates, s) {
		msg := "scan " + id + " " + s
		if e := str(obj, "error"); e != "" {
			msg += ": " + e
		}
		return &failedError{msg}
	}
	return nil
}

// Scan statuses: pending and running are active, the others final.
var (
	failedStates = []string{"failed", "cancelled", "interrupted"}
	doneStates   = []string{"succeeded"}
)

func scanEnded(obj map[string]any) bool {
	s := str(obj, "status")
	return slices.Contains(failedStates, s) || slices.Contains(doneStates, s) || str(obj, "finished_at") != ""
}

// printScan prints a scan's state and totals.
func (a *app) printScan(obj map[string]any) error {
	scope := "the whole cluster"
	if db := str(obj, "scope.database_name"); db != "" {
		scope = "database " + db
		if t := str(obj, "scope.table_name"); t != "" {
			scope = "table " + db + "." + t
		}
	}
	return fields(a.stdout,
		"scan", str(obj, "scan_id", "id"),
		"cluster", str(obj, "cluster_id"),
		"scope", scope,
		"status", str(obj, "status"),
		"error", str(obj, "error"),
		"tables", numText(obj, count, "totals.tables"),
		"partitions", numText(obj, count, "totals.partitions"),
		"files", numText(obj, count, "totals.files"),
		"small files", numText(obj, count, "totals.small_files"),
		"bytes", numText(obj, humanBytes, "totals.bytes"),
		"a merge saves", ifTrue(str(obj, "totals.savings.namenode_objects") != "",
			numText(obj, count, "totals.savings.files")+" files, "+numText(obj, count, "totals.savings.namenode_objects")+" NameNode objects"),
		"tables failed", ifTrue(str(obj, "progress.tables_failed") != "0", numText(obj, count, "progress.tables_failed")),
		"started", timeText(obj, "started_at"),
		"finished", timeText(obj, "finished_at"),
	)
}

// timeText prints the RFC 3339 time at path as humanTime does; empty when absent.
func timeText(obj map[string]any, path string) string {
	t, err := time.Parse(time.RFC3339Nano, str(obj, path))
	if err != nil {
		return ""
	}
	return humanTime(t)
}

const tablesUsage = `Usage:
  hivemerge tables CLUSTER DB [--sort savings|score|files|name] [--needs-merge] [--limit N]

Lists the tables of a database as the last scan measured them, the worst first: the most
NameNode objects a merge would save (--sort savings, the default), the lowest health score
(score), the most files (files) or by name. Run "hivemerge scan" first for fresh figures.

Examples:
  hivemerge tables demo sales --limit 10
  hivemerge tables demo sales --needs-merge --sort score
`

func (a *app) tables(args []string) error {
	fs := a.flags("tables")
	sort := fs.String("sort", "savings", "order: savings, score, files or name")
	needsMerge := fs.Bool("needs-merge", false, "only tables a merge is recommended for")
	limit := fs.Int("limit", 0, "show at most `N` tables (0: all)")
	pos, err := a.args(fs, args, tablesUsage, "CLUSTER", "DB")
	if err != nil {
		return err
	}
	if *limit < 0 {
		return usageErrorf("tables: --limit may not be negative")
	}
	q := url.Values{"sort": {*sort}}
	if *needsMerge {
		q.Set("needs_merge", "true")
	}
	if *limit > 0 {
		q.Set("limit", strconv.Itoa(*limit))
	}
	path := "/api/v1/clusters/" + seg(pos[0]) + "/databases/" + seg(pos[1]) + "/tables"
	var (
		rows  []map[string]any
		pages [][]byte
	)
	// Every page, unless --limit asks for one.
	for {
		raw, err := a.do(http.MethodGet, path, q, nil, nil, "tables")
		if err != nil {
			return err
		}
		pages = append(pages, raw)
		rows = append(rows, list(raw, "tables")...)
		next := str(object(raw), "next_page_token")
		if next == "" || *limit > 0 {
			break
		}
		q.Set("page_token", next)
	}
	if a.g.json {
		if len(pages) == 1 {
			return a.raw(pages[0])
		}
		b, err := json.Marshal(map[string]any{"tables": rows, "total": len(rows)})
		if err != nil {
			return err
		}
		return a.raw(b)
	}
	if *sort == "savings" {
		sortWorstFirst(rows)
	}
	return a.printTables(rows, pos[0], pos[1])
}

// printTables prints table metrics in the order given.
func (a *app) printTables(rows []map[string]any, cluster, db string) error {
	if len(rows) == 0 {
		fmt.Fprintf(a.stdout, "no tables measured in %s.%s: scan them with hivemerge scan %s --db %s\n", cluster, db, cluster, db)
		return nil
	}
	t := newTable(a.stdout, "TABLE", "FORMAT", "PARTITIONS", "FILES", "SMALL", "BYTES", "SCORE", "NN OBJECTS SAVED", "MERGE", "REASON")
	for _, r := range rows {
		merge := "no"
		if b, _ := lookupPath(r, "recommendation.merge"); b == true {
			merge = str(r, "recommendation.strategy")
		}
		reason := str(r, "recommendation.reason")
		if e := str(r, "error"); e != "" {
			merge, reason = a.paint(red, "error"), e
		}
		t.row(str(r, "table_name"), str(r, "format"),
			numText(r, count, "partitions"),
			numText(r, count, "stats.files"),
			numText(r, count, "stats.small_files"),
			numText(r, humanBytes, "stats.bytes"),
			numText(r, func(n int64) string { return strconv.FormatInt(n, 10) }, "health.score"),
			numText(r, count, "savings.namenode_objects"),
			merge, reason)
	}
	return t.flush()
}

// sortWorstFirst orders table rows by the NameNode objects a merge saves, then small files
// (both descending), then health score (ascending), then name: the server's order for
// sort=savings, kept by a server that ignores the parameter.
func sortWorstFirst(rows []map[string]any) {
	key := func(r map[string]any, path string) float64 {
		v, _ := num(r, path)
		return v
	}
	slices.SortStableFunc(rows, func(x, y map[string]any) int {
		if c := cmp.Compare(key(y, "savings.namenode_objects"), key(x, "savings.namenode_objects")); c != 0 {
			return c
		}
		if c := cmp.Compare(key(y, "stats.small_files"), key(x, "stats.small_files")); c != 0 {
			return c
		}
		if c := cmp.Compare(key(x, "health.score"), key(y, "health.score")); c != 0 {
			return c
		}
		return cmp.Compare(str(x, "table_name"), str(y, "table_name"))
	})
}

// object decodes a JSON object; anything else is an empty one.
func object(raw []byte) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

// list finds the array of objects in a response: the response itself, or its first field
// among names that holds one.
func list(raw []byte, names ...string) []map[string]any {
	var arr []map[string]any
	if json.Unmarshal(raw, &arr) == nil {
		return arr
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	for _, n := range names {
		if json.Unmarshal(m[n], &arr) == nil && arr != nil {
			return arr
		}
	}
	return nil
}

// lookup finds the first of paths ("stats.files") that m holds.
func lookup(m map[string]any, paths ...string) (any, bool) {
	for _, p := range paths {
		if v, ok := lookupPath(m, p); ok && v != nil {
			return v, true
		}
	}
	return nil, false
}

func lookupPath(m map[string]any, path string) (any, bool) {
	var v any = m
	for key := range strings.SplitSeq(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[key]; !ok {
			return nil, false
		}
	}
	return v, true
}

func str(m map[string]any, names ...string) string {
	v, ok := lookup(m, names...)
	if !ok {
		return ""
	}
	switch v := v.(type) {
	case string:
		return v
	case float64, bool:
		return fmt.Sprint(v)
	}
	return ""
}

func num(m map[string]any, names ...string) (float64, bool) {
	v, ok := lookup(m, names...)
	f, isNum := v.(float64)
	return f, ok && isNum
}

func numText(m map[string]any, format func(int64) string, names ...string) string {
	f, ok := num(m, names...)
	if !ok {
		return "-"
	}
	if f != math.Trunc(f) {
		return strconv.FormatFloat(f, 'f', 2, 64)
	}
	return format(int64(f))
}

// scalars prints a JSON object's scalar fields as key: value lines, in key order; sizes and
// durations named so are made human.
func scalars(w io.Writer, raw []byte) error {
	m := object(raw)
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		var s string
		switch v := m[k].(type) {
		case string:
			s = v
		case bool:
			s = yesNo(v)
		case float64:
			switch {
			case strings.Contains(k, "bytes") && v == math.Trunc(v):
				s = humanBytes(int64(v))
			case strings.HasSuffix(k, "_ms") && v == math.Trunc(v):
				s = humanMS(int64(v))
			case v == math.Trunc(v):
				s = count(int64(v))
			default:
				s = strconv.FormatFloat(v, 'f', -1, 64)
			}
		default:
			continue
		}
		kv = append(kv, strings.ReplaceAll(strings.TrimSuffix(k, "_ms"), "_", " "), s)
	}
	return fields(w, kv...)
}
