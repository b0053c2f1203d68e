package hive

import (
	"reflect"
	"strings"
	"testing"
)

// A partition value may be nothing but whitespace (PARTITION (p=' ')); SHOW PARTITIONS prints it
// unpadded, so every space is part of the value.
func TestParsePartitionsWhitespaceValues(t *testing.T) {
	cases := []struct {
		name string
		rows string
		keys []string
		want [][]string // values per partition
	}{
		{"single space", "p= \n", nil, [][]string{{" "}}},
		{"two levels, spaces at the end", "ds=1/p=  \n", nil, [][]string{{"1", "  "}}},
		{"space first, with keys", "p= /q=a\n", []string{"p", "q"}, [][]string{{" ", "a"}}},
		{"decoded name split by keys", "p= /x/q= \n", []string{"p", "q"}, [][]string{{" /x", " "}}},
		{"leading and trailing spaces kept", "p= a \n", nil, [][]string{{" a "}}},
	}
	t.Run("hive output", func(t *testing.T) {
		// insert overwrite ... partition(value) select ..., ' ' as value
		f := readFixture(t, "testdata/fixtures/show-partitions-whitespace-value-hive4.txt")
		parts, err := ParsePartitions(f.rows, []string{"value"})
		if err != nil {
			t.Fatal(err)
		}
		if len(parts) != 2 || parts[0].Name != "value= " || parts[0].Values[0] != " " || !parts[1].IsNull(0) {
			t.Errorf("partitions %q", parts)
		}
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parts, err := ParsePartitions(rowsOf(tc.rows), tc.keys)
			if err != nil {
				t.Fatal(err)
			}
			var got [][]string
			for _, p := range parts {
				got = append(got, p.Values)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("values %q, want %q", got, tc.want)
			}
			if name := strings.TrimSuffix(tc.rows, "\n"); parts[0].Name != name {
				t.Errorf("name %q, want %q", parts[0].Name, name)
			}
		})
	}
}

func TestParsePartitionDetailWhitespaceValue(t *testing.T) {
	rows := rowsOf("# col_name\tdata_type\tcomment\na\tint\t\n\t \t \n" +
		"# Partition Information\t \t \n# col_name\tdata_type\tcomment\np\tstring\t\nq\tstring\t\n\t \t \n" +
		"# Detailed Partition Information\t \t \n" +
		"Partition Value:    \t[ , a]              \t \n")
	p, err := ParsePartitionDetail(rows)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Values, []string{" ", "a"}) {
		t.Errorf("values %q", p.Values)
	}
}
