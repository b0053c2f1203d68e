package functions

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestRuleIDs keeps the console's list of the planner's rule ids in step with shared/merge's
// Rule constants: a task's strategy_reason is one of them, and the console's unit tests fail
// when one has no label. Go cannot list a package's constants, so the test reads the source.
func TestRuleIDs(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "../shared/merge/rules.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			for i, n := range v.Names {
				if !strings.HasPrefix(n.Name, "Rule") || i >= len(v.Values) {
					continue
				}
				lit, ok := v.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				id, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
		}
	}
	if len(ids) < 20 {
		t.Fatalf("found %d rule ids in rules.go, want the planner's full set", len(ids))
	}
	slices.Sort(ids)
	b, err := json.MarshalIndent(ids, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "../console/ui/src/rules.json", append(b, '\n'))
}
