package hive

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

// The parsers in this package are pure functions of the rows a statement returned (cells as
// strings, SQL NULL as ""), so they run on Hive's own golden outputs as well as on live
// results. Malformed output is an error naming the 1-based row, never a panic.

// qtestMask is what Apache Hive's test harness writes in place of volatile output lines (owner,
// times, locations). It is not Hive output, but tolerating it lets the parsers run on Hive's
// golden test results.
const qtestMask = "#### A masked pattern was here ####"

// ParseError reports output that does not have the expected shape.
type ParseError struct {
	What string // which output: "DESCRIBE FORMATTED", "SHOW PARTITIONS", ...
	Line int    // 1-based row; 0 when the problem is not one row
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("hive: parse %s output: line %d: %s", e.What, e.Line, e.Msg)
	}
	return fmt.Sprintf("hive: parse %s output: %s", e.What, e.Msg)
}

func parseErr(what string, line int, format string, args ...any) error {
	return &ParseError{What: what, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// cell returns row[i] without Hive's padding; missing cells are empty.
func cell(row []string, i int) string {
	if i < len(row) {
		return strings.TrimSpace(row[i])
	}
	return ""
}

func blank(row []string) bool {
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func masked(row []string) bool { return cell(row, 0) == qtestMask && blank(row[1:]) }

// statInt parses a metastore statistic; missing, negative (Hive's "unknown") or non-numeric
// values give nil.
func statInt(params map[string]string, key string) *int64 {
	v, ok := params[key]
	if !ok {
		return nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return nil
	}
	return &n
}

// unescapeJava reverses the escapeJava that DESCRIBE FORMATTED applies to parameter values
// (\" \\ \n \t \r \b \f \uXXXX and octal escapes). Unknown escapes are kept as they are.
func unescapeJava(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r != '\\' || i+1 == len(rs) {
			b.WriteRune(r)
			continue
		}
		n := rs[i+1]
		switch n {
		case '\\', '"', '\'':
			b.WriteRune(n)
			i++
		case 'n':
			b.WriteByte('\n')
			i++
		case 't':
			b.WriteByte('\t')
			i++
		case 'r':
			b.WriteByte('\r')
			i++
		case 'b':
			b.WriteByte('\b')
			i++
		case 'f':
			b.WriteByte('\f')
			i++
		case 'u':
			if u, ok := hex4(rs, i+2); ok {
				i += 5
				if utf16.IsSurrogate(rune(u)) {
					if lo, ok := hex4(rs, i+3); ok && i+2 < len(rs) && rs[i+1] == '\\' && rs[i+2] == 'u' {
						if d := utf16.DecodeRune(rune(u), rune(lo)); d != 0xFFFD {
							b.WriteRune(d)
							i += 6
							continue
						}
					}
				}
				b.WriteRune(rune(u))
				continue
			}
			b.WriteRune(r)
		default:
			if n >= '0' && n <= '7' {
				v, j := 0, i+1
				for j < len(rs) && j < i+4 && rs[j] >= '0' && rs[j] <= '7' && v*8+int(rs[j]-'0') <= 0377 {
					v = v*8 + int(rs[j]-'0')
					j++
				}
				b.WriteRune(rune(v))
				i = j - 1
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

func hex4(rs []rune, at int) (int, bool) {
	if at+4 > len(rs) {
		return 0, false
	}
	v := 0
	for _, r := range rs[at : at+4] {
		var d int
		switch {
		case r >= '0' && r <= '9':
			d = int(r - '0')
		case r >= 'a' && r <= 'f':
			d = int(r-'a') + 10
		case r >= 'A' && r <= 'F':
			d = int(r-'A') + 10
		default:
			return 0, false
		}
		v = v<<4 | d
	}
	return v, true
}

// splitList parses Hive's rendering of a Java list, "[a, b]", into its elements.
func splitList(s string) ([]string, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, false
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	if s == "" {
		return []string{}, true
	}
	parts := splitTopLevel(s, ',')
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts, true
}

// splitTopLevel splits s at sep outside parentheses, brackets and angle brackets.
func splitTopLevel(s string, sep rune) []string {
	var parts []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(', '[', '<', '{':
			depth++
		case ')', ']', '>', '}':
			if depth > 0 {
				depth--
			}
		case sep:
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

// StringRows converts result rows to strings for the parsers: NULL becomes "", numbers and
// booleans their decimal text.
func StringRows(rows [][]any) [][]string {
	out := make([][]string, len(rows))
	for i, row := range rows {
		out[i] = make([]string, len(row))
		for j, v := range row {
			switch v := v.(type) {
			case nil:
			case string:
				out[i][j] = v
			case []byte:
				out[i][j] = string(v)
			default:
				out[i][j] = fmt.Sprint(v)
			}
		}
	}
	return out
}
