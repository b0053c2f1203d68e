package hql

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

var fuzzTypes = []string{"string", "int", "date", "timestamp", "bigint", "varchar(10)", "decimal(10,2)", "boolean", "tinyint", "char(3)"}

// FuzzStatementStructure feeds arbitrary names and values to every builder and checks that each
// statement it accepts tokenizes to exactly the expected structure: one statement, no comments,
// identifiers equal to the input names, literals that Hive decodes back to the input values.
func FuzzStatementStructure(f *testing.F) {
	f.Add("default", "srcpart", "key", "ds", "2008-04-08", "11", "hdfs://nn:8020/w/t", "hive.merge.tezfiles", "true", uint8(10))
	f.Add("db", "t", "c", "k", `it's "x" \ y`, "-5", "gs://b/p", "a.b", "x y", uint8(0))
	f.Add("db", "t", "c", "k", "a' OR '1'='1", "1; DROP TABLE t", "file:/tmp/x", "k", "v;", uint8(11))
	f.Add("db", "t", "c", "k", "x\\", "0", "s3a://b/x", "k", "${x}", uint8(21))
	f.Add("db", "t", "c", "k", "-- c", "/* c */", "viewfs://c/x", "k", "--", uint8(33))
	f.Add("d`b", "t", "c", "k", DefaultPartition, DefaultPartition, "hdfs://x'", "k", "v", uint8(44))
	f.Add("db", "t", "c", "k", "2024-02-29", "2024-01-01 00:00:00", "hdfs://n/a", "k", "v", uint8(32))
	f.Add("db", "t", "c", "k", "\\012", "\\u0027", "hdfs://n/a b", "k.v-w", "-Xmx1g", uint8(50))
	f.Add("db", "t", "c", "k", "true", "1.5", "hdfs://n/a", "k", "v", uint8(67))
	f.Fuzz(func(t *testing.T, db, table, col, key, v1, v2, loc, setKey, setVal string, types uint8) {
		tbl := Table{Database: db, Name: table}
		other := Table{Database: db, Name: "hivemerge_tmp"}
		cols := []Column{
			{key, fuzzTypes[int(types)%len(fuzzTypes)]},
			{"p2", fuzzTypes[int(types)/len(fuzzTypes)%len(fuzzTypes)]},
		}
		vals := map[string]string{}
		if v1 != "" {
			vals[key] = v1
		}
		if v2 != "" {
			vals["p2"] = v2
		}
		spec, err := NewSpec(cols, vals)
		if err != nil {
			if !errors.Is(err, merge.ErrInvalid) {
				t.Fatalf("NewSpec error %v is not merge.ErrInvalid", err)
			}
			spec = Spec{}
		} else {
			// String-typed values must reach Hive unchanged.
			for i, c := range spec.cols {
				if spec.set[i] && spec.kinds[i] == kindString && spec.vals[i] != vals[c.Name] {
					t.Fatalf("value of %s changed from %q to %q", c.Name, vals[c.Name], spec.vals[i])
				}
			}
		}

		check := func(name string, stmt string, err error, want []tok) {
			t.Helper()
			if err != nil {
				if !errors.Is(err, merge.ErrInvalid) {
					t.Fatalf("%s: error %v is not merge.ErrInvalid", name, err)
				}
				return
			}
			got, terr := tokenize(stmt)
			if terr != nil {
				t.Fatalf("%s: %q: %v", name, stmt, terr)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: %q\n got %v\nwant %v", name, stmt, got, want)
			}
		}
		tt := tableToks(tbl)

		s, err := Use(db)
		check("Use", s, err, cat(words("USE"), []tok{{tokIdent, db}}))

		s, err = DescribeFormatted(tbl, spec)
		check("DescribeFormatted", s, err, cat(words("DESCRIBE FORMATTED"), tt, partToks(spec, false)))

		s, err = ShowPartitions(tbl, spec)
		check("ShowPartitions", s, err, cat(words("SHOW PARTITIONS"), tt, partToks(spec, false)))

		s, err = ShowTableExtended(tbl, spec)
		check("ShowTableExtended", s, err, cat(words("SHOW TABLE EXTENDED IN"), []tok{{tokIdent, db}}, words("LIKE"), []tok{{tokLit, table}}, partToks(spec, false)))

		s, err = ShowTableProperties(tbl)
		check("ShowTableProperties", s, err, cat(words("SHOW TBLPROPERTIES"), tt))

		s, err = ShowTableProperty(tbl, setKey)
		check("ShowTableProperty", s, err, cat(words("SHOW TBLPROPERTIES"), tt, punct("("), []tok{{tokLit, setKey}}, punct(")")))

		s, err = Concatenate(tbl, spec)
		check("Concatenate", s, err, cat(words("ALTER TABLE"), tt, partToks(spec, false), words("CONCATENATE")))

		s, err = CompactMajor(tbl, spec)
		check("CompactMajor", s, err, cat(words("ALTER TABLE"), tt, partToks(spec, false), words("COMPACT"), []tok{{tokLit, "major"}}))

		s, err = InsertOverwrite(other, tbl, spec, []string{col})
		sel := []tok{{tokIdent, col}}
		for i, c := range spec.cols {
			if !spec.set[i] {
				sel = append(sel, punct(",")[0], tok{tokIdent, c.Name})
			}
		}
		check("InsertOverwrite", s, err, cat(words("INSERT OVERWRITE TABLE"), tableToks(other), partToks(spec, true), words("SELECT"), sel, words("FROM"), tt, whereToks(spec)))

		s, err = CreateExternalLike(other, tbl, loc)
		check("CreateExternalLike", s, err, cat(words("CREATE EXTERNAL TABLE"), tableToks(other), words("LIKE"), tt, words("LOCATION"), []tok{{tokLit, loc}}))

		s, err = SetLocation(tbl, spec, loc)
		check("SetLocation", s, err, cat(words("ALTER TABLE"), tt, partToks(spec, false), words("SET LOCATION"), []tok{{tokLit, loc}}))

		s, err = DropExternalTable(tbl)
		check("DropExternalTable", s, err, cat(words("DROP TABLE IF EXISTS"), tt))

		s, err = Analyze(tbl, spec)
		check("Analyze", s, err, cat(words("ANALYZE TABLE"), tt, partToks(spec, true), words("COMPUTE STATISTICS")))

		s, err = Checksum(tbl, []string{col}, spec)
		check("Checksum", s, err, cat(words("SELECT COUNT"), punct("(*),"), words("COALESCE"), punct("("), words("SUM"), punct("("),
			words("HASH"), punct("("), []tok{{tokIdent, col}}, punct(")),"), []tok{{tokNum, "0"}}, punct(")"), words("FROM"), tt, whereToks(spec)))

		s, err = MsckRepair(tbl)
		check("MsckRepair", s, err, cat(words("MSCK REPAIR TABLE"), tt))

		s, err = SetTableProperties(tbl, map[string]string{setKey: v1})
		check("SetTableProperties", s, err, cat(words("ALTER TABLE"), tt, words("SET TBLPROPERTIES"), punct("("),
			[]tok{{tokLit, setKey}}, punct("="), []tok{{tokLit, v1}}, punct(")")))

		// SET is not tokenized as SQL by Hive: the value is the rest of the line.
		if s, err := Set(setKey, setVal); err == nil {
			if s != "SET "+setKey+"="+setVal || strings.ContainsAny(s, ";\n\r'\"`\\") || strings.Contains(s, "${") || strings.Contains(s, "--") && !strings.Contains(setVal, "--") {
				t.Fatalf("Set(%q, %q) = %q", setKey, setVal, s)
			}
		} else if !errors.Is(err, merge.ErrInvalid) {
			t.Fatalf("Set: %v", err)
		}
	})
}

