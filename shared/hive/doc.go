// Package hive is hivemerge's HiveServer2 adapter: a connection pool over gohive, statement
// execution with progress, logs and cancellation, and parsers for the metadata Hive prints.
// Prober tests a registered cluster's connection settings with one short-lived session.
//
// SQL text is built only by package hql; this package sends it and reads the answers.
// Failures are translated into the domain errors of package merge: statements Hive refuses
// become *Error (errors.Is-able to merge.ErrNotFound, merge.ErrInvalid, ...), connection
// failures and timeouts merge.ErrUnavailable, refused credentials merge.ErrUnauthenticated.
// A statement whose connection drops is sent again on a new session (at most twice) only when
// hql.KindOf says repeating it is harmless; a write may have run, so its caller decides.
//
// # Kerberos
//
// Kerberos (Config.Auth = AuthKerberos) needs cgo and the MIT Kerberos GSS-API headers and
// library (Debian/Ubuntu: apt-get install libkrb5-dev), and the kerberos build tag:
//
//	go build -tags kerberos ./...
//
// Without the tag, a Kerberos configuration is refused by New with a clear error instead of
// reaching gohive, whose non-Kerberos build panics on GSSAPI. The client uses the ticket cache
// of the process (kinit, or KRB5CCNAME); Config.KerberosService is the service part of the
// server principal (usually "hive"), the host part is Config.Host.
package hive
