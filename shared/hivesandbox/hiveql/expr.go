package hiveql

import (
	"fmt"
	"hash/crc32"
	"math"
	"strconv"
	"strings"
	"time"
)

// Values during evaluation are nil (NULL), string, int32 (INT, SMALLINT, TINYINT), int64
// (BIGINT), float64 (DOUBLE, FLOAT, DECIMAL), bool or hiveDate. Keeping INT and BIGINT apart
// matters for HASH(), which Hive computes differently for the two.
type hiveDate struct{ y, m, d int }

func (d hiveDate) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.y, d.m, d.d) }

func parseDate(s string) (hiveDate, bool) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return hiveDate{}, false
	}
	return hiveDate{t.Year(), int(t.Month()), t.Day()}, true
}

// expr is an expression node.
type expr interface{}

type litExpr struct{ v any }

type colExpr struct {
	tok  token
	name string
	idx  int // position in the row, set by bind
}

type starExpr struct{ tok token }

type callExpr struct {
	tok      token
	name     string // lower case
	args     []expr
	star     bool // COUNT(*)
	distinct bool
}

type binExpr struct {
	op   string // = <> < <= > >= and or + - * / % ||
	l, r expr
}

type notExpr struct{ e expr }

type negExpr struct{ e expr }

type inExpr struct {
	e    expr
	list []expr
	not  bool
}

type isNullExpr struct {
	e   expr
	not bool
}

type castExpr struct {
	e   expr
	typ string
}

// aggregates are the aggregate functions the sandbox evaluates.
var aggregates = map[string]bool{"count": true, "sum": true, "min": true, "max": true, "avg": true}

// scalarFuncs are the scalar functions the sandbox evaluates, with their argument counts
// (-1: any number of arguments).
var scalarFuncs = map[string]int{
	"hash": -1, "crc32": 1, "concat_ws": -1, "concat": -1, "coalesce": -1, "nvl": 2,
	"lower": 1, "upper": 1, "length": 1, "trim": 1, "abs": 1, "if": 3, "md5": 1,
}

// expression parsing, by precedence: OR < AND < NOT < comparison/IN/IS < + - || < * / % < unary.
func (p *parser) expr() (expr, error) { return p.orExpr() }

func (p *parser) orExpr() (expr, error) {
	l, err := p.andExpr()
	if err != nil {
		return nil, err
	}
	for p.accept("or") {
		r, err := p.andExpr()
		if err != nil {
			return nil, err
		}
		l = &binExpr{op: "or", l: l, r: r}
	}
	return l, nil
}

func (p *parser) andExpr() (expr, error) {
	l, err := p.notExpr()
	if err != nil {
		return nil, err
	}
	for p.accept("and") {
		r, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		l = &binExpr{op: "and", l: l, r: r}
	}
	return l, nil
}

func (p *parser) notExpr() (expr, error) {
	if p.accept("not") || p.accept("!") {
		e, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		return &notExpr{e}, nil
	}
	return p.cmpExpr()
}

func (p *parser) cmpExpr() (expr, error) {
	l, err := p.addExpr()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.kind == tokSymbol && (t.text == "=" || t.text == "==" || t.text == "<>" || t.text == "!=" ||
			t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">="):
			p.next()
			r, err := p.addExpr()
			if err != nil {
				return nil, err
			}
			op := t.text
			switch op {
			case "==":
				op = "="
			case "!=":
				op = "<>"
			}
			l = &binExpr{op: op, l: l, r: r}
		case t.is("is"):
			p.next()
			not := p.accept("not")
			if err := p.expect("null"); err != nil {
				return nil, err
			}
			l = &isNullExpr{e: l, not: not}
		case t.is("in") || t.is("not") && p.peekAt(1).is("in"):
			not := p.accept("not")
			p.next()
			if err := p.expect("("); err != nil {
				return nil, err
			}
			in := &inExpr{e: l, not: not}
			for {
				e, err := p.expr()
				if err != nil {
					return nil, err
				}
				in.list = append(in.list, e)
				if !p.accept(",") {
					break
				}
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			l = in
		case t.is("between") || t.is("not") && p.peekAt(1).is("between"):
			not := p.accept("not")
			p.next()
			lo, err := p.addExpr()
			if err != nil {
				return nil, err
			}
			if err := p.expect("and"); err != nil {
				return nil, err
			}
			hi, err := p.addExpr()
			if err != nil {
				return nil, err
			}
			var e expr = &binExpr{op: "and", l: &binExpr{op: ">=", l: l, r: lo}, r: &binExpr{op: "<=", l: l, r: hi}}
			if not {
				e = &notExpr{e}
			}
			l = e
		default:
			return l, nil
		}
	}
}

