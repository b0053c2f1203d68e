package hiveql

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

type concatenateStmt struct {
	ref  tableRef
	spec []specItem
}

// concatenateError is how Hive 3's DDLSemanticAnalyzer reports a refused CONCATENATE.
func concatenateError(code int32, msg string) *Error {
	return semanticError("42000", code, msg)
}

func (st *concatenateStmt) run(x *exec) (*Result, error) {
	t, err := x.table(st.ref, false)
	if err != nil {
		return nil, err
	}
	// The checks and their order follow Hive 3's analyzeAlterTablePartMergeFiles.
	if t.insertOnly() {
		return nil, genericSemanticError("org.apache.hadoop.hive.ql.parse.SemanticException: Merge is not supported for MM tables")
	}
	loc := t.Location
	partName := ""
	var part *partition
	if t.partitioned() {
		if st.spec == nil {
			return nil, genericSemanticError(fmt.Sprintf("source table hive.%s is partitioned but no partition desc found.", t.qualified()))
		}
		vals, err := resolveSpec(t, st.spec, false)
		if err != nil {
			return nil, err
		}
		p, ok := t.Partitions[partNameIfFull(t, vals)]
		if len(vals) != len(t.PartCols) || !ok {
			return nil, genericSemanticError(fmt.Sprintf("source table hive.%s is partitioned but partition not found.", t.qualified()))
		}
		part, partName, loc = p, partNameIfFull(t, vals), p.Location
	} else if st.spec != nil {
		return nil, semanticError("42000", 10241, "Table is not partitioned but partition spec exists: "+specString(st.spec))
	}
	if t.Format != "RCFILE" && t.Format != "ORC" {
		return nil, concatenateError(30030, "Concatenate/Merge only supported for RCFile and ORCFile formats")
	}
	if len(t.BucketCols) > 0 {
		return nil, concatenateError(30031, "Concatenate/Merge can not be performed on bucketed tables")
	}
	if t.External {
		return nil, concatenateError(30034, "Concatenate/Merge can only be performed on managed tables")
	}
	if t.transactional() {
		return nil, concatenateError(30035, "Concatenate/Merge can not be performed on transactional tables")
	}
	if err := x.compiled(nil); err != nil {
		return nil, err
	}

	files, err := listFiles(loc)
	if err != nil {
		return nil, execError("org.apache.hadoop.hive.ql.exec.DDLTask")
	}
	job := x.startJob(len(files), false)
	var inputs []outFile
	for i, f := range files {
		if err := x.ctx.Err(); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(f.path)
		if err != nil {
			return nil, execError("org.apache.hadoop.hive.ql.exec.DDLTask")
		}
		if len(data) > 0 && data[len(data)-1] != '\n' {
			data = append(data, '\n')
		}
		inputs = append(inputs, outFile{name: filepath.Base(f.path), data: data})
		job.mapped(i + 1)
	}
	job.finish()
	merged := mergeFiles(inputs, x.confInt("hive.merge.size.per.task", 256000000))
	if len(inputs) == 0 {
		merged = nil
	}
	staging := filepath.Join(t.Location, ".hive-staging_hive_"+x.qid)
	defer os.RemoveAll(staging)
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return nil, execError("org.apache.hadoop.hive.ql.exec.DDLTask")
	}
	for _, f := range merged {
		if err := x.ctx.Err(); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(staging, f.name), f.data, 0o644); err != nil {
			return nil, execError("org.apache.hadoop.hive.ql.exec.DDLTask")
		}
	}
	if err := x.beforeCommit(); err != nil {
		return nil, err
	}

	live, unlock, err := x.lockLive(t)
	if err != nil {
		return nil, err
	}
	defer unlock()
	w := x.w
	// Replacing the location's contents must not delete another table's directory.
	if err := w.checkDropLocked([]string{loc}, func(y *table) bool { return y == live }); err != nil {
		return nil, moveRefused(err)
	}
	params := live.Params
	if part != nil {
		p, ok := live.Partitions[partName]
		if !ok {
			return nil, partitionNotFound(specString(st.spec))
		}
		params = p.Params
	}
	x.log("Loading data to table %s", t.qualified())
	if err := moveOutput(live, loc, staging, merged, true); err != nil {
		return nil, execError("org.apache.hadoop.hive.ql.exec.MoveTask")
	}
	s, err := scanStats(live, loc, false)
	if err != nil {
		return nil, execError("org.apache.hadoop.hive.ql.exec.StatsTask")
	}
	params["numFiles"] = strconv.FormatInt(s.files, 10)
	params["totalSize"] = strconv.FormatInt(s.total, 10)
	params["transient_lastDdlTime"] = strconv.FormatInt(w.unixNow(), 10)
	if err := w.commit(); err != nil {
		return nil, err
	}
	x.log("OK")
	return nil, nil
}

func partNameIfFull(t *table, vals map[string]string) string {
	if len(vals) != len(t.PartCols) {
		return ""
	}
	return partName(t.PartCols, t.fullValues(vals))
}

type analyzeStmt struct {
	ref    tableRef
	spec   []specItem
	noscan bool
}

