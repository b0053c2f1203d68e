package merge

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a request may carry.
const (
	MaxIdentifierLen  = 128
	MaxPartitionSpecs = 1000
	// MaxPartitionKeys caps the columns of one partition spec. Hive tables rarely have more
	// than a handful of partition columns; 32 leaves room without letting one request carry
	// thousands of keys into every overlap check.
	MaxPartitionKeys  = 32
	MaxPartitionValue = 1024
	MaxTaskNameLen    = 256
	MinTargetFileSize = 1 << 20
	MaxTargetFileSize = 64 << 30
	DefaultListLimit  = 50
	MaxListLimit      = 1000
	DefaultLogsLimit  = 500
	MaxLogsLimit      = 5000
)

var identRe = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// CheckIdentifier accepts only the Hive identifiers hivemerge can quote safely: ASCII letters,
// digits and underscores. field names the request field in the error.
func CheckIdentifier(field, s string) error {
	if s == "" {
		return Errorf(ErrInvalid, "%s is required", field)
	}
	if len(s) > MaxIdentifierLen {
		return Errorf(ErrInvalid, "%s is longer than %d characters", field, MaxIdentifierLen)
	}
	if !identRe.MatchString(s) {
		return Errorf(ErrInvalid, "%s %q may contain only letters, digits and underscores", field, s)
	}
	return nil
}

// FoldName returns the form of a Hive database, table or column name that hivemerge stores and
// compares. Hive names are case-insensitive (the metastore keeps them in lower case), so
// web.PageViews and WEB.pageviews are one table. Names that pass CheckIdentifier are ASCII, so
// lower-casing them is exact.
func FoldName(s string) string { return strings.ToLower(s) }

// CheckClusterID accepts the cluster IDs the registry accepts (see Cluster.Normalize).
func CheckClusterID(field, s string) error {
	if s == "" {
		return Errorf(ErrInvalid, "%s is required", field)
	}
	if !clusterIDRe.MatchString(s) {
		return Errorf(ErrInvalid, "%s %q must be 1-63 lowercase letters, digits, '-' or '_'", field, s)
	}
	return nil
}

// CheckPartitionValue refuses values that could change a statement's structure or expand as a
// Hive variable, even though the SQL builder escapes them too.
func CheckPartitionValue(key, v string) error {
	switch {
	case len(v) > MaxPartitionValue:
		return Errorf(ErrInvalid, "partition value for %s is longer than %d bytes", key, MaxPartitionValue)
	case !utf8.ValidString(v):
		return Errorf(ErrInvalid, "partition value for %s is not valid UTF-8", key)
	case strings.ContainsAny(v, `'"\`+"`"):
		return Errorf(ErrInvalid, "partition value for %s may not contain quotes, backticks or backslashes", key)
	case hasControl(v):
		return Errorf(ErrInvalid, "partition value for %s may not contain control characters", key)
	case hasFormat(v):
		return Errorf(ErrInvalid, "partition value for %s may not contain invisible or bidirectional formatting characters (%U)", key, firstFormat(v))
	case strings.Contains(v, "${"):
		return Errorf(ErrInvalid, "partition value for %s may not contain ${", key)
	}
	return nil
}

// CheckPartitionSpec validates every key and value of a spec.
func CheckPartitionSpec(p PartitionSpec) error {
	if len(p) == 0 {
		return Errorf(ErrInvalid, "partition_filter entries may not be empty")
	}
	if len(p) > MaxPartitionKeys {
		return Errorf(ErrInvalid, "a partition_filter entry has %d columns; at most %d are allowed", len(p), MaxPartitionKeys)
	}
	for k, v := range p {
		if err := CheckIdentifier("partition column", k); err != nil {
			return err
		}
		if err := CheckPartitionValue(k, v); err != nil {
			return err
		}
	}
	return nil
}

// NormalizePartitions checks specs and returns them with column names folded (FoldName).
// Values are data and keep their case. Two keys of one spec that fold alike, or two specs that
// are equal once folded, are refused: either is a mistake in the request.
func NormalizePartitions(specs []PartitionSpec) ([]PartitionSpec, error) {
	if len(specs) > MaxPartitionSpecs {
		return nil, Errorf(ErrInvalid, "partition_filter has more than %d entries", MaxPartitionSpecs)
	}
	if specs == nil {
		return nil, nil
	}
	out := make([]PartitionSpec, len(specs))
	seen := make(map[string]int, len(specs))
	for i, p := range specs {
		if err := CheckPartitionSpec(p); err != nil {
			return nil, err
		}
		q := make(PartitionSpec, len(p))
		for k, v := range p {
			fk := FoldName(k)
			if _, dup := q[fk]; dup {
				return nil, Errorf(ErrInvalid, "partition_filter entry %d names partition column %s twice (column names are case-insensitive)", i, fk)
			}
			q[fk] = v
		}
		// The key identifies the spec exactly: names are identifiers and values cannot hold
		// control characters, so NUL separators cannot be forged.
		key := specKey(q)
		if j, dup := seen[key]; dup {
			return nil, Errorf(ErrInvalid, "partition_filter entries %d and %d are the same partition spec", j, i)
		}
		seen[key] = i
		out[i] = q
	}
	return out, nil
}

func specKey(p PartitionSpec) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(p[k])
		b.WriteByte(0)
	}
	return b.String()
}

// checkText validates free text that is stored and displayed but never reaches SQL.
func checkText(field, s string, maxLen int) error {
	switch {
	case strings.TrimSpace(s) == "":
		return Errorf(ErrInvalid, "%s is required", field)
	case len(s) > maxLen:
		return Errorf(ErrInvalid, "%s is longer than %d bytes", field, maxLen)
	case !utf8.ValidString(s):
		return Errorf(ErrInvalid, "%s is not valid UTF-8", field)
	case hasControl(s):
		return Errorf(ErrInvalid, "%s may not contain control characters", field)
	case hasFormat(s):
		return Errorf(ErrInvalid, "%s may not contain invisible or bidirectional formatting characters (%U)", field, firstFormat(s))
	}
	return nil
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// isFormat reports format characters (Cf: bidirectional overrides and isolates such as U+202E,
// zero-width characters such as U+200B, U+FEFF) and the line and paragraph separators U+2028
// and U+2029. None is visible, so text holding one can display as something it is not.
func isFormat(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

func hasFormat(s string) bool { return strings.IndexFunc(s, isFormat) >= 0 }

func firstFormat(s string) rune {
	r, _ := utf8.DecodeRuneInString(s[strings.IndexFunc(s, isFormat):])
	return r
}
