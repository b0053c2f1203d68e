package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The discovery endpoints (scans, table metrics) are read generically: fields are looked up
// by name, so that the client prints what the server sends without breaking on a shape it
// does not know.

const scanUsage = `Usage:
  hivemerge scan CLUSTER [--db DB]... [--no-wait] [--interval 2s]

Starts a scan of a cluster's tables (or of the databases named) and waits for it to finish,
printing its progress; exits 7 when the scan fails. --no-wait prints the scan and returns.

Examples:
  hivemerge scan demo
  hivemerge scan demo --db sales --db logs
`

func (a *app) scan(args []string) error {
	fs := a.flags("scan")
	var dbs stringList
	fs.Var(&dbs, "db", "scan only this `database`; repeat for several")
	noWait := fs.Bool("no-wait", false, "start the scan and return")
	interval := fs.Duration("interval", 2*time.Second, "how often to poll the scan")
	pos, err := a.args(fs, args, scanUsage, "CLUSTER")
	if err != nil {
		return err
	}
	if *interval <= 0 {
		return usageErrorf("scan: --interval must be positive")
	}
	body := map[string]any{}
	if len(dbs) > 0 {
		body["databases"] = []string(dbs)
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
		if id != "" {
			fmt.Fprintf(a.stdout, "scan %s started\n", id)
		}
		return scalars(a.stdout, raw)
	}
	last := ""
	for {
		if s := str(obj, "status", "state"); !a.g.json {
			line := "scan " + id + " " + s
			if p, ok := num(obj, "progress"); ok {
				line += fmt.Sprintf(" %.0f%%", p)
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
	} else if err := scalars(a.stdout, raw); err != nil {
		return err
	}
	if s := strings.ToLower(str(obj, "status", "state")); slices.Contains(failedStates, s) {
		msg := "scan " + id + " " + s
		if e := str(obj, "error", "message"); e != "" {
			msg += ": " + e
		}
		return &failedError{msg}
	}
	return nil
}

var (
	failedStates = []string{"failed", "error", "cancelled", "canceled"}
	doneStates   = []string{"success", "succeeded", "done", "completed", "complete", "finished", "ok"}
)

func scanEnded(obj map[string]any) bool {
	s := strings.ToLower(str(obj, "status", "state"))
	return slices.Contains(failedStates, s) || slices.Contains(doneStates, s) || str(obj, "finished_at", "ended_at") != ""
}

const tablesUsage = `Usage:
  hivemerge tables CLUSTER DB [--limit N]

Lists the tables of a database with their file metrics, the worst first: most NameNode
objects a merge would save, then most small files, then the lowest health score. Run
"hivemerge scan" first for fresh figures.

Examples:
  hivemerge tables demo sales --limit 10
`

func (a *app) tables(args []string) error {
	fs := a.flags("tables")
	limit := fs.Int("limit", 0, "show at most `N` tables (0: all)")
	pos, err := a.args(fs, args, tablesUsage, "CLUSTER", "DB")
	if err != nil {
		return err
	}
	path := "/api/v1/clusters/" + seg(pos[0]) + "/databases/" + seg(pos[1]) + "/tables"
	raw, err := a.do(http.MethodGet, path, nil, nil, nil, "tables")
	if err != nil {
		return err
	}
	if a.g.json {
		return a.raw(raw)
	}
	return a.printTables(raw, pos[0], pos[1], *limit)
}

// printTables prints the tables of a listing, the worst first, at most limit unless 0.
func (a *app) printTables(raw []byte, cluster, db string, limit int) error {
	rows := list(raw, "tables", "items")
	sortWorstFirst(rows)
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	if len(rows) == 0 {
		fmt.Fprintf(a.stdout, "no tables in %s.%s (has it been scanned? hivemerge scan %s --db %s)\n", cluster, db, cluster, db)
		return nil
	}
	t := newTable(a.stdout, "TABLE", "FILES", "SMALL FILES", "BYTES", "FORMAT", "SCORE", "NN OBJECTS SAVED", "REASON")
	for _, r := range rows {
		t.row(str(r, "table_name", "name", "table"),
			numText(r, count, "files", "file_count", "num_files", "total_files"),
			numText(r, count, "small_files", "small_file_count"),
			numText(r, humanBytes, "bytes", "total_bytes", "total_size", "size_bytes"),
			str(r, "format", "file_format", "input_format"),
			numText(r, func(n int64) string { return strconv.FormatInt(n, 10) }, "health_score", "score"),
			numText(r, count, "namenode_objects_saved"),
			str(r, "reason", "recommendation"))
	}
	return t.flush()
}

// sortWorstFirst orders table rows by the NameNode objects a merge saves, then small files
// (both descending), then health score (ascending), then name.
func sortWorstFirst(rows []map[string]any) {
	key := func(r map[string]any, names ...string) float64 {
		v, _ := num(r, names...)
		return v
	}
	slices.SortStableFunc(rows, func(x, y map[string]any) int {
		if c := cmp.Compare(key(y, "namenode_objects_saved"), key(x, "namenode_objects_saved")); c != 0 {
			return c
		}
		if c := cmp.Compare(key(y, "small_files", "small_file_count"), key(x, "small_files", "small_file_count")); c != 0 {
			return c
		}
		sx, okx := num(x, "health_score", "score")
		sy, oky := num(y, "health_score", "score")
		if okx && oky {
			if c := cmp.Compare(sx, sy); c != 0 {
				return c
			}
		}
		return cmp.Compare(str(x, "table_name", "name", "table"), str(y, "table_name", "name", "table"))
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

// lookup finds the first of names in m, or in an object m holds (a row's "metrics").
func lookup(m map[string]any, names ...string) (any, bool) {
	for _, n := range names {
		if v, ok := m[n]; ok && v != nil {
			return v, true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if sub, ok := m[k].(map[string]any); ok {
			for _, n := range names {
				if v, ok := sub[n]; ok && v != nil {
					return v, true
				}
			}
		}
	}
	return nil, false
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

// stringList collects a repeated flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	if v == "" {
		return fmt.Errorf("empty value")
	}
	*s = append(*s, v)
	return nil
}
