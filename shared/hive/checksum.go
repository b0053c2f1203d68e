package hive

import (
	"strconv"
	"strings"
)

// Checksum is the answer to hql.Checksum: the row count and the sum of the per-row hashes.
type Checksum struct {
	Rows int64 `json:"rows"`
	Sum  int64 `json:"sum"`
}

const checksumWhat = "checksum query"

// ParseChecksum parses the single row of SELECT COUNT(*), COALESCE(SUM(HASH(...)), 0).
func ParseChecksum(rows [][]string) (Checksum, error) {
	v, err := parseInts(checksumWhat, rows)
	if err != nil {
		return Checksum{}, err
	}
	if len(v) != 2 {
		return Checksum{}, parseErr(checksumWhat, 1, "expected 2 columns, got %d", len(v))
	}
	var c Checksum
	if v[0] != nil {
		c.Rows = *v[0]
	}
	if v[1] != nil {
		c.Sum = *v[1]
	}
	return c, nil
}

// parseInts parses a result of exactly one row of integers; NULL ("") gives nil.
func parseInts(what string, rows [][]string) ([]*int64, error) {
	var data [][]string
	for _, r := range rows {
		if !blank(r) {
			data = append(data, r)
		}
	}
	if len(data) != 1 {
		return nil, parseErr(what, 0, "expected one row, got %d", len(data))
	}
	out := make([]*int64, len(data[0]))
	for i, c := range data[0] {
		c = strings.TrimSpace(c)
		if c == "" || c == "NULL" {
			continue
		}
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil {
			return nil, parseErr(what, 1, "column %d: %q is not an integer", i+1, c)
		}
		out[i] = &n
	}
	return out, nil
}
