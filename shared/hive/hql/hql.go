// Package hql builds the HiveQL statements hivemerge sends to Hive. It is the only place SQL text
// is made: identifiers are whitelisted and backticked, values become typed, escaped literals, and
// user text that Hive would expand or reinterpret is refused rather than passed through.
//
// Every builder returns (string, error); an error means the input was refused and no statement
// must be sent. Errors wrap merge.ErrInvalid.
//
// Hive facts the builders rely on:
//   - String literals use backslash escapes; a doubled quote is not an escape (adjacent literals
//     concatenate).
//     Hive's unescaper turns "\0" followed by two octal digits into a byte, so NUL is refused
//     instead of escaped.
//   - hive.variable.substitute is on by default and expands ${...} even inside literals, so "${"
//     is refused anywhere in user text (sessions also turn substitution off).
//   - Partition values inside PARTITION (...) must be constants without a sign, so negative
//     numbers are written as quoted strings there; Hive converts them to the column's type.
//   - The NULL partition is named DefaultPartition; in PARTITION (...) it is written as that
//     string for every column type, in WHERE clauses as "col IS NULL".
package hql

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// DefaultPartition is the value Hive stores for a NULL partition key
// (hive.exec.default.partition.name).
const DefaultPartition = "__HIVE_DEFAULT_PARTITION__"

// maxValueLen bounds partition values and literals; Hive's metastore stores partition names in
// columns of a few thousand characters at most.
const maxValueLen = 4000

