package hive

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Padded DESCRIBE FORMATTED output prints each line of a multi-line parameter value on a row of
// its own, with an empty key column: ("", padding, line).
func TestParseTableMultiRowParameters(t *testing.T) {
	t.Run("avro schema literal", func(t *testing.T) {
		f := readFixture(t, "testdata/fixtures/describe-formatted-avro-schema-literal-hive4.txt")
		tb, err := ParseTable(f.rows)
		if err != nil {
			t.Fatal(err)
		}
		lit := tb.Parameters["avro.schema.literal"]
		var schema struct {
			Name   string `json:"name"`
			Fields []struct {
				Name string `json:"name"`
			} `json:"fields"`
		}
		if err := json.Unmarshal([]byte(lit), &schema); err != nil {
			t.Fatalf("avro.schema.literal is not the schema: %v\n%s", err, lit)
		}
		if schema.Name != "doctors_n2" || len(schema.Fields) != 3 || schema.Fields[2].Name != "last_name" {
			t.Errorf("schema %+v", schema)
		}
		if want := "{\n  \"namespace\": \"testing.hive.avro.serde\",\n"; !strings.HasPrefix(lit, want) {
			t.Errorf("literal starts %q, want %q (lines joined by \\n, indentation kept)", lit[:min(len(lit), 60)], want)
		}
		if !strings.HasSuffix(lit, "\n  ]\n}") {
			t.Errorf("literal ends %q", lit[max(0, len(lit)-20):])
		}
		if tb.Parameters["bucketing_version"] != "2" || tb.Parameters["k1"] != "v1" || tb.Parameters["k2"] != "v2" {
			t.Errorf("parameters after the literal: %v", tb.Parameters)
		}
		if tb.Format != FormatAvro || tb.Storage.SerDeParams["serialization.format"] != "1" {
			t.Errorf("format %s, storage %+v", tb.Format, tb.Storage)
		}
	})
	t.Run("multi-line table comment", func(t *testing.T) {
		f := readFixture(t, "testdata/fixtures/describe-formatted-multiline-comments-hive4.txt")
		tb, err := ParseTable(f.rows)
		if err != nil {
			t.Fatal(err)
		}
		if got := tb.Parameters["comment"]; got != "table comment\ntwo lines" {
			t.Errorf("comment = %q", got)
		}
		if got := tb.Columns[2].Comment; got != "col3\nthree lines\ncomment" {
			t.Errorf("col3 comment = %q", got)
		}
		if tb.Parameters["numFiles"] != "0" {
			t.Errorf("parameters after the comment: %v", tb.Parameters)
		}
	})

	head := "# col_name            \tdata_type           \tcomment             \n" +
		"a                   \tint                 \t                    \n" +
		"\t \t \n"
	pad := "\t                    \t"
	cases := []struct {
		name      string
		partition bool
		rows      string
		params    map[string]string // expected Parameters (table or partition)
		serde     map[string]string // expected Storage.SerDeParams
	}{
		{"partition parameters", true, head +
			"# Detailed Partition Information\t \t \n" +
			"Partition Value:    \t[1]                 \t \n" +
			"Partition Parameters:\t \t \n" +
			"\tcomment             \tfirst              \n" +
			pad + "  second            \n" +
			"\tnumFiles            \t2                   \n" +
			"\t \t \n",
			map[string]string{"comment": "first\n  second", "numFiles": "2"}, map[string]string{}},
		{"storage desc params", false, head +
			"# Storage Information\t \t \n" +
			"Storage Desc Params:\t \t \n" +
			"\tinput.regex         \t^(a)              \n" +
			pad + "(b)$                \n" +
			"\tserialization.format\t1                   \n",
			map[string]string{}, map[string]string{"input.regex": "^(a)\n(b)$", "serialization.format": "1"}},
		{"empty line inside a value", false, head +
			"# Detailed Table Information\t \t \n" +
			"Table Parameters:\t \t \n" +
			"\tcomment             \tone                 \n" +
			pad + "                    \n" +
			pad + "three               \n" +
			"\tnumRows             \t5                   \n" +
			"\t \t \n" +
			"# Storage Information\t \t \n" +
			"Compressed:         \tNo                  \t \n",
			map[string]string{"comment": "one\n\nthree", "numRows": "5"}, map[string]string{}},
		{"escaped quotes on every line", false, head +
			"# Detailed Table Information\t \t \n" +
			"Table Parameters:\t \t \n" +
			"\tcomment             \tsay \\\"hi\\\"        \n" +
			pad + "and \\\"bye\\\"         \n",
			map[string]string{"comment": "say \"hi\"\nand \"bye\""}, map[string]string{}},
		{"continuation of a masked line is dropped", false, head +
			"# Detailed Table Information\t \t \n" +
			"Table Parameters:\t \t \n" +
			"\tnumRows             \t5                   \n" +
			qtestMask + "\n" +
			pad + "rest of the masked value\n" +
			"\ttotalSize           \t10                  \n",
			map[string]string{"numRows": "5", "totalSize": "10"}, map[string]string{}},
		{"one row per value over HiveServer2", false, head +
			"# Detailed Table Information\t \t \n" +
			"Table Parameters:\t \t \n" +
			"\tcomment\ttable comment\\ntwo lines\n",
			map[string]string{"comment": "table comment\ntwo lines"}, map[string]string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var params, serde map[string]string
			if tc.partition {
				p, err := ParsePartitionDetail(rowsOf(tc.rows))
				if err != nil {
					t.Fatal(err)
				}
				params, serde = p.Parameters, p.Storage.SerDeParams
			} else {
				tb, err := ParseTable(rowsOf(tc.rows))
				if err != nil {
					t.Fatal(err)
				}
				params, serde = tb.Parameters, tb.Storage.SerDeParams
			}
			if !reflect.DeepEqual(params, tc.params) {
				t.Errorf("parameters %q, want %q", params, tc.params)
			}
			if !reflect.DeepEqual(serde, tc.serde) {
				t.Errorf("storage desc params %q, want %q", serde, tc.serde)
			}
		})
	}
}

func TestParseTableContinuationWithoutParameter(t *testing.T) {
	rows := rowsOf("# col_name\tdata_type\tcomment\na\tint\t\n\t \t \n" +
		"# Detailed Table Information\t \t \n" +
		"Table Parameters:\t \t \n" +
		"\t                    \torphan              \n")
	_, err := ParseTable(rows)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 6 {
		t.Fatalf("got %v, want a parse error on line 6", err)
	}
}
