package hiveql

import (
	"crypto/md5"
	"encoding/hex"
	"math"
	"slices"
	"strings"
)

// scope is the row layout expressions are bound to: a table's data columns then its
// partition columns, as Hive's SELECT * lists them.
type scope struct {
	names []string
	types []string
	table string // table name or alias accepted as a qualifier
}

func tableScope(t *table) *scope {
	s := &scope{table: t.Name}
	for _, c := range t.Columns {
		s.names = append(s.names, c.Name)
		s.types = append(s.types, c.Type)
	}
	for _, c := range t.PartCols {
		s.names = append(s.names, c.Name)
		s.types = append(s.types, c.Type)
	}
	return s
}

// bind resolves column references and checks functions; it returns e with * arguments
// expanded.
func bind(e expr, sc *scope) (expr, error) {
	switch n := e.(type) {
	case *colExpr:
		if sc == nil {
			return nil, invalidColumnAt(n.tok, n.name, nil)
		}
		i := slices.Index(sc.names, n.name)
		if i < 0 {
			return nil, invalidColumnAt(n.tok, n.name, sc.names)
		}
		n.idx = i
		return n, nil
	case *starExpr:
		return nil, parseError(n.tok, nil, "")
	case *callExpr:
		want, scalar := scalarFuncs[n.name]
		if !scalar && !aggregates[n.name] {
			return nil, invalidFunctionAt(n.tok, n.name)
		}
		if n.star {
			switch n.name {
			case "count":
				n.args = nil
				return n, nil
			case "hash", "concat_ws", "concat", "coalesce":
				var args []expr
				for _, a := range n.args {
					if _, ok := a.(*starExpr); ok {
						if sc == nil {
							return nil, semanticErrorAt("42000", 10004, n.tok, "Invalid table alias or column reference: *")
						}
						for i := range sc.names {
							args = append(args, &colExpr{tok: n.tok, name: sc.names[i], idx: i})
						}
						continue
					}
					args = append(args, a)
				}
				n.args, n.star = args, false
			default:
				return nil, semanticErrorAt("42000", 10014, n.tok, "Wrong arguments '*': "+n.name+"(*) is not supported")
			}
		}
		if scalar && want >= 0 && len(n.args) != want || aggregates[n.name] && len(n.args) != 1 {
			return nil, semanticErrorAt("21000", 10015, n.tok, "Arguments length mismatch '"+n.name+"'")
		}
		for i, a := range n.args {
			b, err := bind(a, sc)
			if err != nil {
				return nil, err
			}
			if aggregates[n.name] && hasAggregate(b) {
				return nil, semanticErrorAt("42000", 10128, n.tok, "Not yet supported place for UDAF '"+n.name+"'")
			}
			n.args[i] = b
		}
		return n, nil
	case *binExpr:
		l, err := bind(n.l, sc)
		if err != nil {
			return nil, err
		}
		r, err := bind(n.r, sc)
		if err != nil {
			return nil, err
		}
		n.l, n.r = l, r
		return n, nil
	case *notExpr:
		b, err := bind(n.e, sc)
		n.e = b
		return n, err
	case *negExpr:
		b, err := bind(n.e, sc)
		n.e = b
		return n, err
	case *isNullExpr:
		b, err := bind(n.e, sc)
		n.e = b
		return n, err
	case *castExpr:
		b, err := bind(n.e, sc)
		n.e = b
		return n, err
	case *inExpr:
		b, err := bind(n.e, sc)
		if err != nil {
			return nil, err
		}
		n.e = b
		for i, a := range n.list {
			if n.list[i], err = bind(a, sc); err != nil {
				return nil, err
			}
		}
		return n, nil
	}
	return e, nil
}

