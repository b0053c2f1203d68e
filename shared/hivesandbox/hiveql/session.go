package hiveql

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Session is one client session: its current database, its SET properties and its hivevar
// variables. A Session runs one statement at a time, as a HiveServer2 session does; its
// settings may be read and changed concurrently.
type Session struct {
	w    *Warehouse
	user string

	mu   sync.Mutex
	db   string
	conf map[string]string
	vars map[string]string
}

// NewSession opens a session for user on the default database.
func (w *Warehouse) NewSession(user string) *Session {
	if user == "" {
		user = "anonymous"
	}
	return &Session{w: w, user: user, db: defaultDB, conf: map[string]string{}, vars: map[string]string{}}
}

// Set sets a session property, as OpenSession's configuration map or SET k=v does. Keys with
// the hivevar: prefix define variables, "use:database" selects the current database.
func (s *Session) Set(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setLocked(key, value)
}

func (s *Session) setLocked(key, value string) {
	switch kind, name := settingKey(key); kind {
	case settingVar:
		s.vars[name] = value
	case settingDB:
		s.db = strings.ToLower(value)
	default:
		s.conf[name] = value
	}
}

// What a Set key names.
const (
	settingConf = iota
	settingVar
	settingDB
)

// settingKey reads a Set key. OpenSession's configuration names keys set:hiveconf:k and
// set:hivevar:k; SET and confOverlay use hiveconf:k, hivevar:k or bare k.
func settingKey(key string) (kind int, name string) {
	key = strings.TrimPrefix(key, "set:")
	switch {
	case strings.HasPrefix(key, "hivevar:"):
		return settingVar, strings.TrimPrefix(key, "hivevar:")
	case strings.HasPrefix(key, "hiveconf:"):
		return settingConf, strings.TrimPrefix(key, "hiveconf:")
	case key == "use:database":
		return settingDB, key
	}
	return settingConf, key
}

// Database is the session's current database.
func (s *Session) Database() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db
}

func (s *Session) setDatabase(db string) {
	s.mu.Lock()
	s.db = db
	s.mu.Unlock()
}

// confDefaults are the Hive defaults the sandbox honours; SET k prints them when unset.
var confDefaults = map[string]string{
	"hive.execution.engine":                         "mr",
	"hive.merge.mapfiles":                           "true",
	"hive.merge.mapredfiles":                        "false",
	"hive.merge.tezfiles":                           "false",
	"hive.merge.smallfiles.avgsize":                 "16000000",
	"hive.merge.size.per.task":                      "256000000",
	"mapreduce.input.fileinputformat.split.maxsize": "256000000",
	"hive.exec.dynamic.partition":                   "true",
	"hive.exec.dynamic.partition.mode":              "strict",
	"hive.variable.substitute":                      "true",
	"hive.variable.substitute.depth":                "40",
	"hive.exec.compress.output":                     "false",
	"hive.stats.autogather":                         "true",
	"hive.default.fileformat":                       "TextFile",
	"hive.support.concurrency":                      "false",
}

// snapshot copies the effective configuration and variables for one statement, so a
// concurrent Set does not change a statement halfway, and applies the statement's overlay to
// the copies only. An overlay cannot change the current database: that is a session's choice.
func (s *Session) snapshot(overlay map[string]string) (conf, vars map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	conf = maps.Clone(confDefaults)
	maps.Copy(conf, s.conf)
	vars = maps.Clone(s.vars)
	for k, v := range overlay {
		switch kind, name := settingKey(k); kind {
		case settingConf:
			conf[name] = v
		case settingVar:
			vars[name] = v
		}
	}
	return conf, vars
}

var varPattern = regexp.MustCompile(`\$\{[^{}$]+\}`)

// substitute expands ${hiveconf:x}, ${hivevar:x} and ${x} like Hive's VariableSubstitution:
// unknown variables are left as written, and expansion repeats up to
// hive.variable.substitute.depth times so variables may refer to variables. It refuses the
// statement as soon as the text would grow beyond limit bytes, before building it: a few
// references to a large variable, or a variable repeating itself, multiply the text.
func substitute(stmt string, conf, vars map[string]string, limit int) (string, error) {
	if !strings.EqualFold(strings.TrimSpace(conf["hive.variable.substitute"]), "true") {
		return stmt, nil
	}
	depth := 40
	fmt.Sscan(conf["hive.variable.substitute.depth"], &depth)
	for range depth {
		changed := false
		size, over := len(stmt), false
		stmt = varPattern.ReplaceAllStringFunc(stmt, func(m string) string {
			if over {
				return m
			}
			name := m[2 : len(m)-1]
			var (
				v  string
				ok bool
			)
			switch {
			case strings.HasPrefix(name, "hiveconf:"):
				v, ok = conf[strings.TrimPrefix(name, "hiveconf:")]
			case strings.HasPrefix(name, "hivevar:"):
				v, ok = vars[strings.TrimPrefix(name, "hivevar:")]
			case strings.HasPrefix(name, "system:"), strings.HasPrefix(name, "env:"):
				// The sandbox does not expose its process environment.
			default:
				if v, ok = vars[name]; !ok {
					v, ok = conf[name]
				}
			}
			if !ok {
				return m
			}
			if size += len(v) - len(m); size > limit {
				over = true
				return m
			}
			changed = true
			return v
		})
		if over {
			return "", statementTooLong(size, limit)
		}
		if !changed {
			break
		}
	}
	return stmt, nil
}