var (
	setKeyRE  = regexp.MustCompile(`^[A-Za-z0-9_]+([.\-][A-Za-z0-9_]+)*$`)
	setValRE  = regexp.MustCompile(`^[A-Za-z0-9_.,:/+=@%\-]+( [A-Za-z0-9_.,:/+=@%\-]+)*$`)
	intRE     = regexp.MustCompile(`^-?[0-9]+$`)
	decimalRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	dateRE    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	tsRE      = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?$`)
	locRE     = regexp.MustCompile(`^(hdfs|gs|file|viewfs|s3a):/[A-Za-z0-9._\-/:=%+@~, ]*$`)
)

func invalid(format string, args ...any) error {
	return merge.Errorf(merge.ErrInvalid, "hql: "+format, args...)
}

// Ident returns name as a backticked identifier. Only ASCII letters, digits and underscores are
// accepted, which also keeps names safe inside backticks and as LIKE patterns.
func Ident(name string) (string, error) {
	if err := checkIdent(name); err != nil {
		return "", err
	}
	return "`" + name + "`", nil
}

// checkIdent is the domain's identifier rule (merge.CheckIdentifier): a name a request passed
// is one a statement accepts.
func checkIdent(name string) error {
	if err := merge.CheckIdentifier("identifier", name); err != nil {
		return fmt.Errorf("hql: %w", err)
	}
	return nil
}

// Table names a table. Database is required: pooled sessions share no current database, so
// every statement names it.
type Table struct {
	Database string
	Name     string
}

func (t Table) String() string { return t.Database + "." + t.Name }

func (t Table) sql() (string, error) {
	db, err := Ident(t.Database)
	if err != nil {
		return "", fmt.Errorf("database: %w", err)
	}
	name, err := Ident(t.Name)
	if err != nil {
		return "", fmt.Errorf("table: %w", err)
	}
	return db + "." + name, nil
}

// Literal returns s as a single-quoted Hive string literal. Backslash, quotes, newline, carriage
// return and tab are backslash-escaped; other control characters (NUL included), invalid UTF-8
// and "${" are refused.
func Literal(s string) (string, error) {
	if err := checkText(s, true); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String(), nil
}

// checkText refuses what must never reach Hive in user text. allowWhitespaceControls lets \n,
// \r and \t through (Literal escapes them).
func checkText(s string, allowWhitespaceControls bool) error {
	if len(s) > maxValueLen {
		return invalid("value longer than %d bytes", maxValueLen)
	}
	if !utf8.ValidString(s) {
		return invalid("value is not valid UTF-8")
	}
	if strings.Contains(s, "${") {
		return invalid("value contains \"${\", which Hive would substitute")
	}
	for _, r := range s {
		if allowWhitespaceControls && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return invalid("value contains control character %U", r)
		}
	}
	return nil
}

// Location returns loc as a string literal after checking that it is a filesystem URI Hive can
// use as a table or partition location: scheme hdfs, gs, file, viewfs or s3a, and only
// characters that appear in warehouse paths (no quotes, backslashes or control characters).
func Location(loc string) (string, error) {
	if len(loc) > maxValueLen {
		return "", invalid("location longer than %d bytes", maxValueLen)
	}
	if !locRE.MatchString(loc) || strings.HasSuffix(loc, " ") || strings.Contains(loc, "/../") || strings.HasSuffix(loc, "/..") {
		return "", invalid("location %q is not an hdfs, gs, file, viewfs or s3a path with plain characters", loc)
	}
	return Literal(loc)
}

// Column is a table column as DESCRIBE reports it.
type Column struct {
	Name string
	Type string
}

// colKind is how a partition column's values are written.
type colKind int

const (
	kindString colKind = iota
	kindDate
	kindTimestamp
	kindInt
	kindDecimal
	kindBool
)

var intBits = map[string]int{"tinyint": 8, "smallint": 16, "int": 32, "integer": 32, "bigint": 64}

func kindOf(typ string) (colKind, int, error) {
	base := strings.ToLower(strings.TrimSpace(typ))
	if i := strings.IndexByte(base, '('); i >= 0 {
		base = strings.TrimSpace(base[:i])
	}
	switch base {
	case "string", "varchar", "char":
		return kindString, 0, nil
	case "date":
		return kindDate, 0, nil
	case "timestamp":
		return kindTimestamp, 0, nil
	case "decimal", "numeric":
		return kindDecimal, 0, nil
	case "boolean":
		return kindBool, 0, nil
	}
	if bits, ok := intBits[base]; ok {
		return kindInt, bits, nil
	}
	return 0, 0, invalid("unsupported partition column type %q", typ)
}

// Spec is a validated partition specification: the table's partition columns in order, and a
// value for some or all of them. The zero Spec belongs to an unpartitioned table.
type Spec struct {
	cols  []Column
	kinds []colKind
	vals  []string // normalised values; "" = not given
	set   []bool
}

// NewSpec validates values against the table's partition columns (names matched
// case-insensitively, as Hive does) and orders them as the table declares its partition keys.
// values may name any subset of the columns; statements that need a full specification check it.
func NewSpec(partCols []Column, values map[string]string) (Spec, error) {
	s := Spec{
		cols:  make([]Column, len(partCols)),
		kinds: make([]colKind, len(partCols)),
		vals:  make([]string, len(partCols)),
		set:   make([]bool, len(partCols)),
	}
	index := make(map[string]int, len(partCols))
	for i, c := range partCols {
		if err := checkIdent(c.Name); err != nil {
			return Spec{}, fmt.Errorf("partition column: %w", err)
		}
		k, _, err := kindOf(c.Type)
		if err != nil {
			return Spec{}, fmt.Errorf("partition column %s: %w", c.Name, err)
		}
		lower := strings.ToLower(c.Name)
		if _, dup := index[lower]; dup {
			return Spec{}, invalid("partition column %s declared twice", c.Name)
		}
		index[lower] = i
		s.cols[i] = c
		s.kinds[i] = k
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error messages
	for _, k := range keys {
		i, ok := index[strings.ToLower(k)]
		if !ok {
			if checkIdent(k) != nil {
				return Spec{}, invalid("partition key %q is not a valid identifier", k)
			}
			return Spec{}, invalid("%s is not a partition column", k)
		}
		if s.set[i] {
			return Spec{}, invalid("partition column %s given twice", s.cols[i].Name)
		}
		v, err := normalise(s.cols[i], s.kinds[i], values[k])
		if err != nil {
			return Spec{}, err
		}
		s.vals[i], s.set[i] = v, true
	}
	return s, nil
}

func normalise(c Column, k colKind, v string) (string, error) {
	if v == "" {
		return "", invalid("partition %s: empty value (Hive stores NULL as %s)", c.Name, DefaultPartition)
	}
	if err := checkText(v, false); err != nil {
		return "", fmt.Errorf("partition %s: %w", c.Name, err)
	}
	if v == DefaultPartition {
		return v, nil
	}
	switch k {
	case kindString:
		return v, nil
	case kindDate:
		if !dateRE.MatchString(v) {
			return "", invalid("partition %s: %q is not a date (YYYY-MM-DD)", c.Name, v)
		}
		if _, err := time.Parse("2006-01-02", v); err != nil {
			return "", invalid("partition %s: %q is not a valid date", c.Name, v)
		}
		return v, nil
	case kindTimestamp:
		if !tsRE.MatchString(v) {
			return "", invalid("partition %s: %q is not a timestamp (YYYY-MM-DD HH:MM:SS[.fffffffff])", c.Name, v)
		}
		if _, err := time.Parse("2006-01-02 15:04:05", v[:19]); err != nil {
			return "", invalid("partition %s: %q is not a valid timestamp", c.Name, v)
		}
		return v, nil
	case kindInt:
		_, bits, _ := kindOf(c.Type)
		if !intRE.MatchString(v) {
			return "", invalid("partition %s: %q is not an integer", c.Name, v)
		}
		n, err := strconv.ParseInt(v, 10, bits)
		if err != nil {
			return "", invalid("partition %s: %q is out of range for %s", c.Name, v, c.Type)
		}
		return strconv.FormatInt(n, 10), nil
	case kindDecimal:
		if !decimalRE.MatchString(v) {
			return "", invalid("partition %s: %q is not a decimal number", c.Name, v)
		}
		return v, nil
	case kindBool:
		switch strings.ToLower(v) {
		case "true", "false":
			return strings.ToLower(v), nil
		}
		return "", invalid("partition %s: %q is not true or false", c.Name, v)
	}
	return "", invalid("partition %s: unsupported type %s", c.Name, c.Type)
}

// Partitioned reports whether the table has partition columns.
func (s Spec) Partitioned() bool { return len(s.cols) > 0 }

// Empty reports whether no partition value is given.
func (s Spec) Empty() bool {
	for _, set := range s.set {
		if set {
			return false
		}
	}
	return true
}

// Full reports whether every partition column has a value.
func (s Spec) Full() bool {
	for _, set := range s.set {
		if !set {
			return false
		}
	}
	return true
}

// Columns returns the table's partition columns in order.
func (s Spec) Columns() []Column { return append([]Column(nil), s.cols...) }

// Values returns the given values by column name (as the table spells it).
func (s Spec) Values() map[string]string {
	m := make(map[string]string)
	for i, c := range s.cols {
		if s.set[i] {
			m[c.Name] = s.vals[i]
		}
	}
	return m
}

// String renders the spec as Hive names partitions, unescaped: ds=2024-01-01/hr=0.
func (s Spec) String() string {
	var parts []string
	for i, c := range s.cols {
		if s.set[i] {
			parts = append(parts, c.Name+"="+s.vals[i])
		}
	}
	return strings.Join(parts, "/")
}

// partValue is the constant written for column i inside PARTITION (...).
func (s Spec) partValue(i int) (string, error) {
	v := s.vals[i]
	if v == DefaultPartition {
		return Literal(v)
	}
	switch s.kinds[i] {
	case kindInt, kindDecimal:
		if strings.HasPrefix(v, "-") {
			return Literal(v)
		}
		return v, nil
	case kindBool:
		return v, nil
	}
	return Literal(v)
}

// predicate is the WHERE condition selecting column i's value.
func (s Spec) predicate(i int) (string, error) {
	col, err := Ident(s.cols[i].Name)
	if err != nil {
		return "", err
	}
	v := s.vals[i]
	if v == DefaultPartition {
		return col + " IS NULL", nil
	}
	switch s.kinds[i] {
	case kindInt, kindDecimal, kindBool:
		return col + " = " + v, nil
	}
	lit, err := Literal(v)
	if err != nil {
		return "", err
	}
	return col + " = " + lit, nil
}

// clause renders " PARTITION (k=v, ...)" for the given values; dynamic lists the columns
// without a value too (for INSERT and ANALYZE). It returns "" when there is nothing to write.
func (s Spec) clause(dynamic bool) (string, error) {
	var parts []string
	for i, c := range s.cols {
		name, err := Ident(c.Name)
		if err != nil {
			return "", err
		}
		switch {
		case s.set[i]:
			v, err := s.partValue(i)
			if err != nil {
				return "", err
			}
			parts = append(parts, name+"="+v)
		case dynamic:
			parts = append(parts, name)
		}
	}
	if len(parts) == 0 {
		return "", nil
	}
	return " PARTITION (" + strings.Join(parts, ", ") + ")", nil
}

// where renders " WHERE a AND b" for the given values, or "".
func (s Spec) where() (string, error) {
	var preds []string
	for i := range s.cols {
		if !s.set[i] {
			continue
		}
		p, err := s.predicate(i)
		if err != nil {
			return "", err
		}
		preds = append(preds, p)
	}
	if len(preds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(preds, " AND "), nil
}

// fullOrNone returns the PARTITION clause of a statement that addresses either the whole table
// or exactly one partition.
func (s Spec) fullOrNone(what string) (string, error) {
	if s.Empty() {
		return "", nil
	}
	if !s.Full() {
		return "", invalid("%s needs a value for every partition column (%s)", what, s.names())
	}
	return s.clause(false)
}

// onePartition returns the PARTITION clause of a statement that must address one partition of a
// partitioned table (or the table itself when it is not partitioned).
func (s Spec) onePartition(what string) (string, error) {
	if s.Partitioned() && !s.Full() {
		return "", invalid("%s of a partitioned table needs a value for every partition column (%s)", what, s.names())
	}
	return s.clause(false)
}

func (s Spec) names() string {
	var n []string
	for _, c := range s.cols {
		n = append(n, c.Name)
	}
	return strings.Join(n, ", ")
}

// finish is the last check on every statement: the builders cannot produce "${" from valid
// input, but a statement that contains it must never be sent with substitution possibly on.
func finish(stmt string) (string, error) {
	if strings.Contains(stmt, "${") {
		return "", invalid("statement would contain \"${\"")
	}
	return stmt, nil
}
