package hiveql

import (
	"fmt"
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
	if !validName(r.name) || r.db != "" && !validName(r.db) {
		return tableRef{}, invalidTableName(r.written)
	}
	return r, nil
}

// dbName reads a database name.
func (p *parser) dbName() (string, error) {
	_, name, err := p.ident("")
	if err == nil && !validName(name) {
		return "", invalidDatabaseName(name)
	}
	return name, err
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
		db, err := p.dbName()
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
	case t.is("alter"):
		return p.alter()
	case t.is("describe"), t.is("desc"):
		return p.describe()
	case t.is("insert"):
		return p.insert()
	case t.is("analyze"):
		return p.analyze()
	case t.is("msck"):
		return p.msck()
	}
	return nil, p.fail("")
}

func (p *parser) show() (statement, error) {
	p.next()
	switch {
	case p.accept("databases"), p.accept("schemas"):
		like, err := p.stringAfter("like")
		if err != nil {
			return nil, err
		}
		return &showDatabasesStmt{like: like}, p.end()
	case p.accept("tables"):
		st := &showTablesStmt{}
		var err error
		if st.db, err = p.nameAfter("in", "from"); err != nil {
			return nil, err
		}
		if p.peek().kind == tokString {
			// Hive takes the pattern with or without LIKE.
			st.like, err = p.stringLit()
		} else {
			st.like, err = p.stringAfter("like")
		}
		if err != nil {
			return nil, err
		}
		return st, p.end()
	case p.accept("partitions"):
		ref, spec, err := p.tableSpec()
		if err != nil {
			return nil, err
		}
		return &showPartitionsStmt{ref: ref, spec: spec}, p.end()
	case p.accept("table", "extended"):
		st := &showTableExtendedStmt{}
		var err error
		if st.db, err = p.nameAfter("in", "from"); err != nil {
			return nil, err
		}
		if err := p.expect("like"); err != nil {
			return nil, err
		}
		switch t := p.next(); t.kind {
		case tokString, tokQuoted, tokIdent:
			st.like, st.likeTok = t.text, t
		default:
			return nil, parseError(t, p.toks[p.pos:], "")
		}
		if st.spec, err = p.optPartitionSpec(); err != nil {
			return nil, err
		}
		return st, p.end()
	case p.accept("tblproperties"):
		ref, err := p.tableName()
		if err != nil {
			return nil, err
		}
		st := &showTblPropertiesStmt{ref: ref}
		if p.accept("(") {
			t := p.next()
			if t.kind != tokString && !t.isName() {
				return nil, parseError(t, p.toks[p.pos:], "")
			}
			st.key = t.text
			if err := p.expect(")"); err != nil {
				return nil, err
			}
		}
		return st, p.end()
	case p.accept("compactions"):
		st := &showCompactionsStmt{}
		var err error
		if st.db, err = p.nameAfter("database", "schema"); err != nil {
			return nil, err
		}
		if st.db == "" && p.peek().isName() {
			ref, spec, err := p.tableSpec()
			if err != nil {
				return nil, err
			}
			st.ref, st.spec = &ref, spec
		}
		return st, p.end()
	case p.accept("create", "table"):
		ref, err := p.tableName()
		if err != nil {
			return nil, err
		}
		return &showCreateTableStmt{ref: ref}, p.end()
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
		name, err := p.dbName()
		if err != nil {
			return nil, err
		}
		st.name = name
		if st.comment, err = p.stringAfter("comment"); err != nil {
			return nil, err
		}
		if st.location, err = p.stringAfter("location"); err != nil {
			return nil, err
		}
		return st, p.end()
	}
	return p.createTable()
}

