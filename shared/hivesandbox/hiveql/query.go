package hiveql

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
)

type selItem struct {
	e     expr
	alias string
}

type selectStmt struct {
	items []selItem
	from  *tableRef
	where expr
	limit int // -1: none
}

func (p *parser) selectStmt() (statement, error) {
	q, err := p.query()
	if err != nil {
		return nil, err
	}
	return q, p.end()
}

// query parses SELECT items [FROM t [alias]] [WHERE e] [LIMIT n].
func (p *parser) query() (*selectStmt, error) {
	if err := p.expect("select"); err != nil {
		return nil, err
	}
	p.accept("all")
	if p.peek().is("distinct") {
		return nil, p.fail("")
	}
	st := &selectStmt{limit: -1}
	for {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		it := selItem{e: e}
		if p.accept("as") {
			_, a, err := p.ident("")
			if err != nil {
				return nil, err
			}
			it.alias = a
		} else if t := p.peek(); t.isName() && !(t.kind == tokIdent && (reserved[strings.ToUpper(t.text)] || t.is("limit"))) {
			p.next()
			it.alias = strings.ToLower(t.text)
		}
		st.items = append(st.items, it)
		if !p.accept(",") {
			break
		}
	}
	if p.accept("from") {
		ref, err := p.tableName()
		if err != nil {
			return nil, err
		}
		st.from = &ref
		if p.accept("as") {
			if _, _, err := p.ident(""); err != nil {
				return nil, err
			}
		} else if t := p.peek(); t.isName() && !(t.kind == tokIdent && (reserved[strings.ToUpper(t.text)] || t.is("limit"))) {
			p.next()
		}
		if p.accept("where") {
			if st.where, err = p.expr(); err != nil {
				return nil, err
			}
		}
	}
	if p.accept("limit") {
		n := p.next()
		if n.kind != tokNumber {
			return nil, parseError(n, p.toks[p.pos:], "")
		}
		st.limit, _ = strconv.Atoi(n.text)
	}
	return st, nil
}

// boundQuery is a SELECT resolved against its source table.
type boundQuery struct {
	st    *selectStmt
	t     *table // nil without FROM
	sc    *scope
	exprs []expr
	agg   bool
}

func (x *exec) bindQuery(st *selectStmt) (*boundQuery, error) {
	q := &boundQuery{st: st}
	if st.from != nil {
		t, err := x.table(*st.from, true)
		if err != nil {
			return nil, err
		}
		q.t, q.sc = t, tableScope(t)
	}
	for _, it := range st.items {
		if s, ok := it.e.(*starExpr); ok {
			if q.sc == nil {
				return nil, semanticErrorAt("42000", 40000, s.tok, "SELECT * without FROM")
			}
			for i := range q.sc.names {
				q.exprs = append(q.exprs, &colExpr{tok: s.tok, name: q.sc.names[i], idx: i})
			}
			continue
		}
		e, err := bind(it.e, q.sc)
		if err != nil {
			return nil, err
		}
		q.exprs = append(q.exprs, e)
		if hasAggregate(e) {
			q.agg = true
		}
	}
	if q.agg {
		for _, e := range q.exprs {
			if c := columnOutsideAggregate(e); c != nil {
				return nil, semanticErrorAt("42000", 10025, c.tok, fmt.Sprintf("Expression not in GROUP BY key '%s'", c.name))
			}
		}
	}
	if st.where != nil {
		if q.sc == nil {
			return nil, parseErrorAt(1, 0, "WHERE without FROM")
		}
		w, err := bind(st.where, q.sc)
		if err != nil {
			return nil, err
		}
		if hasAggregate(w) {
			return nil, semanticError("42000", 10128, "Not yet supported place for UDAF 'where'")
		}
		st.where = w
	}
	return q, nil
}

// columns names the result columns like Hive: the alias, the column name, or _cN.
func (q *boundQuery) columns() []Column {
	var cols []Column
	i := 0
	for _, it := range q.st.items {
		if _, ok := it.e.(*starExpr); ok {
			for _, n := range q.sc.names {
				cols = append(cols, Column{Name: q.t.Name + "." + n, Type: typeOf(q.exprs[i], q.sc)})
				i++
			}
			continue
		}
		name := it.alias
		if name == "" {
			if c, ok := q.exprs[i].(*colExpr); ok {
				name = c.name
			} else {
				name = fmt.Sprintf("_c%d", i)
			}
		}
		cols = append(cols, Column{Name: name, Type: typeOf(q.exprs[i], q.sc)})
		i++
	}
	return cols
}

