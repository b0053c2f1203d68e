package hive_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// cluster registers the sandbox as an administrator would.
func (sb *sandbox) cluster(t testing.TB) *merge.Cluster {
	t.Helper()
	cfg := sb.config(t)
	c := &merge.Cluster{
		ID:        "sandbox",
		Host:      cfg.Host,
		Port:      cfg.Port,
		Transport: string(cfg.Transport),
		Auth:      string(cfg.Auth),
		TLS:       sb.ep.tls,
		Username:  cfg.Username,
	}
	if cfg.Password != "" {
		c.PasswordRef = "env:UNUSED" // the prober gets the password itself
	}
	if err := c.Normalize(nil); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestProbe(t *testing.T) {
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t, ep)
			seed(t, sb.client(t))
			p := &hive.Prober{TLS: sb.clientTLS}
			got, err := p.Probe(t.Context(), sb.cluster(t), users["alice"])
			if err != nil || got.Stage != merge.StageQuery || got.Databases != 2 {
				t.Fatalf("Probe = %+v, %v; want stage query and 2 databases (default, sales)", got, err)
			}
			if ep.auth == hive.AuthNoSASL {
				return
			}
			got, err = p.Probe(t.Context(), sb.cluster(t), "wrong-password")
			if !errors.Is(err, merge.ErrUnauthenticated) || got.Stage != merge.StageAuthenticate {
				t.Errorf("wrong password: %+v, %v; want stage authenticate", got, err)
			}
			if err != nil && strings.Contains(err.Error(), "wrong-password") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestProbeFailures(t *testing.T) {
	sb := startSandbox(t, endpoints[0])
	dead := deadPort(t)
	for _, c := range []struct {
		name  string
		fault *hivesandbox.Fault
		edit  func(*merge.Cluster)
		ctx   func(context.Context) context.Context
		stage merge.Stage
		kind  error
		// msg is the whole message: the cause alone, as the caller says the rest; before a
		// session exists, the reason alone.
		msg string
	}{
		{name: "nothing listens", edit: func(c *merge.Cluster) { c.Port = dead }, stage: merge.StageConnect, kind: merge.ErrUnavailable, msg: "connection refused"},
		{name: "TLS to a plain port", edit: func(c *merge.Cluster) { c.TLS = true }, stage: merge.StageConnect, kind: merge.ErrUnavailable, msg: "timed out"},
		{name: "LDAP without a password", edit: func(c *merge.Cluster) { c.Auth, c.Username = merge.AuthLDAP, "alice" }, stage: merge.StageConnect, kind: merge.ErrInvalid, msg: "invalid connection settings"},
		{name: "statement refused", fault: &hivesandbox.Fault{Match: `^SHOW DATABASES`, Action: hivesandbox.FaultFail, Message: "FAILED: SemanticException no metastore"}, stage: merge.StageQuery, kind: merge.ErrInvalid, msg: "FAILED: SemanticException no metastore"},
		{name: "statement hangs past the timeout", fault: &hivesandbox.Fault{Match: `^SHOW DATABASES`, Action: hivesandbox.FaultHang}, stage: merge.StageQuery, kind: merge.ErrUnavailable, msg: "HiveServer2 did not answer within 500ms"},
		{name: "connection dropped", fault: &hivesandbox.Fault{Match: `^SHOW DATABASES`, Action: hivesandbox.FaultDropConnection}, stage: merge.StageQuery, kind: merge.ErrUnavailable, msg: "HiveServer2 closed the connection without an answer"},
		{name: "caller gone", ctx: func(ctx context.Context) context.Context {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return ctx
		}, stage: merge.StageConnect, kind: context.Canceled, msg: "hive connect: context canceled"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.fault != nil {
				t.Cleanup(sb.srv.Inject(*c.fault))
			}
			cl := sb.cluster(t)
			if c.edit != nil {
				c.edit(cl)
			}
			ctx := t.Context()
			if c.ctx != nil {
				ctx = c.ctx(ctx)
			}
			p := &hive.Prober{Timeout: 500 * time.Millisecond}
			got, err := p.Probe(ctx, cl, "")
			if !errors.Is(err, c.kind) || got.Stage != c.stage || err.Error() != c.msg {
				t.Errorf("Probe = %+v, %q; want stage %s, %v and %q", got, err, c.stage, c.kind, c.msg)
			}
		})
	}
}

// deadPort returns a loopback port that nothing listens on: one just released.
func deadPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	n, _ := strconv.Atoi(port)
	return n
}

func TestClusterConfig(t *testing.T) {
	c := &merge.Cluster{ID: "prod", Host: "hive.example.internal", Port: 10001, Transport: "http", Auth: "LDAP", TLS: true, Username: "hivemerge", PasswordRef: "env:PW"}
	cfg := hive.ClusterConfig(c, "pw")
	if cfg.Name != "prod" || cfg.Host != c.Host || cfg.Port != 10001 || cfg.Transport != hive.TransportHTTP || cfg.Auth != hive.AuthLDAP ||
		cfg.Username != "hivemerge" || cfg.Password != "pw" || cfg.TLS == nil {
		t.Errorf("ClusterConfig = %v", cfg)
	}
	if hive.ClusterConfig(&merge.Cluster{ID: "x", Host: "h"}, "").TLS != nil {
		t.Error("a cluster without tls got a TLS configuration")
	}
}
