package hiveql

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

type insertStmt struct {
	overwrite bool
	target    tableRef
	spec      []specItem
	values    [][]expr
	query     *selectStmt
}

func (p *parser) insert() (statement, error) {
	p.next()
	st := &insertStmt{}
	switch {
	case p.accept("overwrite"):
		st.overwrite = true
		if err := p.expect("table"); err != nil {
			return nil, err
		}
	case p.accept("into"):
		p.accept("table")
	default:
		return nil, p.fail("")
	}
	ref, err := p.tableName()
	if err != nil {
		return nil, err
	}
	st.target = ref
	if p.peek().is("partition") {
		if st.spec, err = p.partitionSpec(); err != nil {
			return nil, err
		}
	}
	if st.overwrite && p.accept("if", "not", "exists") {
		return nil, p.fail("")
	}
	if p.accept("values") {
		for {
			if err := p.expect("("); err != nil {
				return nil, err
			}
			var row []expr
			for {
				e, err := p.expr()
				if err != nil {
					return nil, err
				}
				row = append(row, e)
				if !p.accept(",") {
					break
				}
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			st.values = append(st.values, row)
			if !p.accept(",") {
				break
			}
		}
		return st, p.end()
	}
	if !p.peek().is("select") {
		return nil, p.fail("")
	}
	if st.query, err = p.query(); err != nil {
		return nil, err
	}
	return st, p.end()
}

// outPart collects one target partition's output while mappers run.
type outPart struct {
	values []string
	chunks map[int][]byte // by mapper (or bucket) number
	rows   int64
	raw    int64
}

// outFile is one file to publish.
type outFile struct {
	name string
	data []byte
}

func (st *insertStmt) run(x *exec) (*Result, error) {
	t, err := x.table(st.target, true)
	if err != nil {
		return nil, err
	}
	static := map[string]string{}
	var dyn []int // indexes into t.PartCols filled from the query
	if !t.partitioned() {
		if st.spec != nil {
			return nil, semanticError("42000", 10241, "Table is not partitioned but partition spec exists: "+specString(st.spec))
		}
	} else {
		spec := st.spec
		if spec == nil {
			for _, c := range t.PartCols {
				spec = append(spec, specItem{key: c.Name, tok: st.target.tok})
			}
		}
		if len(spec) != len(t.PartCols) {
			return nil, p2err(spec)
		}
		for i, s := range spec {
			if s.key != t.PartCols[i].Name {
				return nil, p2err(spec)
			}
			if s.value == nil {
				dyn = append(dyn, i)
				continue
			}
			if len(dyn) > 0 {
				return nil, semanticError("42000", 10094, "Dynamic partition cannot be the parent of a static partition '"+s.key+"'")
			}
			v, err := normalizePartValue(t.PartCols[i], *s.value, s.tok)
			if err != nil {
				return nil, err
			}
			static[s.key] = v
		}
		if len(dyn) > 0 {
			if !x.confBool("hive.exec.dynamic.partition") {
				return nil, semanticError("42000", 10095, "Dynamic partition is disabled. Either enable it by setting hive.exec.dynamic.partition=true or specify partition column values")
			}
			if len(static) == 0 && !strings.EqualFold(strings.TrimSpace(x.conf["hive.exec.dynamic.partition.mode"]), "nonstrict") {
				return nil, semanticError("42000", 10096, "Dynamic partition strict mode requires at least one static partition column. To turn this off set hive.exec.dynamic.partition.mode=nonstrict")
			}
		}
	}
	want := len(t.Columns) + len(dyn)
	mismatch := func(got int) *Error {
		return semanticErrorAt("42000", 10044, st.target.tok, fmt.Sprintf("Cannot insert into target table because column number/types are different '%s': Table insclause-0 has %d columns, but query has %d columns.", st.target.written, want, got))
	}

	outs := map[string]*outPart{}
	ev := &evaluator{}
	bucketed := len(t.BucketCols) > 0 && t.NumBuckets > 0
	var bucketIdx []int
	for _, b := range t.BucketCols {
		bucketIdx = append(bucketIdx, slices.IndexFunc(t.Columns, func(c column) bool { return c.Name == b }))
	}
	delim := t.delim()
	vals := make([]any, want)
	var line []byte
	pvals := make([]string, len(t.PartCols))
	for i, c := range t.PartCols {
		pvals[i] = static[c.Name]
	}
	// Consecutive rows usually go to the same partition: remember the last one rather than
	// building its name for every row.
	var last *outPart
	// emit routes one produced row to its partition and file.
	emit := func(mapper int, produced []any) {
		for i, c := range t.Columns {
			vals[i] = castValue(produced[i], c.Type)
		}
		for k, i := range dyn {
			v := castValue(produced[len(t.Columns)+k], t.PartCols[i].Type)
			if v == nil || formatValue(v) == "" {
				pvals[i] = defaultPartitionName
			} else {
				pvals[i] = formatValue(v)
			}
		}
		o := last
		if o == nil || !slices.Equal(o.values, pvals) {
			name := ""
			if t.partitioned() {
				name = partName(t.PartCols, pvals)
			}
			o = outs[name]
			if o == nil {
				o = &outPart{values: slices.Clone(pvals), chunks: map[int][]byte{}}
				outs[name] = o
			}
			last = o
		}
		key := mapper
		if bucketed {
			h := make([]any, len(bucketIdx))
			for i, bi := range bucketIdx {
				h[i] = vals[bi]
			}
			key = int(int64(hashArgs(h)&0x7fffffff) % int64(t.NumBuckets))
		}
		line = encodeRow(line[:0], vals[:len(t.Columns)], delim)
		o.chunks[key] = append(o.chunks[key], line...)
		o.rows++
		o.raw += int64(len(line) - 1)
	}
	if len(dyn) == 0 && t.partitioned() {
		pv := t.fullValues(static)
		outs[partName(t.PartCols, pv)] = &outPart{values: pv, chunks: map[int][]byte{}}
	} else if !t.partitioned() {
		outs[""] = &outPart{chunks: map[int][]byte{}}
	}

	var mappers int
	var readBytes int64
	var job *job
	if st.values != nil {
		// VALUES rows are constants: checking them is compiling them.
		rows := make([][]any, 0, len(st.values))
		for _, r := range st.values {
			if len(r) != want {
				return nil, mismatch(len(r))
			}
			produced := make([]any, len(r))
			for i, e := range r {
				b, err := bind(e, nil)
				if err != nil {
					return nil, err
				}
				produced[i] = ev.eval(b, nil)
			}
			rows = append(rows, produced)
		}
		if err := x.compiled(nil); err != nil {
			return nil, err
		}
		mappers = 1
		job = x.startJob(1, false)
		for _, produced := range rows {
			emit(0, produced)
		}
		job.mapped(1)
	} else {
		q, err := x.bindQuery(st.query)
		if err != nil {
			return nil, err
		}
		if q.agg {
			return nil, semanticError("42000", 40000, "the sandbox does not run aggregations in INSERT ... SELECT")
		}
		if len(q.exprs) != want {
			return nil, mismatch(len(q.exprs))
		}
		if q.t == nil {
			return nil, semanticError("42000", 40000, "the sandbox needs a FROM clause in INSERT ... SELECT; use INSERT ... VALUES")
		}
		if err := x.compiled(nil); err != nil {
			return nil, err
		}
		parts, err := x.inputs(q.t, q.sc, st.query.where)
		if err != nil {
			return nil, err
		}
		sp := splits(parts, x.confInt("mapreduce.input.fileinputformat.split.maxsize", 256000000))
		mappers = len(sp)
		job = x.startJob(mappers, false)
		cache := map[string][]byte{}
		produced := make([]any, want)
		for i, s := range sp {
			if err := x.ctx.Err(); err != nil {
				return nil, err
			}
			readBytes += s.end - s.start
			err := readSplit(x.ctx, q.t, s, cache, func(row []any) error {
				if st.query.where != nil {
					if b, _ := truth(ev.eval(st.query.where, row)); !b {
						return nil
					}
				}
				for k, e := range q.exprs {
					produced[k] = ev.eval(e, row)
				}
				emit(i, produced)
				return nil
			})
			if err != nil {
				if x.ctx.Err() != nil {
					return nil, x.ctx.Err()
				}
				return nil, execError("org.apache.hadoop.hive.ql.exec.mr.MapRedTask")
			}
			job.mapped(i + 1)
		}
	}
	job.finish()

	// Lay out the files of each target partition.
	names := make([]string, 0, len(outs))
	for n := range outs {
		names = append(names, n)
	}
	slices.Sort(names)
	merge := x.mergeEnabled() && !bucketed && !t.transactional()
	avg := x.confInt("hive.merge.smallfiles.avgsize", 16000000)
	perTask := x.confInt("hive.merge.size.per.task", 256000000)
	files := map[string][]outFile{}
	merged := false
	var written int64
	for _, n := range names {
		o := outs[n]
		keys := make([]int, 0, len(o.chunks))
		for k := range o.chunks {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var fs []outFile
		switch {
		case bucketed:
			for b := range t.NumBuckets {
				fs = append(fs, outFile{name: bucketFileName(t, b), data: o.chunks[b]})
			}
		default:
			for _, k := range keys {
				fs = append(fs, outFile{name: bucketFileName(t, k), data: o.chunks[k]})
			}
		}
		if merge && len(fs) > 1 {
			var total int64
			for _, f := range fs {
				total += int64(len(f.data))
			}
			if total > 0 && total/int64(len(fs)) < avg {
				fs = mergeFiles(fs, perTask)
				merged = true
			}
		}
		for _, f := range fs {
			written += int64(len(f.data))
		}
		files[n] = fs
	}
	if merged {
		x.log("Stage-4 is selected by condition resolver.")
		x.log("Stage-3 is filtered out by condition resolver.")
		x.log("Stage-5 is filtered out by condition resolver.")
		x.log("Launching Job 3 out of 3")
		x.log("Number of reduce tasks is set to 0 since there's no reduce operator")
		x.log("Hadoop job information for Stage-3: number of mappers: %d; number of reducers: 0", len(names))
	}

	// Write everything to a staging directory first: a failed or cancelled statement leaves
	// the target untouched.
	staging := filepath.Join(t.Location, fmt.Sprintf(".hive-staging_hive_%s", x.qid))
	defer os.RemoveAll(staging)
	for _, n := range names {
		dir := filepath.Join(staging, "-ext-10000", n)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, execError("org.apache.hadoop.hive.ql.exec.MoveTask")
		}
		for _, f := range files[n] {
			if err := x.ctx.Err(); err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
				return nil, execError("org.apache.hadoop.hive.ql.exec.mr.MapRedTask")
			}
		}
	}
	if err := x.ctx.Err(); err != nil {
		return nil, err
	}
	if err := x.beforeCommit(); err != nil {
		return nil, err
	}
	if err := x.publish(t, st.overwrite, staging, names, outs, files); err != nil {
		return nil, err
	}
	x.log("MapReduce Jobs Launched: ")
	x.log("Stage-Stage-1: Map: %d   HDFS Read: %d HDFS Write: %d SUCCESS", mappers, readBytes, written)
	x.log("Total MapReduce CPU Time Spent: 0 msec")
	x.log("OK")
	return nil, nil
}

