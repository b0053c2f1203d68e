package hive

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// TestRedactIsTheDomainRule: the adapter's redaction of errors and of probe failures and
// merge.Redact cannot disagree, and a redacted error still unwraps to its cause.
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
			if pe := probeFailure(merge.StageQuery, cause, c.password, time.Second); pe.Error() != merge.Redact(cause.Error(), c.password) || pe.cause != pe.Error() {
				t.Errorf("a probe's failure says %q (log %q), merge.Redact %q", pe.Error(), pe.cause, merge.Redact(cause.Error(), c.password))
			}
		})
	}
	if redact(nil, "s3cret") != nil {
		t.Error("redact(nil) is not nil")
	}
}