func (p *parser) addExpr() (expr, error) {
	l, err := p.mulExpr()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tokSymbol || t.text != "+" && t.text != "-" && t.text != "||" {
			return l, nil
		}
		p.next()
		r, err := p.mulExpr()
		if err != nil {
			return nil, err
		}
		l = &binExpr{op: t.text, l: l, r: r}
	}
}

func (p *parser) mulExpr() (expr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tokSymbol || t.text != "*" && t.text != "/" && t.text != "%" {
			return l, nil
		}
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &binExpr{op: t.text, l: l, r: r}
	}
}

func (p *parser) unary() (expr, error) {
	if p.accept("-") {
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		if l, ok := e.(*litExpr); ok {
			switch v := l.v.(type) {
			case int32:
				return &litExpr{-v}, nil
			case int64:
				return &litExpr{-v}, nil
			case float64:
				return &litExpr{-v}, nil
			}
		}
		return &negExpr{e}, nil
	}
	p.accept("+")
	return p.primary()
}

func (p *parser) primary() (expr, error) {
	t := p.peek()
	switch {
	case t.kind == tokString:
		// Adjacent string literals concatenate, as in Hive.
		var b strings.Builder
		for p.peek().kind == tokString {
			b.WriteString(p.next().text)
		}
		return &litExpr{b.String()}, nil
	case t.kind == tokNumber:
		p.next()
		return &litExpr{numberLiteral(t.text)}, nil
	case t.kind == tokIdent && isNumberSuffixed(t.text):
		p.next()
		return &litExpr{numberLiteral(t.text)}, nil
	case t.is("null"):
		p.next()
		return &litExpr{nil}, nil
	case t.is("true"), t.is("false"):
		p.next()
		return &litExpr{strings.EqualFold(t.text, "true")}, nil
	case t.is("date") && p.peekAt(1).kind == tokString:
		p.next()
		s := p.next()
		d, ok := parseDate(s.text)
		if !ok {
			return nil, semanticErrorAt("42000", 10029, s, "Invalid date literal "+s.raw)
		}
		return &litExpr{d}, nil
	case t.is("("):
		p.next()
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		return e, p.expect(")")
	case t.is("*"):
		p.next()
		return &starExpr{tok: t}, nil
	case t.is("cast") && p.peekAt(1).is("("):
		p.next()
		p.next()
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.expect("as"); err != nil {
			return nil, err
		}
		typ, err := p.typeName()
		if err != nil {
			return nil, err
		}
		return &castExpr{e: e, typ: typ}, p.expect(")")
	case t.isName():
		if t.kind == tokIdent && reserved[strings.ToUpper(t.text)] {
			return nil, p.fail("")
		}
		p.next()
		if p.peek().is("(") && t.kind == tokIdent {
			p.next()
			call := &callExpr{tok: t, name: strings.ToLower(t.text)}
			if p.accept(")") {
				return call, nil
			}
			if p.accept("distinct") {
				call.distinct = true
			}
			for {
				e, err := p.expr()
				if err != nil {
					return nil, err
				}
				if _, ok := e.(*starExpr); ok {
					call.star = true
				}
				call.args = append(call.args, e)
				if !p.accept(",") {
					break
				}
			}
			return call, p.expect(")")
		}
		name := strings.ToLower(t.text)
		// A qualified reference alias.col: the sandbox has one table per query, so the
		// qualifier only has to be the table name or its alias; it is checked by bind.
		if p.peek().is(".") && p.peekAt(1).isName() {
			p.next()
			c := p.next()
			return &colExpr{tok: c, name: strings.ToLower(c.text), idx: -1}, nil
		}
		return &colExpr{tok: t, name: name, idx: -1}, nil
	}
	return nil, p.fail("")
}