func (x *exec) mergeEnabled() bool {
	if strings.EqualFold(strings.TrimSpace(x.conf["hive.execution.engine"]), "tez") {
		return x.confBool("hive.merge.tezfiles")
	}
	return x.confBool("hive.merge.mapfiles")
}

// bucketFileName names task n's output: 00000n_0, or bucket_0000n in a transactional table.
func bucketFileName(t *table, n int) string {
	if t.fullACID() {
		return fmt.Sprintf("bucket_%05d", n)
	}
	return fmt.Sprintf("%06d_0", n)
}

// mergeFiles is the conditional merge job: the files' rows, in order, rewritten into files of
// about perTask bytes (whole lines; at least one file).
func mergeFiles(fs []outFile, perTask int64) []outFile {
	if perTask <= 0 {
		perTask = 256000000
	}
	var out []outFile
	var cur []byte
	flush := func() {
		out = append(out, outFile{name: fmt.Sprintf("%06d_0", len(out)), data: cur})
		cur = nil
	}
	for _, f := range fs {
		data := f.data
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			var line []byte
			if i < 0 {
				line, data = data, nil
			} else {
				line, data = data[:i+1], data[i+1:]
			}
			if int64(len(cur)) >= perTask {
				flush()
			}
			cur = append(cur, line...)
		}
	}
	if len(cur) > 0 || len(out) == 0 {
		flush()
	}
	return out
}