// inputPart is one location a query reads, with its partition values typed.
type inputPart struct {
	name  string // partition name, "" for an unpartitioned table
	loc   string
	vals  []any
	files []dataFile
}

// inputs lists what a query over t reads after partition pruning.
func (x *exec) inputs(t *table, sc *scope, where expr) ([]inputPart, error) {
	var parts []inputPart
	if !t.partitioned() {
		parts = append(parts, inputPart{loc: t.Location})
	} else {
		ev := &evaluator{}
		prune := where != nil && refsOnly(where, len(t.Columns))
		row := make([]any, len(sc.names))
		for _, n := range t.sortedPartitions() {
			p := t.Partitions[n]
			vals := make([]any, len(t.PartCols))
			for i, c := range t.PartCols {
				if p.Values[i] == defaultPartitionName {
					continue
				}
				vals[i] = parseValue(p.Values[i], c.Type)
			}
			if prune {
				copy(row[len(t.Columns):], vals)
				if b, _ := truth(ev.eval(where, row)); !b {
					continue
				}
			}
			parts = append(parts, inputPart{name: n, loc: p.Location, vals: vals})
		}
	}
	for i := range parts {
		if err := x.ctx.Err(); err != nil {
			return nil, err
		}
		fs, err := locationFiles(t, parts[i].loc)
		if err != nil {
			return nil, execError("org.apache.hadoop.hive.ql.exec.mr.MapRedTask")
		}
		parts[i].files = fs
	}
	return parts, nil
}

// split is one simulated mapper's input: a byte range of one file.
type split struct {
	part       *inputPart
	file       dataFile
	start, end int64
}

// splits cuts the input like FileInputFormat: every file is at least one split and no split
// is larger than mapreduce.input.fileinputformat.split.maxsize.
func splits(parts []inputPart, maxSize int64) []split {
	if maxSize <= 0 {
		maxSize = 256000000
	}
	var out []split
	for i := range parts {
		for _, f := range parts[i].files {
			n := max(1, (f.size+maxSize-1)/maxSize)
			for k := range n {
				out = append(out, split{part: &parts[i], file: f, start: k * maxSize, end: min(f.size, (k+1)*maxSize)})
			}
			if f.size == 0 {
				out[len(out)-1].end = 0
			}
		}
	}
	return out
}

// readSplit calls fn with each row whose line starts inside the split.
func readSplit(ctx context.Context, t *table, s split, cache map[string][]byte, fn func(row []any) error) error {
	data, ok := cache[s.file.path]
	if !ok {
		var err error
		data, err = os.ReadFile(s.file.path)
		if os.IsNotExist(err) {
			return nil // removed since listing; Hive would fail, the sandbox reads what is there
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", s.file.path, err)
		}
		if s.end < s.file.size {
			cache[s.file.path] = data
		}
	}
	if s.end >= s.file.size {
		delete(cache, s.file.path)
	}
	delim := t.delim()
	row := make([]any, 0, len(t.Columns)+len(t.PartCols))
	var off int64
	n := 0
	return splitLines(data, func(line []byte) error {
		start := off
		off += int64(len(line)) + 1
		if start < s.start || start >= s.end {
			return nil
		}
		n++
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row = decodeRow(t, line, delim, s.part.vals, row)
		return fn(row)
	})
}