// walk calls fn on e and its sub-expressions.
func walk(e expr, fn func(expr)) {
	fn(e)
	switch n := e.(type) {
	case *callExpr:
		for _, a := range n.args {
			walk(a, fn)
		}
	case *binExpr:
		walk(n.l, fn)
		walk(n.r, fn)
	case *notExpr:
		walk(n.e, fn)
	case *negExpr:
		walk(n.e, fn)
	case *isNullExpr:
		walk(n.e, fn)
	case *castExpr:
		walk(n.e, fn)
	case *inExpr:
		walk(n.e, fn)
		for _, a := range n.list {
			walk(a, fn)
		}
	}
}

func hasAggregate(e expr) bool {
	found := false
	walk(e, func(n expr) {
		if c, ok := n.(*callExpr); ok && aggregates[c.name] {
			found = true
		}
	})
	return found
}

// columnOutsideAggregate returns a column reference not inside an aggregate, if any.
func columnOutsideAggregate(e expr) *colExpr {
	switch n := e.(type) {
	case *colExpr:
		return n
	case *callExpr:
		if aggregates[n.name] {
			return nil
		}
		for _, a := range n.args {
			if c := columnOutsideAggregate(a); c != nil {
				return c
			}
		}
	case *binExpr:
		if c := columnOutsideAggregate(n.l); c != nil {
			return c
		}
		return columnOutsideAggregate(n.r)
	case *notExpr:
		return columnOutsideAggregate(n.e)
	case *negExpr:
		return columnOutsideAggregate(n.e)
	case *isNullExpr:
		return columnOutsideAggregate(n.e)
	case *castExpr:
		return columnOutsideAggregate(n.e)
	case *inExpr:
		if c := columnOutsideAggregate(n.e); c != nil {
			return c
		}
		for _, a := range n.list {
			if c := columnOutsideAggregate(a); c != nil {
				return c
			}
		}
	}
	return nil
}

// refsOnly reports whether every column e references is at an index >= from (the partition
// columns), so e can be decided once per partition.
func refsOnly(e expr, from int) bool {
	ok := true
	walk(e, func(n expr) {
		if c, isCol := n.(*colExpr); isCol && c.idx < from {
			ok = false
		}
	})
	return ok
}

// aggState accumulates one aggregate call.
type aggState struct {
	count   int64
	sumI    int64
	sumF    float64
	isFloat bool
	seen    bool
	best    any
}

type evaluator struct {
	aggs map[*callExpr]*aggState
}

func newEvaluator(items []expr) *evaluator {
	ev := &evaluator{aggs: map[*callExpr]*aggState{}}
	for _, it := range items {
		walk(it, func(n expr) {
			if c, ok := n.(*callExpr); ok && aggregates[c.name] {
				ev.aggs[c] = &aggState{}
			}
		})
	}
	return ev
}

// accumulate feeds one row to every aggregate.
func (ev *evaluator) accumulate(row []any) {
	for c, st := range ev.aggs {
		if c.name == "count" && len(c.args) == 0 {
			st.count++
			continue
		}
		v := ev.eval(c.args[0], row)
		if v == nil {
			continue
		}
		st.count++
		switch c.name {
		case "sum", "avg":
			switch x := v.(type) {
			case int32:
				st.sumI += int64(x)
			case int64:
				st.sumI += x
			case bool:
			default:
				f, ok := toFloat(v)
				if !ok {
					st.count--
					continue
				}
				st.isFloat = true
				st.sumF += f
			}
			st.seen = true
		case "min", "max":
			if !st.seen {
				st.best, st.seen = v, true
				continue
			}
			if d, ok := compare(v, st.best); ok && d != 0 && (c.name == "min") == (d < 0) {
				st.best = v
			}
		}
	}
}

func (ev *evaluator) aggValue(c *callExpr) any {
	st := ev.aggs[c]
	switch c.name {
	case "count":
		return st.count
	case "sum":
		if !st.seen {
			return nil
		}
		if st.isFloat {
			return st.sumF + float64(st.sumI)
		}
		return st.sumI
	case "avg":
		if st.count == 0 {
			return nil
		}
		return (st.sumF + float64(st.sumI)) / float64(st.count)
	}
	if !st.seen {
		return nil
	}
	return st.best
}