// exec carries one statement's execution state.
type exec struct {
	s    *Session
	w    *Warehouse
	ctx  context.Context
	ev   Events
	conf map[string]string
	vars map[string]string
	db   string
	sql  string
	qid  string

	// planned records that Events.Compiled has been called.
	planned bool
}

// compiled ends the statement's compile step and reports its plan, once; cols is the result
// schema, nil for a statement without rows. The caller must not hold the catalog lock: the
// callback may block.
func (x *exec) compiled(cols []Column) error {
	if x.planned {
		return nil
	}
	x.planned = true
	if x.ev.Compiled == nil {
		return nil
	}
	return x.ev.Compiled(x.ctx, Plan{QueryID: x.qid, HasResultSet: cols != nil, Columns: cols})
}

func (x *exec) log(format string, args ...any) {
	if x.ev.Log != nil {
		x.ev.Log(fmt.Sprintf(format, args...))
	}
}

// beforeCommit runs the BeforeCommit hook and then reports a cancel that came during the
// work: a writing statement publishes nothing after either.
func (x *exec) beforeCommit() error {
	if x.ev.BeforeCommit != nil {
		if err := x.ev.BeforeCommit(x.ctx); err != nil {
			return err
		}
	}
	return x.ctx.Err()
}

func (x *exec) progress(done, total int) {
	if x.ev.Progress != nil {
		x.ev.Progress(done, total)
	}
}

// Execute runs one HiveQL statement. It returns a nil Result for statements without a result
// set, an *Error for anything Hive would refuse, and ctx.Err() when ctx ends first, in which
// case any output the statement had written is discarded.
func (s *Session) Execute(ctx context.Context, stmt string, ev Events) (*Result, error) {
	return s.Run(ctx, Statement{SQL: stmt, Events: ev})
}

// Run is Execute with per-statement settings.
func (s *Session) Run(ctx context.Context, st Statement) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A long statement costs many times its size in tokens and trees, and the sandbox is
	// shared: refuse it before reading it.
	limit := s.w.MaxStatementBytes()
	if len(st.SQL) > limit {
		return nil, statementTooLong(len(st.SQL), limit)
	}
	conf, vars := s.snapshot(st.Conf)
	sql, err := substitute(st.SQL, conf, vars, limit)
	if err != nil {
		return nil, err
	}
	sql = strings.TrimSpace(sql)
	for strings.HasSuffix(sql, ";") {
		sql = strings.TrimSpace(strings.TrimSuffix(sql, ";"))
	}
	x := &exec{s: s, w: s.w, ctx: ctx, ev: st.Events, conf: conf, vars: vars, db: s.Database(), sql: sql, qid: newQueryID(s.user, s.w)}
	res, err := x.run()
	if err == nil && !x.planned {
		// Statements that change nothing (SHOW, DESCRIBE) and those that found nothing to do
		// (IF [NOT] EXISTS) check and read in one step: their plan comes with their result.
		var cols []Column
		if res != nil {
			cols = res.Columns
		}
		if err := x.compiled(cols); err != nil {
			return nil, err
		}
	}
	return res, err
}

func (x *exec) run() (*Result, error) {
	if first := firstWord(x.sql); strings.EqualFold(first, "set") {
		return x.set(strings.TrimSpace(x.sql[len(first):]))
	}
	toks, err := lex(x.sql)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	st, err := p.statement()
	if err != nil {
		return nil, err
	}
	return st.run(x)
}

func firstWord(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	if i < 0 {
		return s
	}
	return s[:i]
}

func newQueryID(user string, w *Warehouse) string {
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s_%s_%s", user, w.now().Format("20060102150405"), hex.EncodeToString(b[:]))
}

// set implements Hive's SetProcessor: "SET k=v" assigns, "SET k" prints k's value, "SET"
// prints every property the session changed plus the sandbox's defaults.
func (x *exec) set(arg string) (*Result, error) {
	cols := []Column{{Name: "set", Type: "STRING"}}
	if _, _, assign := strings.Cut(arg, "="); assign {
		if err := x.compiled(nil); err != nil {
			return nil, err
		}
	} else if err := x.compiled(cols); err != nil {
		return nil, err
	}
	if arg == "" || arg == "-v" {
		keys := slices.Sorted(maps.Keys(x.conf))
		res := &Result{Columns: cols}
		for _, k := range keys {
			res.Rows = append(res.Rows, []any{k + "=" + x.conf[k]})
		}
		return res, nil
	}
	if k, v, ok := strings.Cut(arg, "="); ok {
		key := strings.TrimSpace(k)
		x.s.Set(key, strings.TrimSpace(v))
		return nil, nil
	}
	key := strings.TrimSpace(arg)
	var line string
	switch {
	case strings.HasPrefix(key, "hivevar:"):
		if v, ok := x.vars[strings.TrimPrefix(key, "hivevar:")]; ok {
			line = key + "=" + v
		}
	default:
		k := strings.TrimPrefix(key, "hiveconf:")
		if v, ok := x.conf[k]; ok {
			line = key + "=" + v
		}
	}
	if line == "" {
		line = key + " is undefined"
	}
	return &Result{Columns: cols, Rows: [][]any{{line}}}, nil
}