// publish moves staged files into place and records partitions and statistics, all under the
// catalog lock so other statements see the statement's effect at once.
func (x *exec) publish(snap *table, overwrite bool, staging string, names []string, outs map[string]*outPart, files map[string][]outFile) error {
	w := x.w
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.lookupTable(snap.DB, snap.Name)
	if !ok {
		return tableNotFound(snap.qualified())
	}
	now := strconv.FormatInt(w.unixNow(), 10)
	if overwrite && !t.transactional() {
		// Overwriting deletes what a location holds: never another table's directory.
		dirs := make([]string, 0, len(names))
		for _, n := range names {
			if p, ok := t.Partitions[n]; ok {
				dirs = append(dirs, p.Location)
			} else if !t.partitioned() {
				dirs = append(dirs, t.Location)
			}
		}
		if err := w.checkDropLocked(dirs, func(y *table) bool { return y == t }); err != nil {
			return moveRefused(err)
		}
	}
	for _, n := range names {
		o := outs[n]
		loc := t.Location
		params := t.Params
		if t.partitioned() {
			p, ok := t.Partitions[n]
			if !ok {
				var err error
				if p, err = w.addPartitionLocked(t, o.values, filepath.Join(t.Location, n)); err != nil {
					return execError("org.apache.hadoop.hive.ql.exec.MoveTask")
				}
			}
			loc, params = p.Location, p.Params
			x.log("Loading data to table %s partition (%s)", t.qualified(), strings.ReplaceAll(n, "/", ", "))
		} else {
			x.log("Loading data to table %s", t.qualified())
		}
		if err := os.MkdirAll(loc, 0o755); err != nil {
			return execError("org.apache.hadoop.hive.ql.exec.MoveTask")
		}
		src := filepath.Join(staging, "-ext-10000", n)
		if err := moveOutput(t, loc, src, files[n], overwrite); err != nil {
			return execError("org.apache.hadoop.hive.ql.exec.MoveTask")
		}
		s, err := scanStats(t, loc, false)
		if err != nil {
			return execError("org.apache.hadoop.hive.ql.exec.StatsTask")
		}
		_, accurate := params["COLUMN_STATS_ACCURATE"]
		old, errRows := strconv.ParseInt(params["numRows"], 10, 64)
		oldRaw, _ := strconv.ParseInt(params["rawDataSize"], 10, 64)
		switch {
		case overwrite:
			s.rows, s.raw = o.rows, o.raw
			setStats(params, t.Columns, s)
		case accurate && errRows == nil:
			s.rows, s.raw = old+o.rows, oldRaw+o.raw
			setStats(params, t.Columns, s)
		default:
			setFastStats(params, s)
		}
		params["transient_lastDdlTime"] = now
	}
	return w.commit()
}

// moveOutput publishes staged files into loc. Overwrite replaces the visible contents of loc;
// an append keeps them and names new files with Hive's _copy_N suffix. Transactional tables
// get a new delta (or base, for overwrite) directory instead.
func moveOutput(t *table, loc, src string, fs []outFile, overwrite bool) error {
	if t.transactional() {
		t.NextWriteID++
		wid := t.NextWriteID
		dir := fmt.Sprintf("delta_%07d_%07d_0000", wid, wid)
		if overwrite {
			dir = fmt.Sprintf("base_%07d", wid)
		}
		if len(fs) == 0 && !overwrite {
			return nil
		}
		return os.Rename(src, filepath.Join(loc, dir))
	}
	if overwrite {
		ents, err := os.ReadDir(loc)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if !hidden(e.Name()) {
				if err := os.RemoveAll(filepath.Join(loc, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	for _, f := range fs {
		if overwrite {
			if err := os.Rename(filepath.Join(src, f.name), filepath.Join(loc, f.name)); err != nil {
				return err
			}
			continue
		}
		if _, err := linkUnique(filepath.Join(src, f.name), loc, f.name); err != nil {
			return err
		}
	}
	return nil
}