func (st *selectStmt) run(x *exec) (*Result, error) {
	q, err := x.bindQuery(st)
	if err != nil {
		return nil, err
	}
	res := &Result{Columns: q.columns()}
	if err := x.compiled(res.Columns); err != nil {
		return nil, err
	}
	ev := newEvaluator(q.exprs)
	if q.t == nil {
		if q.agg {
			ev.accumulate(nil)
		}
		row := make([]any, len(q.exprs))
		for i, e := range q.exprs {
			row[i] = resultValue(ev.eval(e, nil))
		}
		if st.limit != 0 {
			res.Rows = append(res.Rows, row)
		}
		return res, nil
	}
	parts, err := x.inputs(q.t, q.sc, st.where)
	if err != nil {
		return nil, err
	}
	sp := splits(parts, x.confInt("mapreduce.input.fileinputformat.split.maxsize", 256000000))
	job := x.startJob(len(sp), q.agg)
	cache := map[string][]byte{}
	errLimit := fmt.Errorf("limit reached")
	for i, s := range sp {
		if err := x.ctx.Err(); err != nil {
			return nil, err
		}
		err := readSplit(x.ctx, q.t, s, cache, func(row []any) error {
			if st.where != nil {
				if b, _ := truth(ev.eval(st.where, row)); !b {
					return nil
				}
			}
			if q.agg {
				ev.accumulate(row)
				return nil
			}
			if st.limit >= 0 && len(res.Rows) >= st.limit {
				return errLimit
			}
			out := make([]any, len(q.exprs))
			for k, e := range q.exprs {
				out[k] = resultValue(ev.eval(e, row))
			}
			res.Rows = append(res.Rows, out)
			return nil
		})
		if err == errLimit {
			break
		}
		if err != nil {
			if x.ctx.Err() != nil {
				return nil, x.ctx.Err()
			}
			return nil, execError("org.apache.hadoop.hive.ql.exec.mr.MapRedTask")
		}
		job.mapped(i + 1)
	}
	if q.agg {
		row := make([]any, len(q.exprs))
		for i, e := range q.exprs {
			row[i] = resultValue(ev.eval(e, nil))
		}
		if st.limit != 0 {
			res.Rows = append(res.Rows, row)
		}
	}
	job.finish()
	x.log("OK")
	return res, nil
}

func (x *exec) confInt(key string, def int64) int64 {
	v, err := strconv.ParseInt(strings.TrimSpace(x.conf[key]), 10, 64)
	if err != nil {
		return def
	}
	return v
}

func (x *exec) confBool(key string) bool {
	return strings.EqualFold(strings.TrimSpace(x.conf[key]), "true")
}

// job reports one simulated MapReduce job through the statement's log and progress callbacks,
// with the lines a Hive client prints.
type job struct {
	x         *exec
	id        string
	mappers   int
	reducers  int
	lastPct   int
	stage     string
	totalJobs int
}

func (x *exec) startJob(mappers int, reduce bool) *job {
	j := &job{x: x, mappers: mappers, lastPct: -1, stage: "Stage-1", totalJobs: 1}
	if reduce {
		j.reducers = 1
	}
	j.id = fmt.Sprintf("job_%d_%04d", x.w.now().UnixMilli(), x.w.nextJobNumber())
	x.log("Query ID = %s", x.qid)
	x.log("Total jobs = %d", j.totalJobs)
	j.launch(1)
	return j
}

func (j *job) launch(n int) {
	x := j.x
	x.log("Launching Job %d out of %d", n, j.totalJobs)
	if j.reducers == 0 {
		x.log("Number of reduce tasks is set to 0 since there's no reduce operator")
	} else {
		x.log("Number of reduce tasks determined at compile time: %d", j.reducers)
	}
	app := strings.TrimPrefix(j.id, "job_")
	x.log("Starting Job = %s, Tracking URL = http://sandbox:8088/proxy/application_%s/", j.id, app)
	x.log("Hadoop job information for %s: number of mappers: %d; number of reducers: %d", j.stage, j.mappers, j.reducers)
	j.mapped(0)
}

// mapped records that done of the job's mappers finished.
func (j *job) mapped(done int) {
	pct := 100
	if j.mappers > 0 {
		pct = done * 100 / j.mappers
	}
	j.x.progress(done, j.mappers)
	if pct == j.lastPct || pct < 100 && j.lastPct >= 0 && pct-j.lastPct < 10 {
		return
	}
	j.lastPct = pct
	j.x.log("%s %s map = %d%%,  reduce = 0%%", j.x.w.now().Format("2006-01-02 15:04:05,000"), j.stage, pct)
}

func (j *job) finish() {
	if j.lastPct < 100 {
		j.lastPct = 99
		j.mapped(j.mappers)
	}
	x := j.x
	if j.reducers > 0 {
		x.log("%s %s map = 100%%,  reduce = 100%%", x.w.now().Format("2006-01-02 15:04:05,000"), j.stage)
	}
	x.log("Ended Job = %s", j.id)
}
