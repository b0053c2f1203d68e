package hiveql

type selectStmt struct{}

func (p *parser) selectStmt() (statement, error) { return nil, p.fail("") }

func (st *selectStmt) run(x *exec) (*Result, error) { return nil, nil }
