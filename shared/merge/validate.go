package merge

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a request may carry.
const (
	MaxIdentifierLen  = 128
	MaxPartitionSpecs = 1000
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
	}
	return nil
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}