func truth(v any) (bool, bool) {
	b, ok := v.(bool)
	return b, ok
}

func (ev *evaluator) eval(e expr, row []any) any {
	switch n := e.(type) {
	case *litExpr:
		return n.v
	case *colExpr:
		return row[n.idx]
	case *callExpr:
		if aggregates[n.name] {
			return ev.aggValue(n)
		}
		return ev.call(n, row)
	case *binExpr:
		return ev.binary(n, row)
	case *notExpr:
		v := ev.eval(n.e, row)
		if b, ok := truth(v); ok {
			return !b
		}
		return nil
	case *negExpr:
		switch x := ev.eval(n.e, row).(type) {
		case int32:
			return -x
		case int64:
			return -x
		case float64:
			return -x
		}
		return nil
	case *isNullExpr:
		return (ev.eval(n.e, row) == nil) != n.not
	case *castExpr:
		return castValue(ev.eval(n.e, row), n.typ)
	case *inExpr:
		v := ev.eval(n.e, row)
		if v == nil {
			return nil
		}
		sawNull := false
		for _, a := range n.list {
			w := ev.eval(a, row)
			if w == nil {
				sawNull = true
				continue
			}
			if c, ok := compare(v, w); ok && c == 0 {
				return !n.not
			}
		}
		if sawNull {
			return nil
		}
		return n.not
	}
	return nil
}

func (ev *evaluator) binary(n *binExpr, row []any) any {
	switch n.op {
	case "and":
		l, lok := truth(ev.eval(n.l, row))
		if lok && !l {
			return false
		}
		r, rok := truth(ev.eval(n.r, row))
		if rok && !r {
			return false
		}
		if lok && rok {
			return true
		}
		return nil
	case "or":
		l, lok := truth(ev.eval(n.l, row))
		if lok && l {
			return true
		}
		r, rok := truth(ev.eval(n.r, row))
		if rok && r {
			return true
		}
		if lok && rok {
			return false
		}
		return nil
	}
	l, r := ev.eval(n.l, row), ev.eval(n.r, row)
	if l == nil || r == nil {
		return nil
	}
	switch n.op {
	case "=", "<>", "<", "<=", ">", ">=":
		c, ok := compare(l, r)
		if !ok {
			return nil
		}
		switch n.op {
		case "=":
			return c == 0
		case "<>":
			return c != 0
		case "<":
			return c < 0
		case "<=":
			return c <= 0
		case ">":
			return c > 0
		}
		return c >= 0
	case "||":
		return formatValue(l) + formatValue(r)
	}
	li, lInt := asInt64(l)
	ri, rInt := asInt64(r)
	if lInt && rInt && n.op != "/" {
		switch n.op {
		case "+":
			return li + ri
		case "-":
			return li - ri
		case "*":
			return li * ri
		case "%":
			if ri == 0 {
				return nil
			}
			return li % ri
		}
	}
	lf, ok1 := toFloat(l)
	rf, ok2 := toFloat(r)
	if !ok1 || !ok2 {
		return nil
	}
	switch n.op {
	case "+":
		return lf + rf
	case "-":
		return lf - rf
	case "*":
		return lf * rf
	case "/":
		if rf == 0 {
			return nil
		}
		return lf / rf
	case "%":
		if rf == 0 {
			return nil
		}
		return math.Mod(lf, rf)
	}
	return nil
}

