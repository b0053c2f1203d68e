package hiveql

import (
	"strings"
)

// statement is a parsed HiveQL statement.
type statement interface {
	run(x *exec) (*Result, error)
}

// parser is a recursive-descent parser over the tokens of one statement.
type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) peekAt(n int) token {
	if p.pos+n < len(p.toks) {
		return p.toks[p.pos+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

// accept consumes the next tokens if they are the given keywords or symbols, in order.
func (p *parser) accept(words ...string) bool {
	for i, w := range words {
		if !p.peekAt(i).is(w) {
			return false
		}
	}
	p.pos += len(words)
	return true
}

// fail reports a ParseException at the current token.
func (p *parser) fail(context string) *Error {
	return parseError(p.peek(), p.toks[min(p.pos+1, len(p.toks)):], context)
}

func (p *parser) expect(words ...string) error {
	for _, w := range words {
		if !p.accept(w) {
			return p.fail("")
		}
	}
	return nil
}

func (p *parser) end() error {
	if p.peek().kind != tokEOF {
		return p.fail("")
	}
	return nil
}

// ident reads an identifier; Hive folds unquoted and quoted names to lower case.
func (p *parser) ident(context string) (token, string, error) {
	t := p.peek()
	if !t.isName() || t.kind == tokIdent && reserved[strings.ToUpper(t.text)] {
		return t, "", p.fail(context)
	}
	p.next()
	return t, strings.ToLower(t.text), nil
}

// tableRef is a possibly database-qualified table name.
type tableRef struct {
	db, name string
	tok      token // position of the reference, for "Line 1:14 Table not found"
	written  string
}

func (p *parser) tableName() (tableRef, error) {
	t, a, err := p.ident("table name")
	if err != nil {
		return tableRef{}, err
	}
	r := tableRef{name: a, tok: t, written: t.text}
	if p.accept(".") {
		_, b, err := p.ident("table name")
		if err != nil {
			return tableRef{}, err
		}
		r.db, r.name = a, b
		r.written = a + "." + b
	}
	return r, nil
}

// reserved lists the keywords that cannot be used unquoted as identifiers (a subset of Hive's
// reserved words large enough to keep the grammar unambiguous).
var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "TABLE": true, "PARTITION": true, "AND": true,
	"OR": true, "NOT": true, "IN": true, "INSERT": true, "OVERWRITE": true, "INTO": true,
	"VALUES": true, "CREATE": true, "DROP": true, "ALTER": true, "SET": true, "LIKE": true,
	"AS": true, "BY": true, "NULL": true, "IS": true, "LIMIT": true, "GROUP": true, "ORDER": true,
	"ON": true, "JOIN": true, "UNION": true, "ALL": true, "CASE": true, "WHEN": true, "THEN": true,
	"ELSE": true, "END": true, "EXISTS": true, "IF": true, "TRUE": true, "FALSE": true,
	"DISTINCT": true, "HAVING": true, "LOCATION": false,
}

// statement parses one statement.
func (p *parser) statement() (statement, error) {
	t := p.peek()
	switch {
	case t.is("use"):
		p.next()
		_, db, err := p.ident("")
		if err != nil {
			return nil, err
		}
		return &useStmt{db: db}, p.end()
	case t.is("show"):
		return p.show()
	case t.is("create"):
		return p.create()
	case t.is("drop"):
		return p.drop()
	case t.is("select"):
		return p.selectStmt()
	}
	return nil, p.fail("")
}

func (p *parser) show() (statement, error) {
	p.next()
	switch {
	case p.accept("databases"), p.accept("schemas"):
		st := &showDatabasesStmt{}
		if p.accept("like") {
			if p.peek().kind != tokString {
				return nil, p.fail("")
			}
			st.like = p.next().text
		}
		return st, p.end()
	}
	return nil, p.fail("")
}

func (p *parser) create() (statement, error) {
	p.next()
	if p.accept("database") || p.accept("schema") {
		st := &createDatabaseStmt{}
		if p.accept("if", "not", "exists") {
			st.ifNotExists = true
		}
		_, name, err := p.ident("")
		if err != nil {
			return nil, err
		}
		st.name = name
		if p.accept("comment") {
			if p.peek().kind != tokString {
				return nil, p.fail("")
			}
			st.comment = p.next().text
		}
		if p.accept("location") {
			if p.peek().kind != tokString {
				return nil, p.fail("")
			}
			st.location = p.next().text
		}
		return st, p.end()
	}
	return nil, p.fail("")
}

func (p *parser) drop() (statement, error) {
	p.next()
	if p.accept("database") || p.accept("schema") {
		st := &dropDatabaseStmt{}
		if p.accept("if", "exists") {
			st.ifExists = true
		}
		_, name, err := p.ident("")
		if err != nil {
			return nil, err
		}
		st.name = name
		if p.accept("cascade") {
			st.cascade = true
		} else {
			p.accept("restrict")
		}
		return st, p.end()
	}
	return nil, p.fail("")
}