func (p *parser) drop() (statement, error) {
	p.next()
	if p.accept("database") || p.accept("schema") {
		st := &dropDatabaseStmt{}
		if p.accept("if", "exists") {
			st.ifExists = true
		}
		name, err := p.dbName()
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
	if p.accept("table") {
		st := &dropTableStmt{}
		if p.accept("if", "exists") {
			st.ifExists = true
		}
		ref, err := p.tableName()
		if err != nil {
			return nil, err
		}
		st.ref = ref
		st.purge = p.accept("purge")
		return st, p.end()
	}
	return nil, p.fail("")
}

// specItem is one key of a PARTITION(...) clause; a nil value is a dynamic partition column.
type specItem struct {
	key   string
	tok   token
	value *string
}

// partitionSpec parses PARTITION (k='v', k2=3, k3).
func (p *parser) partitionSpec() ([]specItem, error) {
	if err := p.expect("partition", "("); err != nil {
		return nil, err
	}
	var spec []specItem
	for {
		t, key, err := p.ident("")
		if err != nil {
			return nil, err
		}
		it := specItem{key: key, tok: t}
		if p.accept("=") {
			v := p.next()
			switch {
			case v.kind == tokString, v.kind == tokNumber, v.kind == tokIdent && !reserved[strings.ToUpper(v.text)]:
				if v.is("date") && p.peek().kind == tokString { // DATE '2024-01-01'
					v = p.next()
				}
				val := v.text
				for v.kind == tokString && p.peek().kind == tokString {
					val += p.next().text
				}
				it.value = &val
			case v.is("-") && p.peek().kind == tokNumber:
				val := "-" + p.next().text
				it.value = &val
			default:
				return nil, parseError(v, p.toks[p.pos:], "")
			}
		}
		spec = append(spec, it)
		if !p.accept(",") {
			break
		}
	}
	return spec, p.expect(")")
}

// stringAfter reads the string literal after keyword when keyword comes next, as in
// LIKE 'pattern' or COMMENT '...'; it returns "" when keyword does not come.
func (p *parser) stringAfter(keyword string) (string, error) {
	if !p.accept(keyword) {
		return "", nil
	}
	return p.stringLit()
}

// nameAfter reads the name after one of keywords when one comes next, as in SHOW TABLES IN
// db; it returns "" when none comes.
func (p *parser) nameAfter(keywords ...string) (string, error) {
	for _, k := range keywords {
		if p.accept(k) {
			return p.dbName()
		}
	}
	return "", nil
}

// tableSpec reads a table name and the PARTITION(...) clause that may follow it.
func (p *parser) tableSpec() (tableRef, []specItem, error) {
	ref, err := p.tableName()
	if err != nil {
		return tableRef{}, nil, err
	}
	spec, err := p.optPartitionSpec()
	return ref, spec, err
}

// optPartitionSpec reads a PARTITION(...) clause when one comes next; nil when none does.
func (p *parser) optPartitionSpec() ([]specItem, error) {
	if !p.peek().is("partition") {
		return nil, nil
	}
	return p.partitionSpec()
}

// stringLit reads one string literal (adjacent literals concatenated).
func (p *parser) stringLit() (string, error) {
	if p.peek().kind != tokString {
		return "", p.fail("")
	}
	var b strings.Builder
	for p.peek().kind == tokString {
		b.WriteString(p.next().text)
	}
	return b.String(), nil
}

// properties parses ('k'='v', ...).
func (p *parser) properties() (map[string]string, []string, error) {
	if err := p.expect("("); err != nil {
		return nil, nil, err
	}
	props := map[string]string{}
	var order []string
	for {
		k, err := p.stringLit()
		if err != nil {
			return nil, nil, err
		}
		if err := p.expect("="); err != nil {
			return nil, nil, err
		}
		v, err := p.stringLit()
		if err != nil {
			return nil, nil, err
		}
		if _, dup := props[k]; !dup {
			order = append(order, k)
		}
		props[k] = v
		if !p.accept(",") {
			break
		}
	}
	return props, order, p.expect(")")
}

// createTable parses CREATE [EXTERNAL] TABLE ... after CREATE.
func (p *parser) createTable() (statement, error) {
	st := &createTableStmt{}
	if p.accept("temporary") {
		st.temporary = true
	}
	if p.accept("external") {
		st.external = true
	}
	if err := p.expect("table"); err != nil {
		return nil, err
	}
	if p.accept("if", "not", "exists") {
		st.ifNotExists = true
	}
	ref, err := p.tableName()
	if err != nil {
		return nil, err
	}
	st.ref = ref
	if p.accept("like") {
		like, err := p.tableName()
		if err != nil {
			return nil, err
		}
		st.like = &like
	} else {
		if err := p.expect("("); err != nil {
			return nil, err
		}
		if st.columns, err = p.columnList(); err != nil {
			return nil, err
		}
		if p.accept("comment") {
			if _, err := p.stringLit(); err != nil {
				return nil, err
			}
		}
		if p.accept("partitioned", "by", "(") {
			if st.partCols, err = p.columnList(); err != nil {
				return nil, err
			}
		}
		if p.accept("clustered", "by", "(") {
			for {
				_, c, err := p.ident("")
				if err != nil {
					return nil, err
				}
				st.bucketCols = append(st.bucketCols, c)
				if !p.accept(",") {
					break
				}
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			if p.accept("sorted", "by", "(") {
				for !p.accept(")") {
					if p.peek().kind == tokEOF {
						return nil, p.fail("")
					}
					p.next()
				}
			}
			if err := p.expect("into"); err != nil {
				return nil, err
			}
			n := p.next()
			if n.kind != tokNumber {
				return nil, parseError(n, p.toks[p.pos:], "")
			}
			fmt.Sscan(n.text, &st.numBuckets)
			if err := p.expect("buckets"); err != nil {
				return nil, err
			}
		}
	}
	for {
		switch {
		case p.accept("row", "format", "delimited"):
			for more := true; more; {
				switch {
				case p.accept("fields", "terminated", "by"):
					d, err := p.stringLit()
					if err != nil {
						return nil, err
					}
					st.delim = d
					if p.accept("escaped", "by") {
						if _, err := p.stringLit(); err != nil {
							return nil, err
						}
					}
				case p.accept("lines", "terminated", "by"):
					d, err := p.stringLit()
					if err != nil {
						return nil, err
					}
					if d != "\n" {
						return nil, semanticError("42000", 10064, "LINES TERMINATED BY only supports newline '\\n' right now")
					}
				case p.accept("null", "defined", "as"):
					if _, err := p.stringLit(); err != nil {
						return nil, err
					}
				case p.accept("collection", "items", "terminated", "by"), p.accept("map", "keys", "terminated", "by"):
					if _, err := p.stringLit(); err != nil {
						return nil, err
					}
				default:
					more = false
				}
			}
		case p.accept("row", "format", "serde"):
			if _, err := p.stringLit(); err != nil {
				return nil, err
			}
			if p.accept("with", "serdeproperties") {
				props, _, err := p.properties()
				if err != nil {
					return nil, err
				}
				if d, ok := props["field.delim"]; ok {
					st.delim = d
				}
			}
		case p.accept("stored", "as"):
			f := p.next()
			format := strings.ToUpper(f.text)
			switch format {
			case "TEXTFILE", "ORC", "PARQUET", "RCFILE", "SEQUENCEFILE", "AVRO", "JSONFILE":
				st.format = format
			default:
				return nil, parseError(f, p.toks[p.pos:], "")
			}
		case p.accept("location"):
			loc, err := p.stringLit()
			if err != nil {
				return nil, err
			}
			st.location = loc
		case p.accept("tblproperties"):
			props, order, err := p.properties()
			if err != nil {
				return nil, err
			}
			st.props, st.propOrder = props, order
		default:
			return st, p.end()
		}
	}
}

// columnList parses "name type [COMMENT 'c'], ... )" after the opening parenthesis.
func (p *parser) columnList() ([]column, error) {
	var cols []column
	for {
		_, name, err := p.ident("")
		if err != nil {
			return nil, err
		}
		typ, err := p.typeName()
		if err != nil {
			return nil, err
		}
		c := column{Name: name, Type: typ}
		if p.accept("comment") {
			if c.Comment, err = p.stringLit(); err != nil {
				return nil, err
			}
		}
		cols = append(cols, c)
		if !p.accept(",") {
			break
		}
	}
	return cols, p.expect(")")
}

func (p *parser) alter() (statement, error) {
	p.next()
	if err := p.expect("table"); err != nil {
		return nil, err
	}
	ref, spec, err := p.tableSpec()
	if err != nil {
		return nil, err
	}
	switch {
	case spec == nil && p.accept("rename", "to"):
		to, err := p.tableName()
		if err != nil {
			return nil, err
		}
		return &renameTableStmt{ref: ref, to: to}, p.end()
	case p.accept("set", "location"):
		loc, err := p.stringLit()
		if err != nil {
			return nil, err
		}
		return &setLocationStmt{ref: ref, spec: spec, location: loc}, p.end()
	case spec == nil && p.accept("add"):
		st := &addPartitionStmt{ref: ref}
		if !p.accept("if", "not", "exists") {
			if p.peek().is("if") {
				return nil, p.fail("")
			}
		} else {
			st.ifNotExists = true
		}
		for p.peek().is("partition") {
			sp, err := p.partitionSpec()
			if err != nil {
				return nil, err
			}
			a := addPart{spec: sp}
			if p.accept("location") {
				if a.location, err = p.stringLit(); err != nil {
					return nil, err
				}
			}
			st.parts = append(st.parts, a)
		}
		if len(st.parts) == 0 {
			return nil, p.fail("")
		}
		return st, p.end()
	case spec == nil && p.accept("drop"):
		st := &dropPartitionStmt{ref: ref}
		st.ifExists = p.accept("if", "exists")
		for {
			sp, err := p.partitionSpec()
			if err != nil {
				return nil, err
			}
			st.specs = append(st.specs, sp)
			if !p.accept(",") {
				break
			}
		}
		st.purge = p.accept("purge")
		return st, p.end()
	case spec == nil && p.accept("set", "tblproperties"):
		props, order, err := p.properties()
		if err != nil {
			return nil, err
		}
		return &setPropsStmt{ref: ref, props: props, order: order}, p.end()
	case spec == nil && p.accept("unset", "tblproperties"):
		st := &setPropsStmt{ref: ref, unset: true}
		st.ifExists = p.accept("if", "exists")
		if err := p.expect("("); err != nil {
			return nil, err
		}
		for {
			k, err := p.stringLit()
			if err != nil {
				return nil, err
			}
			st.order = append(st.order, k)
			if !p.accept(",") {
				break
			}
		}
		return st, p.expect(")")
	case p.accept("concatenate"):
		return &concatenateStmt{ref: ref, spec: spec}, p.end()
	case p.accept("compact"):
		typ, err := p.stringLit()
		if err != nil {
			return nil, err
		}
		st := &compactStmt{ref: ref, spec: spec, typ: strings.ToLower(typ)}
		if p.accept("and", "wait") {
			st.wait = true
		}
		if p.accept("with", "overwrite", "tblproperties") {
			if _, _, err := p.properties(); err != nil {
				return nil, err
			}
		}
		return st, p.end()
	}
	return nil, p.fail("")
}

func (p *parser) describe() (statement, error) {
	p.next()
	st := &describeStmt{}
	switch {
	case p.accept("formatted"):
		st.formatted = true
	case p.accept("extended"):
		st.extended = true
	}
	if p.peek().is("database") || p.peek().is("schema") {
		p.next()
		p.accept("extended")
		db, err := p.dbName()
		if err != nil {
			return nil, err
		}
		return &describeDatabaseStmt{db: db}, p.end()
	}
	ref, spec, err := p.tableSpec()
	if err != nil {
		return nil, err
	}
	st.ref, st.spec = ref, spec
	if p.peek().isName() {
		t, col, err := p.ident("")
		if err != nil {
			return nil, err
		}
		st.column, st.columnTok = col, t
	}
	return st, p.end()
}

func (p *parser) analyze() (statement, error) {
	p.next()
	if err := p.expect("table"); err != nil {
		return nil, err
	}
	ref, spec, err := p.tableSpec()
	if err != nil {
		return nil, err
	}
	st := &analyzeStmt{ref: ref, spec: spec}
	if err := p.expect("compute", "statistics"); err != nil {
		return nil, err
	}
	switch {
	case p.accept("noscan"):
		st.noscan = true
	case p.accept("for", "columns"):
		for p.peek().isName() || p.peek().is(",") {
			p.next()
		}
	}
	return st, p.end()
}

func (p *parser) msck() (statement, error) {
	p.next()
	st := &msckStmt{}
	st.repair = p.accept("repair")
	if err := p.expect("table"); err != nil {
		return nil, err
	}
	ref, err := p.tableName()
	if err != nil {
		return nil, err
	}
	st.ref = ref
	switch {
	case p.accept("add", "partitions"):
		st.add = true
	case p.accept("drop", "partitions"):
		st.drop = true
	case p.accept("sync", "partitions"):
		st.add, st.drop = true, true
	default:
		st.add = true
	}
	return st, p.end()
}
