package hql

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// A small HiveQL tokenizer for tests: it follows Hive's lexer for the parts the builders emit
// (backticked identifiers, quoted literals with backslash escapes, numbers, words, punctuation)
// and fails on anything that would change a statement's structure: comments, ';', "${", line
// breaks or tabs outside literals, unterminated quotes.

type tokKind int

const (
	tokWord tokKind = iota
	tokIdent
	tokLit
	tokNum
	tokPunct
)

func (k tokKind) String() string {
	return [...]string{"word", "ident", "literal", "number", "punct"}[k]
}

type tok struct {
	kind tokKind
	text string // words upper-cased; identifiers and literals decoded
}

func (t tok) String() string { return fmt.Sprintf("%s(%q)", t.kind, t.text) }

func tokenize(s string) ([]tok, error) {
	var out []tok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ':
			i++
		case c == '\n' || c == '\r' || c == '\t':
			return nil, fmt.Errorf("control character %q outside a literal at %d", c, i)
		case c == ';':
			return nil, fmt.Errorf("';' at %d", i)
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			return nil, fmt.Errorf("'--' comment at %d", i)
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			return nil, fmt.Errorf("'/*' comment at %d", i)
		case c == '$' && i+1 < len(s) && s[i+1] == '{':
			return nil, fmt.Errorf("'${' at %d", i)
		case c == '`':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated identifier at %d", i)
				}
				if s[j] == '`' {
					if j+1 < len(s) && s[j+1] == '`' { // `` is an escaped backtick
						b.WriteByte('`')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, tok{tokIdent, b.String()})
			i = j + 1
		case c == '\'' || c == '"':
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated literal at %d", i)
				}
				if s[j] == '\\' {
					j += 2
					continue
				}
				if s[j] == c {
					break
				}
				j++
			}
			out = append(out, tok{tokLit, hiveUnescape(s[i : j+1])})
			i = j + 1
		case isDigit(c) || (c == '-' && i+1 < len(s) && isDigit(s[i+1])):
			j := i + 1
			for j < len(s) && (isDigit(s[j]) || s[j] == '.') {
				j++
			}
			out = append(out, tok{tokNum, s[i:j]})
			i = j
		case c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z'):
			j := i + 1
			for j < len(s) && (s[j] == '_' || isDigit(s[j]) || (s[j]|0x20 >= 'a' && s[j]|0x20 <= 'z')) {
				j++
			}
			out = append(out, tok{tokWord, strings.ToUpper(s[i:j])})
			i = j
		case strings.IndexByte("().,=*", c) >= 0:
			out = append(out, tok{tokPunct, string(c)})
			i++
		default:
			return nil, fmt.Errorf("unexpected %q at %d", c, i)
		}
	}
	return out, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// hiveUnescape is a port of Hive's BaseSemanticAnalyzer.unescapeSQLString for one literal
// including its quotes, so tests compare what Hive would see with what the caller passed.
func hiveUnescape(lit string) string {
	b := []rune(lit)
	var sb strings.Builder
	var enclosure rune
	for i := 0; i < len(b); i++ {
		c := b[i]
		if enclosure == 0 {
			if c == '\'' || c == '"' {
				enclosure = c
			}
			continue
		}
		if c == enclosure {
			enclosure = 0
			continue
		}
		if c == '\\' && i+6 < len(b) && b[i+1] == 'u' {
			code := 0
			for j := 0; j < 4; j++ {
				code = code<<4 + hexDigit(b[i+2+j])
			}
			sb.WriteRune(rune(uint16(code)))
			i += 5
			continue
		}
		if c == '\\' && i+4 < len(b) {
			i1, i2, i3 := b[i+1], b[i+2], b[i+3]
			if i1 >= '0' && i1 <= '1' && i2 >= '0' && i2 <= '7' && i3 >= '0' && i3 <= '7' {
				v := byte((i3 - '0') + (i2-'0')*8 + (i1-'0')*64)
				if v < utf8.RuneSelf {
					sb.WriteByte(v)
				} else {
					sb.WriteRune(utf8.RuneError)
				}
				i += 3
				continue
			}
		}
		if c == '\\' && i+2 < len(b) {
			switch n := b[i+1]; n {
			case '0':
				sb.WriteByte(0)
			case 'b':
				sb.WriteByte('\b')
			case 'n':
				sb.WriteByte('\n')
			case 'r':
				sb.WriteByte('\r')
			case 't':
				sb.WriteByte('\t')
			case 'Z':
				sb.WriteByte(0x1a)
			case '%':
				sb.WriteString(`\%`)
			case '_':
				sb.WriteString(`\_`)
			default: // ', ", \ and anything else stand for themselves
				sb.WriteRune(n)
			}
			i++
			continue
		}
		sb.WriteRune(c)
	}
	return sb.String()
}

func hexDigit(r rune) int {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0')
	case r >= 'a' && r <= 'f':
		return int(r-'a') + 10
	case r >= 'A' && r <= 'F':
		return int(r-'A') + 10
	}
	return -1
}
