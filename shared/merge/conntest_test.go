package merge_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/sandboxtest"
	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/secretref"
)

const ldapPassword = "correct-horse-battery"

// startSandbox starts a HiveServer2 sandbox: NOSASL without users, SASL PLAIN (LDAP) with.
func startSandbox(t *testing.T, users map[string]string) (host string, port int) {
	t.Helper()
	sb := sandboxtest.Start(t, func(c *hivesandbox.Config) { c.Users = users })
	return sb.Host, sb.Port
}

func splitAddr(t *testing.T, addr string) (string, int) {
	t.Helper()
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(p)
	return host, port
}

// deadPort is a loopback port nothing listens on: one just released.
func deadPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port := splitAddr(t, ln.Addr().String())
	return port
}

// peerWords is what a service that is not HiveServer2 answers; no connection test may repeat it.
const peerWords = "peer-words-7f3a"

// peer listens on loopback and answers every connection with reply, as another service
// would, then reads until the client hangs up (closing first could reset the connection
// before the client read the reply).
func peer(t *testing.T, reply string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(reply))
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	_, port := splitAddr(t, ln.Addr().String())
	return port
}

func TestTestCluster(t *testing.T) {
	nosaslHost, nosaslPort := startSandbox(t, nil)
	ldapHost, ldapPort := startSandbox(t, map[string]string{"alice": ldapPassword})
	t.Setenv("HIVEMERGE_SECRET_TEST_HIVE_PASSWORD", ldapPassword)
	t.Setenv("HIVEMERGE_SECRET_TEST_WRONG_PASSWORD", "wrong-password")
	secretDir := t.TempDir()
	t.Setenv(secretref.DirsVar, secretDir)
	pwFile := filepath.Join(secretDir, "hive-password")
	if err := os.WriteFile(pwFile, []byte(ldapPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ldap := func(id, ref string) merge.Cluster {
		return merge.Cluster{ID: id, Host: ldapHost, Port: ldapPort, Auth: merge.AuthLDAP, Username: "alice", PasswordRef: ref}
	}

	dead := deadPort(t)
	peerPort := peer(t, "\x03\x00\x00\x00\x0f"+peerWords)

	svc, _ := newService(t)
	svc.WithProber(&hive.Prober{}, secretref.New(nil))
	for _, c := range []struct {
		name    string
		cluster merge.Cluster
		ok      bool
		stage   merge.Stage
		msg     string
	}{
		{"NOSASL", merge.Cluster{ID: "nosasl", Host: nosaslHost, Port: nosaslPort, Auth: merge.AuthNoSASL}, true, merge.StageQuery,
			"connected to " + net.JoinHostPort(nosaslHost, strconv.Itoa(nosaslPort)) + " (binary, NOSASL) and listed 1 database in"},
		{"LDAP with an env: password", ldap("ldap-env", "env:HIVEMERGE_SECRET_TEST_HIVE_PASSWORD"), true, merge.StageQuery, "(binary, LDAP) as alice and listed 1 database"},
		{"LDAP with a file: password", ldap("ldap-file", "file:"+pwFile), true, merge.StageQuery, "as alice and listed 1 database"},
		{"wrong password", ldap("ldap-wrong", "env:HIVEMERGE_SECRET_TEST_WRONG_PASSWORD"), false, merge.StageAuthenticate,
			"could not connect to " + net.JoinHostPort(ldapHost, strconv.Itoa(ldapPort)) + " (binary, LDAP) as alice: authentication failed"},
		{"password variable unset", ldap("ldap-unset", "env:HIVEMERGE_SECRET_TEST_UNSET_PASSWORD"), false, merge.StageSecret,
			"could not read the password from password_ref env:HIVEMERGE_SECRET_TEST_UNSET_PASSWORD: environment variable HIVEMERGE_SECRET_TEST_UNSET_PASSWORD is not set or empty"},
		{"password file missing", ldap("ldap-nofile", "file:"+filepath.Join(secretDir, "missing")), false, merge.StageSecret, "password file " + filepath.Join(secretDir, "missing") + " does not exist"},
		{"password file outside the secret directories", ldap("ldap-outside", "file:/nonexistent/hive-password"), false, merge.StageSecret, "password file /nonexistent/hive-password is not below a secret directory"},
		{"password variable outside the prefix", ldap("ldap-prefix", "env:HIVE_PASSWORD"), false, merge.StageSecret, "env: references must name a variable starting with HIVEMERGE_SECRET_"},
		{"nothing listens", merge.Cluster{ID: "dead", Host: "127.0.0.1", Port: dead, Auth: merge.AuthNoSASL}, false, merge.StageConnect,
			"could not connect to 127.0.0.1:" + strconv.Itoa(dead) + " (binary, NOSASL): connection refused"},
		{"a peer that is not HiveServer2", merge.Cluster{ID: "peer", Host: "127.0.0.1", Port: peerPort, Auth: merge.AuthNone}, false, merge.StageAuthenticate,
			"could not connect to 127.0.0.1:" + strconv.Itoa(peerPort) + " (binary, NONE): authentication failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := svc.CreateCluster(t.Context(), c.cluster); err != nil {
				t.Fatal(err)
			}
			got, err := svc.TestCluster(t.Context(), c.cluster.ID)
			if err != nil {
				t.Fatalf("TestCluster: %v", err)
			}
			if got.OK != c.ok || got.Stage != c.stage || !strings.Contains(got.Message, c.msg) || got.ClusterID != c.cluster.ID || got.TestedAt.IsZero() {
				t.Errorf("TestCluster = %+v\nwant ok=%v, stage %s, a message containing %q", got, c.ok, c.stage, c.msg)
			}
			if c.ok && got.Databases != 1 {
				t.Errorf("databases = %d, want 1 (default)", got.Databases)
			}
			for _, secret := range []string{ldapPassword, "wrong-password", peerWords} {
				if strings.Contains(got.Message, secret) {
					t.Errorf("the message shows a password: %s", got.Message)
				}
			}
		})
	}
}

