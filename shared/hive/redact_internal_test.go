package hive

import (
	"errors"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// TestRedactIsTheDomainRule: the adapter's error redaction and merge.Redact cannot disagree,
// and the redacted error still unwraps to its cause.
func TestRedactIsTheDomainRule(t *testing.T) {
	cause := errors.New("dial http://hive:s3cret@nn:10001/cliservice: refused; s3cret again")
	for _, c := range []struct {
		name, password string
	}{
		{"password in the message", "s3cret"},
		{"password not in the message", "other-pass"},
		{"short password left alone", "s3"},
		{"no password", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := redact(cause, c.password)
			if want := merge.Redact(cause.Error(), c.password); got.Error() != want {
				t.Errorf("redact = %q, merge.Redact = %q", got.Error(), want)
			}
			if len(c.password) >= 3 && strings.Contains(got.Error(), c.password) {
				t.Errorf("%q still holds the password", got.Error())
			}
			if !errors.Is(got, cause) {
				t.Errorf("the redacted error lost its cause")
			}
		})
	}
	if redact(nil, "s3cret") != nil {
		t.Error("redact(nil) is not nil")
	}
}
