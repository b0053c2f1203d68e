package hive

import (
	"errors"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// TestGuardAllowlist checks the dial guard's decisions for addresses no test can listen on:
// it runs before connect, so nothing is sent to them.
func TestGuardAllowlist(t *testing.T) {
	allow, err := merge.ParseHostAllowlist("169.254.10.0/24, hive-ll.example.internal")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, host, addr string
		allow            *merge.HostAllowlist
		refused          bool
	}{
		{"metadata", "hive.example.internal", "169.254.169.254:10000", nil, true},
		{"metadata, another range allowlisted", "hive.example.internal", "169.254.169.254:10000", allow, true},
		{"allowlisted link-local", "hive.example.internal", "169.254.10.7:10000", allow, false},
		{"allowlisted name", "hive-ll.example.internal", "169.254.169.254:10000", allow, false},
		{"IPv6 link-local with a zone", "hive.example.internal", "[fe80::1%eth0]:10000", nil, true},
		{"IPv4-mapped metadata", "hive.example.internal", "[::ffff:169.254.169.254]:10000", nil, true},
		{"loopback", "localhost", "127.0.0.1:10000", nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if g := guard(c.host, c.allow); g != nil {
				err = g("tcp", c.addr, nil)
			}
			if c.refused != errors.Is(err, merge.ErrForbidden) || (!c.refused && err != nil) {
				t.Errorf("guard(%s) for %s = %v; refused want %v", c.host, c.addr, err, c.refused)
			}
		})
	}
}