func (st *analyzeStmt) run(x *exec) (*Result, error) {
	t, err := x.table(st.ref, false)
	if err != nil {
		return nil, err
	}
	var targets []string // partition names; "" for the table
	if t.partitioned() {
		vals := map[string]string{}
		if st.spec != nil {
			// PARTITION(dt='x', hr) analyses every hr of dt='x'.
			var static []specItem
			for _, s := range st.spec {
				if s.value != nil {
					static = append(static, s)
				} else if !slices.ContainsFunc(t.PartCols, func(c column) bool { return c.Name == s.key }) {
					return nil, Errorf("42000", 40000, "%sFAILED: ValidationFailureSemanticException Partition spec %s contains non-partition columns", compilePrefix, specString(st.spec))
				}
			}
			if len(static) > 0 {
				if vals, err = resolveSpec(t, static, false); err != nil {
					return nil, err
				}
			}
		}
		targets = t.matchPartitions(vals)
		if st.spec != nil && len(targets) == 0 {
			return nil, partitionNotFound(specString(st.spec))
		}
	} else {
		targets = []string{""}
	}
	if err := x.compiled(nil); err != nil {
		return nil, err
	}
	type result struct {
		name string
		s    basicStats
	}
	var results []result
	job := x.startJob(len(targets), false)
	for i, n := range targets {
		if err := x.ctx.Err(); err != nil {
			return nil, err
		}
		loc := t.Location
		if n != "" {
			loc = t.Partitions[n].Location
		}
		s, err := scanStats(t, loc, !st.noscan)
		if err != nil {
			return nil, execError("org.apache.hadoop.hive.ql.exec.StatsTask")
		}
		results = append(results, result{n, s})
		job.mapped(i + 1)
	}
	job.finish()
	live, unlock, err := x.lockLive(t)
	if err != nil {
		return nil, err
	}
	defer unlock()
	w := x.w
	now := strconv.FormatInt(w.unixNow(), 10)
	for _, r := range results {
		params := live.Params
		label := t.qualified()
		if r.name != "" {
			p, ok := live.Partitions[r.name]
			if !ok {
				continue
			}
			params = p.Params
			label = fmt.Sprintf("%s{%s}", t.qualified(), strings.ReplaceAll(r.name, "/", ", "))
		}
		if st.noscan {
			params["numFiles"] = strconv.FormatInt(r.s.files, 10)
			params["totalSize"] = strconv.FormatInt(r.s.total, 10)
		} else {
			setStats(params, live.Columns, r.s)
		}
		params["transient_lastDdlTime"] = now
		x.log("%s stats: [numFiles=%d, numRows=%s, totalSize=%d, rawDataSize=%s]", label, r.s.files, params["numRows"], r.s.total, params["rawDataSize"])
	}
	if err := w.commit(); err != nil {
		return nil, err
	}
	x.log("OK")
	return nil, nil
}

type msckStmt struct {
	ref       tableRef
	repair    bool
	add, drop bool
}

func (st *msckStmt) run(x *exec) (*Result, error) {
	t, err := x.table(st.ref, false)
	if err != nil {
		return nil, err
	}
	if !t.partitioned() {
		return nil, nil
	}
	if err := x.compiled(nil); err != nil {
		return nil, err
	}
	found := map[string][]string{}
	var walk func(dir string, depth int, vals []string) error
	walk = func(dir string, depth int, vals []string) error {
		if depth == len(t.PartCols) {
			found[partName(t.PartCols, vals)] = slices.Clone(vals)
			return nil
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		for _, e := range ents {
			if !e.IsDir() || hidden(e.Name()) {
				continue
			}
			k, v, ok := strings.Cut(e.Name(), "=")
			if !ok || unescapePathName(k) != t.PartCols[depth].Name {
				continue
			}
			v = unescapePathName(v)
			nv, err := normalizePartValue(t.PartCols[depth], v, token{})
			if err != nil {
				continue
			}
			if err := walk(filepath.Join(dir, e.Name()), depth+1, append(vals, nv)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(t.Location, 0, nil); err != nil {
		return nil, ddlError(fmt.Sprintf("MetaException(message:%v)", err))
	}
	var missing, stale []string
	for n := range found {
		if _, ok := t.Partitions[n]; !ok {
			missing = append(missing, n)
		}
	}
	for n, p := range t.Partitions {
		if _, err := os.Stat(p.Location); os.IsNotExist(err) {
			stale = append(stale, n)
		}
	}
	slices.Sort(missing)
	slices.Sort(stale)
	for _, n := range missing {
		x.log("Partitions not in metastore:\t%s:%s", t.Name, n)
	}
	for _, n := range stale {
		x.log("Partitions missing from filesystem:\t%s:%s", t.Name, n)
	}
	if !st.repair {
		return nil, nil
	}
	live, unlock, err := x.lockLive(t)
	if err != nil {
		return nil, err
	}
	defer unlock()
	w := x.w
	if st.add {
		for _, n := range missing {
			if _, ok := live.Partitions[n]; ok {
				continue
			}
			if _, err := w.addPartitionLocked(live, found[n], filepath.Join(live.Location, n)); err != nil {
				return nil, ddlError(fmt.Sprintf("MetaException(message:%v)", err))
			}
			x.log("Repair: Added partition to metastore %s:%s", t.Name, n)
		}
	}
	if st.drop {
		for _, n := range stale {
			delete(live.Partitions, n)
			x.log("Repair: Dropped partition from metastore %s:%s", t.qualified(), n)
		}
	}
	return nil, w.commit()
}