func TestTestClusterRefuses(t *testing.T) {
	host, port := startSandbox(t, nil)
	for _, c := range []struct {
		name    string
		prober  merge.Prober
		secrets merge.Secrets
		id      string
		ctx     func(context.Context) context.Context
		kind    error
	}{
		{name: "unknown cluster", prober: &hive.Prober{}, id: "nope", kind: merge.ErrNotFound},
		{name: "malformed id", prober: &hive.Prober{}, id: "../demo", kind: merge.ErrNotFound},
		{name: "no prober", id: "plain", kind: merge.ErrUnavailable},
		{name: "no resolver for a password_ref", prober: &hive.Prober{}, id: "withref", kind: merge.ErrUnavailable},
		{name: "caller gone", prober: &hive.Prober{}, secrets: secretref.New(nil), id: "plain", kind: context.Canceled, ctx: func(ctx context.Context) context.Context {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return ctx
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			svc, _ := newService(t)
			for _, cl := range []merge.Cluster{
				{ID: "plain", Host: host, Port: port, Auth: merge.AuthNoSASL},
				{ID: "withref", Host: host, Port: port, Auth: merge.AuthLDAP, Username: "alice", PasswordRef: "env:HIVEMERGE_SECRET_TEST_HIVE_PASSWORD"},
			} {
				if _, err := svc.CreateCluster(t.Context(), cl); err != nil {
					t.Fatal(err)
				}
			}
			if c.prober != nil {
				svc.WithProber(c.prober, c.secrets)
			}
			ctx := t.Context()
			if c.ctx != nil {
				ctx = c.ctx(ctx)
			}
			got, err := svc.TestCluster(ctx, c.id)
			if !errors.Is(err, c.kind) || got != nil {
				t.Errorf("TestCluster = %+v, %v; want %v", got, err, c.kind)
			}
		})
	}
}
