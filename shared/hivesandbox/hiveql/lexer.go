package hiveql

import (
	"fmt"
	"strings"
)

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokQuoted // `backticked identifier`
	tokString
	tokNumber
	tokSymbol
)

// token is one lexical unit. Line is 1-based and Col 0-based, the way Hive's ANTLR parser
// reports positions ("line 1:14").
type token struct {
	kind tokenKind
	text string // identifier or symbol text, unquoted string value, number text
	raw  string // the token as written, for "cannot recognize input near" messages
	line int
	col  int
}

// is reports whether t is the keyword or symbol s (keywords are case-insensitive).
func (t token) is(s string) bool {
	switch t.kind {
	case tokIdent:
		return strings.EqualFold(t.text, s)
	case tokSymbol:
		return t.text == s
	}
	return false
}

// isName reports whether t can name a database, table or column.
func (t token) isName() bool { return t.kind == tokIdent || t.kind == tokQuoted }

func (t token) String() string {
	if t.kind == tokEOF {
		return "<EOF>"
	}
	return t.raw
}

// lex splits a statement into tokens. Hive string literals use backslash escapes and may be
// quoted with ' or "; adjacent literals are concatenated by the parser, not here.
func lex(src string) ([]token, error) {
	var toks []token
	line, col := 1, 0
	i := 0
	advance := func(n int) {
		for k := 0; k < n && i < len(src); k++ {
			if src[i] == '\n' {
				line++
				col = 0
			} else {
				col++
			}
			i++
		}
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			advance(1)
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			for i < len(src) && src[i] != '\n' {
				advance(1)
			}
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			toks = append(toks, token{kind: tokIdent, text: src[i:j], raw: src[i:j], line: line, col: col})
			advance(j - i)
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			// Hive accepts suffixed literals such as 10L, 1Y, 2S, 3BD and identifiers that
			// start with digits (a partition value like 2024 in PARTITION(dt=2024)).
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			kind := tokNumber
			if strings.IndexFunc(src[i:j], func(r rune) bool { return r != '.' && (r < '0' || r > '9') }) >= 0 {
				kind = tokIdent
			}
			toks = append(toks, token{kind: kind, text: src[i:j], raw: src[i:j], line: line, col: col})
			advance(j - i)
		case c == '`':
			j := i + 1
			var b strings.Builder
			for {
				if j >= len(src) {
					return nil, parseErrorAt(line, col, "character '<EOF>' not supported here")
				}
				if src[j] == '`' {
					if j+1 < len(src) && src[j+1] == '`' { // `` is an escaped backtick
						b.WriteByte('`')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(src[j])
				j++
			}
			toks = append(toks, token{kind: tokQuoted, text: b.String(), raw: src[i : j+1], line: line, col: col})
			advance(j + 1 - i)
		case c == '\'' || c == '"':
			s, n, ok := unquote(src[i:])
			if !ok {
				return nil, parseErrorAt(line, col, "character '<EOF>' not supported here")
			}
			toks = append(toks, token{kind: tokString, text: s, raw: src[i : i+n], line: line, col: col})
			advance(n)
		default:
			sym := string(c)
			if i+1 < len(src) {
				switch two := src[i : i+2]; two {
				case "<=", ">=", "<>", "!=", "==", "||":
					sym = two
				}
			}
			if !strings.Contains("(),;=.*<>!+-/%[]:{}|&^~$?", string(c)) {
				return nil, parseErrorAt(line, col, fmt.Sprintf("character '%c' not supported here", c))
			}
			toks = append(toks, token{kind: tokSymbol, text: sym, raw: sym, line: line, col: col})
			advance(len(sym))
		}
	}
	toks = append(toks, token{kind: tokEOF, line: line, col: col})
	return toks, nil
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// unquote reads a Hive string literal at the start of s and returns its value and length.
// Escapes follow Hive's BaseSemanticAnalyzer.unescapeSQLString.
func unquote(s string) (string, int, bool) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c == q {
			return b.String(), i + 1, true
		}
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := s[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case '0':
			// \001-style octal escapes are common for delimiters.
			if i+2 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) {
				b.WriteByte((s[i]-'0')*64 + (s[i+1]-'0')*8 + (s[i+2] - '0'))
				i += 2
			} else {
				b.WriteByte(0)
			}
		case 'Z':
			b.WriteByte(26)
		case 'u':
			if i+4 < len(s) {
				var r rune
				if _, err := fmt.Sscanf(s[i+1:i+5], "%04x", &r); err == nil {
					b.WriteRune(r)
					i += 4
					continue
				}
			}
			b.WriteByte('u')
		case '%', '_':
			// Hive keeps the backslash before LIKE wildcards.
			b.WriteByte('\\')
			b.WriteByte(e)
		default:
			if isOctal(e) && i+2 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) {
				b.WriteByte((e-'0')*64 + (s[i+1]-'0')*8 + (s[i+2] - '0'))
				i += 2
				continue
			}
			b.WriteByte(e)
		}
	}
	return "", 0, false
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
