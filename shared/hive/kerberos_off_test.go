//go:build !kerberos

package hive_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/merge"
)

func TestKerberosNeedsBuildTag(t *testing.T) {
	_, err := hive.New(hive.Config{Host: "h", Auth: hive.AuthKerberos})
	if !errors.Is(err, merge.ErrInvalid) || !strings.Contains(err.Error(), "-tags kerberos") {
		t.Fatalf("New = %v, want a clear merge.ErrInvalid", err)
	}
}