func isNumberSuffixed(s string) bool {
	if len(s) < 2 || s[0] < '0' || s[0] > '9' {
		return false
	}
	u := strings.ToUpper(s)
	for _, suf := range []string{"BD", "L", "Y", "S", "D"} {
		if strings.HasSuffix(u, suf) {
			_, err := strconv.ParseFloat(u[:len(u)-len(suf)], 64)
			return err == nil
		}
	}
	return false
}

func numberLiteral(s string) any {
	u := strings.ToUpper(s)
	switch {
	case strings.HasSuffix(u, "BD"), strings.HasSuffix(u, "D"):
		f, _ := strconv.ParseFloat(strings.TrimRight(u, "BD"), 64)
		return f
	case strings.HasSuffix(u, "L"):
		n, _ := strconv.ParseInt(u[:len(u)-1], 10, 64)
		return n
	case strings.HasSuffix(u, "Y"), strings.HasSuffix(u, "S"):
		n, _ := strconv.ParseInt(u[:len(u)-1], 10, 32)
		return int32(n)
	}
	if strings.Contains(s, ".") {
		f, _ := strconv.ParseFloat(s, 64)
		return f
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, _ := strconv.ParseFloat(s, 64)
		return f
	}
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		return int32(n)
	}
	return n
}

// typeName reads a column type such as int, decimal(10,2), varchar(20).
func (p *parser) typeName() (string, error) {
	t := p.peek()
	if t.kind != tokIdent {
		return "", p.fail("column type")
	}
	p.next()
	name := strings.ToLower(t.text)
	switch name {
	case "string", "int", "integer", "bigint", "smallint", "tinyint", "double", "float", "boolean",
		"date", "timestamp", "binary", "decimal", "varchar", "char", "numeric":
	default:
		return "", parseError(t, p.toks[p.pos:], "column type")
	}
	if name == "integer" {
		name = "int"
	}
	if name == "numeric" {
		name = "decimal"
	}
	if p.accept("(") {
		var args []string
		for {
			n := p.next()
			if n.kind != tokNumber {
				return "", parseError(n, p.toks[p.pos:], "column type")
			}
			args = append(args, n.text)
			if !p.accept(",") {
				break
			}
		}
		if err := p.expect(")"); err != nil {
			return "", err
		}
		name += "(" + strings.Join(args, ",") + ")"
	}
	if name == "double" && p.accept("precision") {
		return name, nil
	}
	return name, nil
}

// baseType strips parameters: varchar(10) -> varchar.
func baseType(t string) string {
	if i := strings.IndexByte(t, '('); i >= 0 {
		return t[:i]
	}
	return t
}

// parseValue converts a field read from a data file to a typed value; like LazySimpleSerDe,
// \N and unparsable numbers are NULL.
func parseValue(s, typ string) any {
	if s == `\N` {
		return nil
	}
	switch baseType(typ) {
	case "int", "smallint", "tinyint":
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil
		}
		return int32(n)
	case "bigint":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil
		}
		return n
	case "double", "float", "decimal":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil
		}
		return f
	case "boolean":
		switch strings.ToLower(s) {
		case "true":
			return true
		case "false":
			return false
		}
		return nil
	case "date":
		d, ok := parseDate(s)
		if !ok {
			return nil
		}
		return d
	}
	return s
}

// formatValue renders a value the way LazySimpleSerDe writes it.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return `\N`
	case string:
		return x
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return formatDouble(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	case hiveDate:
		return x.String()
	}
	return fmt.Sprint(v)
}

