package hive

import (
	"errors"
	"strings"

	"github.com/hivemerge/hivemerge/shared/hive/hql"
)

// DefaultPartition is the value Hive stores for a NULL partition key.
const DefaultPartition = hql.DefaultPartition

// Partition is one partition as SHOW PARTITIONS names it.
type Partition struct {
	// Name is the name as Hive printed it, still escaped: "ds=2008-04-08/hr=11".
	Name string `json:"name"`
	// Keys and Values are in the table's partition-key order; values are unescaped and may
	// contain '=' or '/'. DefaultPartition stands for NULL.
	Keys   []string `json:"keys"`
	Values []string `json:"values"`
}

// Spec returns the partition's values by key, ready for hql.NewSpec.
func (p Partition) Spec() map[string]string {
	m := make(map[string]string, len(p.Keys))
	for i, k := range p.Keys {
		m[k] = p.Values[i]
	}
	return m
}

// IsNull reports whether the i-th key is NULL (Hive's default partition).
func (p Partition) IsNull(i int) bool { return p.Values[i] == DefaultPartition }

const showPartitionsWhat = "SHOW PARTITIONS"

// ParsePartitions parses the rows of SHOW PARTITIONS. keys, when given, are the table's
// partition keys in order: every name must have exactly these keys, and names printed
// unescaped (hive.decode.partition.name=true) are split at the known "/key=" boundaries.
func ParsePartitions(rows [][]string, keys []string) ([]Partition, error) {
	out := make([]Partition, 0, len(rows))
	for i, row := range rows {
		if masked(row) || blank(row) {
			continue
		}
		if len(row) > 1 && !blank(row[1:]) {
			return nil, parseErr(showPartitionsWhat, i+1, "expected one column, got %d", len(row))
		}
		// Hive prints partition names unpadded, so every space belongs to a value: PARTITION
		// (p=' ') is listed as "p= ".
		name := row[0]
		p, err := ParsePartitionName(name, keys)
		if err != nil {
			return nil, parseErr(showPartitionsWhat, i+1, "%v", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// ParsePartitionName splits a partition name ("k1=v1/k2=v2", escaped as Hive escapes path
// names) into keys and unescaped values; see ParsePartitions for keys.
func ParsePartitionName(name string, keys []string) (Partition, error) {
	p, err := splitName(name)
	if err == nil && (keys == nil || sameKeys(p.Keys, keys)) {
		return p, nil
	}
	if keys != nil {
		if q, kerr := splitNameByKeys(name, keys); kerr == nil {
			return q, nil
		}
		if err == nil {
			return Partition{}, errors.New("partition " + quote(name) + " does not have the keys " + strings.Join(keys, ", "))
		}
	}
	return Partition{}, err
}

func splitName(name string) (Partition, error) {
	p := Partition{Name: name}
	if name == "" {
		return p, errors.New("empty partition name")
	}
	for _, comp := range strings.Split(name, "/") {
		k, v, ok := strings.Cut(comp, "=")
		if !ok {
			return p, errors.New("partition name " + quote(name) + ": component " + quote(comp) + " has no '='")
		}
		if k == "" || v == "" {
			return p, errors.New("partition name " + quote(name) + ": empty key or value in " + quote(comp))
		}
		p.Keys = append(p.Keys, UnescapePathName(k))
		p.Values = append(p.Values, UnescapePathName(v))
	}
	return p, nil
}

// splitNameByKeys splits "k1=a/b/k2=c" knowing the keys are k1, k2.
func splitNameByKeys(name string, keys []string) (Partition, error) {
	p := Partition{Name: name}
	rest := name
	for i, k := range keys {
		prefix := k + "="
		if len(rest) < len(prefix) || !strings.EqualFold(rest[:len(prefix)], prefix) {
			return p, errors.New("partition name " + quote(name) + " does not continue with " + quote(prefix))
		}
		rest = rest[len(prefix):]
		v := rest
		if i+1 < len(keys) {
			next := "/" + asciiLower(keys[i+1]) + "="
			j := strings.Index(asciiLower(rest), next)
			if j < 0 {
				return p, errors.New("partition name " + quote(name) + " has no key " + keys[i+1])
			}
			v, rest = rest[:j], rest[j+1:]
		}
		if v == "" {
			return p, errors.New("partition name " + quote(name) + ": empty value for " + k)
		}
		p.Keys = append(p.Keys, k)
		p.Values = append(p.Values, UnescapePathName(v))
	}
	return p, nil
}

// asciiLower folds only ASCII letters, so byte offsets in the result are offsets in s:
// strings.ToLower rewrites invalid UTF-8 to U+FFFD and shifts them. Hive's partition keys are
// ASCII identifiers, so folding ASCII is all a key match needs.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func sameKeys(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !strings.EqualFold(got[i], want[i]) {
			return false
		}
	}
	return true
}

func quote(s string) string { return "\"" + s + "\"" }

// UnescapePathName reverses Hive's path-name escaping exactly as FileUtils.unescapePathName
// does: "%" followed by two characters that Java's Integer.parseInt(s, 16) accepts (which
// includes a sign, as in "%+A") becomes that character code; anything else is kept. (Java
// would also accept non-ASCII digits there; Hive never writes them.)
func UnescapePathName(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		if c == '%' && i+2 < len(rs) {
			if code, ok := javaParseHex2(rs[i+1], rs[i+2]); ok && code >= 0 {
				b.WriteRune(rune(code))
				i += 2
				continue
			}
		}
		b.WriteRune(c)
	}
	return b.String()
}

// javaParseHex2 is Integer.parseInt(two characters, 16).
func javaParseHex2(a, b rune) (int, bool) {
	digit := func(r rune) int {
		switch {
		case r >= '0' && r <= '9':
			return int(r - '0')
		case r >= 'a' && r <= 'f':
			return int(r-'a') + 10
		case r >= 'A' && r <= 'F':
			return int(r-'A') + 10
		}
		return -1
	}
	switch a {
	case '+', '-':
		d := digit(b)
		if d < 0 {
			return 0, false
		}
		if a == '-' {
			return -d, true
		}
		return d, true
	}
	x, y := digit(a), digit(b)
	if x < 0 || y < 0 {
		return 0, false
	}
	return x*16 + y, true
}