func cat(parts ...[]tok) []tok { return slices.Concat(parts...) }

func words(s string) []tok {
	var out []tok
	for _, w := range strings.Fields(s) {
		out = append(out, tok{tokWord, w})
	}
	return out
}

func punct(s string) []tok {
	var out []tok
	for _, c := range s {
		out = append(out, tok{tokPunct, string(c)})
	}
	return out
}

func tableToks(t Table) []tok {
	return []tok{{tokIdent, t.Database}, {tokPunct, "."}, {tokIdent, t.Name}}
}

// valueTok is the token a partition value must become inside PARTITION (...) or after "=" in
// a WHERE clause.
func valueTok(s Spec, i int, where bool) tok {
	v := s.vals[i]
	if v == DefaultPartition {
		return tok{tokLit, v}
	}
	switch s.kinds[i] {
	case kindInt, kindDecimal:
		if strings.HasPrefix(v, "-") && !where {
			return tok{tokLit, v}
		}
		return tok{tokNum, v}
	case kindBool:
		return tok{tokWord, strings.ToUpper(v)}
	}
	return tok{tokLit, v}
}

func partToks(s Spec, dynamic bool) []tok {
	var items [][]tok
	for i, c := range s.cols {
		switch {
		case s.set[i]:
			items = append(items, []tok{{tokIdent, c.Name}, {tokPunct, "="}, valueTok(s, i, false)})
		case dynamic:
			items = append(items, []tok{{tokIdent, c.Name}})
		}
	}
	if len(items) == 0 {
		return nil
	}
	out := cat(words("PARTITION"), punct("("))
	for i, it := range items {
		if i > 0 {
			out = append(out, punct(",")...)
		}
		out = append(out, it...)
	}
	return append(out, punct(")")...)
}

func whereToks(s Spec) []tok {
	var out []tok
	for i, c := range s.cols {
		if !s.set[i] {
			continue
		}
		if len(out) == 0 {
			out = words("WHERE")
		} else {
			out = append(out, words("AND")...)
		}
		out = append(out, tok{tokIdent, c.Name})
		if s.vals[i] == DefaultPartition {
			out = append(out, words("IS NULL")...)
			continue
		}
		out = append(out, punct("=")[0], valueTok(s, i, true))
	}
	return out
}