func (ev *evaluator) call(n *callExpr, row []any) any {
	args := make([]any, len(n.args))
	for i, a := range n.args {
		args[i] = ev.eval(a, row)
	}
	switch n.name {
	case "hash":
		return hashArgs(args)
	case "crc32":
		return crc32Value(args[0])
	case "concat_ws":
		if len(args) == 0 || args[0] == nil {
			return nil
		}
		parts := make([]string, 0, len(args)-1)
		for _, a := range args[1:] {
			if a != nil {
				parts = append(parts, formatValue(a))
			}
		}
		return strings.Join(parts, formatValue(args[0]))
	case "concat":
		var b strings.Builder
		for _, a := range args {
			if a == nil {
				return nil
			}
			b.WriteString(formatValue(a))
		}
		return b.String()
	case "coalesce", "nvl":
		for _, a := range args {
			if a != nil {
				return a
			}
		}
		return nil
	case "lower", "upper", "trim", "length", "md5":
		if args[0] == nil {
			return nil
		}
		s := formatValue(args[0])
		switch n.name {
		case "lower":
			return strings.ToLower(s)
		case "upper":
			return strings.ToUpper(s)
		case "trim":
			return strings.TrimSpace(s)
		case "md5":
			sum := md5.Sum([]byte(s))
			return hex.EncodeToString(sum[:])
		}
		return int32(len([]rune(s)))
	case "abs":
		switch x := args[0].(type) {
		case int32:
			if x < 0 {
				return -x
			}
			return x
		case int64:
			if x < 0 {
				return -x
			}
			return x
		}
		if f, ok := toFloat(args[0]); ok && args[0] != nil {
			return math.Abs(f)
		}
		return nil
	case "if":
		if b, ok := truth(args[0]); ok && b {
			return args[1]
		}
		return args[2]
	}
	return nil
}

// typeOf is the HiveServer2 type of an expression's result.
func typeOf(e expr, sc *scope) string {
	switch n := e.(type) {
	case *litExpr:
		return valueType(n.v)
	case *colExpr:
		return hs2Type(sc.types[n.idx])
	case *callExpr:
		switch n.name {
		case "count", "crc32":
			return "BIGINT"
		case "hash", "length":
			return "INT"
		case "sum":
			if t := typeOf(n.args[0], sc); t == "INT" || t == "BIGINT" || t == "SMALLINT" || t == "TINYINT" {
				return "BIGINT"
			}
			return "DOUBLE"
		case "avg":
			return "DOUBLE"
		case "min", "max", "abs":
			return typeOf(n.args[0], sc)
		case "coalesce", "nvl", "if":
			if n.name == "if" {
				return typeOf(n.args[1], sc)
			}
			return typeOf(n.args[0], sc)
		}
		return "STRING"
	case *binExpr:
		switch n.op {
		case "and", "or", "=", "<>", "<", "<=", ">", ">=":
			return "BOOLEAN"
		case "||":
			return "STRING"
		case "/":
			return "DOUBLE"
		}
		l, r := typeOf(n.l, sc), typeOf(n.r, sc)
		if l == "DOUBLE" || r == "DOUBLE" || l == "STRING" || r == "STRING" {
			return "DOUBLE"
		}
		if l == "INT" && r == "INT" {
			return "INT"
		}
		return "BIGINT"
	case *notExpr, *isNullExpr, *inExpr:
		return "BOOLEAN"
	case *negExpr:
		return typeOf(n.e, sc)
	case *castExpr:
		return hs2Type(n.typ)
	}
	return "STRING"
}

func valueType(v any) string {
	switch v.(type) {
	case int32:
		return "INT"
	case int64:
		return "BIGINT"
	case float64:
		return "DOUBLE"
	case bool:
		return "BOOLEAN"
	case hiveDate:
		return "DATE"
	case nil:
		return "VOID"
	}
	return "STRING"
}

// hs2Type maps a column type to its HiveServer2 type name.
func hs2Type(t string) string {
	switch baseType(t) {
	case "int":
		return "INT"
	case "bigint":
		return "BIGINT"
	case "smallint":
		return "SMALLINT"
	case "tinyint":
		return "TINYINT"
	case "double", "float":
		return "DOUBLE"
	case "decimal":
		return "DECIMAL"
	case "boolean":
		return "BOOLEAN"
	case "date":
		return "DATE"
	case "timestamp":
		return "TIMESTAMP"
	case "varchar":
		return "VARCHAR"
	case "char":
		return "CHAR"
	}
	return "STRING"
}

// resultValue converts an evaluated value to the types Result promises.
func resultValue(v any) any {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case hiveDate:
		return x.String()
	}
	return v
}
