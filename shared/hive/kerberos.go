//go:build kerberos

package hive

import "github.com/beltran/gohive"

// kerberosAvailable reports whether this binary can authenticate with Kerberos: built with the
// kerberos tag, it can (gohive's GSSAPI mechanism links libkrb5 through cgo).
func kerberosAvailable() error { return nil }

// kerberosAuth prepares a gohive configuration for Kerberos and returns gohive's auth name.
// The credentials come from the process's ticket cache (kinit or KRB5CCNAME).
func kerberosAuth(gc *gohive.ConnectConfiguration, c Config) string {
	gc.Service = c.KerberosService
	return "KERBEROS"
}