// formatDouble prints like Java's Double.toString for the common cases.
func formatDouble(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e7 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// castValue converts v to a Hive type as CAST does; failures give NULL.
func castValue(v any, typ string) any {
	if v == nil {
		return nil
	}
	switch baseType(typ) {
	case "string", "varchar", "char":
		return formatValue(v)
	case "int", "smallint", "tinyint":
		switch x := v.(type) {
		case int32:
			return x
		case int64:
			return int32(x)
		case float64:
			return int32(x)
		case bool:
			if x {
				return int32(1)
			}
			return int32(0)
		}
		return parseValue(strings.TrimSpace(formatValue(v)), "int")
	case "bigint":
		switch x := v.(type) {
		case int32:
			return int64(x)
		case int64:
			return x
		case float64:
			return int64(x)
		}
		return parseValue(strings.TrimSpace(formatValue(v)), "bigint")
	case "double", "float", "decimal":
		if f, ok := toFloat(v); ok {
			return f
		}
		return nil
	case "boolean":
		if b, ok := v.(bool); ok {
			return b
		}
		return parseValue(formatValue(v), "boolean")
	case "date":
		if d, ok := v.(hiveDate); ok {
			return d
		}
		return parseValue(formatValue(v), "date")
	}
	return formatValue(v)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// compare orders two non-NULL values with Hive's implicit conversions: strings compare with
// numbers as doubles and with dates as dates. ok is false when they are incomparable.
func compare(a, b any) (int, bool) {
	switch x := a.(type) {
	case string:
		switch y := b.(type) {
		case string:
			return strings.Compare(x, y), true
		case hiveDate:
			d, ok := parseDate(x)
			if !ok {
				return 0, false
			}
			return strings.Compare(d.String(), y.String()), true
		}
	case hiveDate:
		switch y := b.(type) {
		case hiveDate:
			return strings.Compare(x.String(), y.String()), true
		case string:
			d, ok := parseDate(y)
			if !ok {
				return 0, false
			}
			return strings.Compare(x.String(), d.String()), true
		}
		return 0, false
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0, true
			case !x:
				return -1, true
			}
			return 1, true
		}
	}
	if xi, ok := asInt64(a); ok {
		if yi, ok := asInt64(b); ok {
			switch {
			case xi < yi:
				return -1, true
			case xi > yi:
				return 1, true
			}
			return 0, true
		}
	}
	fa, ok1 := toFloat(a)
	fb, ok2 := toFloat(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	switch {
	case fa < fb:
		return -1, true
	case fa > fb:
		return 1, true
	}
	return 0, true
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// hiveHash is ObjectInspectorUtils.hashCode: Java's hashCode of each Hive writable.
func hiveHash(v any) int32 {
	switch x := v.(type) {
	case nil:
		return 0
	case string:
		// Hive hashes the UTF-8 bytes (signed) like String.hashCode, starting from 0.
		var h int32
		for i := 0; i < len(x); i++ {
			h = 31*h + int32(int8(x[i]))
		}
		return h
	case int32:
		return x
	case int64:
		return int32(x ^ int64(uint64(x)>>32))
	case float64:
		bits := int64(math.Float64bits(x))
		return int32(bits ^ int64(uint64(bits)>>32))
	case bool:
		if x {
			return 1
		}
		return 0
	case hiveDate:
		// Hive 3's DateWritableV2 hashes like java.time.LocalDate.
		y := int32(x.y)
		return (y & -2048) ^ ((y << 11) + int32(x.m)<<6 + int32(x.d))
	}
	return hiveHash(formatValue(v))
}

// hashArgs is GenericUDFHash: r = 31*r + hash(arg) over the arguments.
func hashArgs(vals []any) int32 {
	var r int32
	for _, v := range vals {
		r = 31*r + hiveHash(v)
	}
	return r
}

func crc32Value(v any) any {
	if v == nil {
		return nil
	}
	return int64(crc32.ChecksumIEEE([]byte(formatValue(v))))
}
