package hive

import (
	"regexp"
	"strconv"
	"strings"
)

// TableProperties is the output of SHOW TBLPROPERTIES.
type TableProperties struct {
	Values map[string]string `json:"values"`
	// Missing are the keys asked for with SHOW TBLPROPERTIES t('key') that the table does not
	// have: Hive answers with a message row, not an error.
	Missing []string `json:"missing,omitempty"`
}

var missingPropertyRE = regexp.MustCompile(`^Table (\S+) does not have property: (.*)$`)

const tblPropertiesWhat = "SHOW TBLPROPERTIES"

// ParseTableProperties parses the rows of SHOW TBLPROPERTIES (key, value). Unlike DESCRIBE
// FORMATTED, Hive prints the values unescaped.
func ParseTableProperties(rows [][]string) (*TableProperties, error) {
	p := &TableProperties{Values: map[string]string{}}
	for i, row := range rows {
		if masked(row) || blank(row) {
			continue
		}
		k := cell(row, 0)
		v := ""
		if len(row) > 1 {
			v = strings.TrimRight(row[1], " ")
		}
		if m := missingPropertyRE.FindStringSubmatch(k); m != nil && strings.TrimSpace(v) == "" {
			p.Missing = append(p.Missing, m[2])
			continue
		}
		if len(row) < 2 {
			return nil, parseErr(tblPropertiesWhat, i+1, "expected key and value, got %s", strconv.Quote(strings.Join(row, "\t")))
		}
		if k == "" {
			return nil, parseErr(tblPropertiesWhat, i+1, "property without a name")
		}
		if len(row) > 2 && !blank(row[2:]) {
			return nil, parseErr(tblPropertiesWhat, i+1, "expected two columns, got %d", len(row))
		}
		p.Values[k] = v
	}
	return p, nil
}
