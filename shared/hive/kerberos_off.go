//go:build !kerberos

package hive

import (
	"github.com/beltran/gohive"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// kerberosAvailable refuses Kerberos in binaries built without the kerberos tag: gohive's
// GSSAPI mechanism would panic there.
func kerberosAvailable() error {
	return merge.Errorf(merge.ErrInvalid, "hive: KERBEROS authentication needs a binary built with -tags kerberos (cgo and libkrb5); see the package documentation")
}

// kerberosAuth is not reached without the kerberos tag: New refuses the configuration.
func kerberosAuth(*gohive.ConnectConfiguration, Config) string { return "" }
