package hive_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// silentListener listens on loopback and never accepts, so a connection made to it waits in
// the backlog, where connected tells it apart from one never made.
type silentListener struct{ ln *net.TCPListener }

func listenSilently(t *testing.T) (*silentListener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &silentListener{ln.(*net.TCPListener)}, ln.Addr().(*net.TCPAddr).Port
}

// connected reports whether a connection reached the listener. The kernel completes the
// handshake before connect returns, so once the dialling side has returned the connection
// waits in the backlog, where one non-blocking accept finds it.
func (s *silentListener) connected(t *testing.T) bool {
	t.Helper()
	rc, err := s.ln.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	var aerr error
	// The listener's socket is non-blocking: accept answers EAGAIN at once when none waits.
	err = rc.Control(func(fd uintptr) {
		nfd, _, err := syscall.Accept(int(fd))
		switch {
		case err == nil:
			found = true
			syscall.Close(nfd)
		case err != syscall.EAGAIN:
			aerr = err
		}
	})
	if err != nil || aerr != nil {
		t.Fatal(err, aerr)
	}
	return found
}

// TestDialGuard dials 0.0.0.0, which Linux connects to the local host: a forbidden address
// that a listener can observe. The guard must refuse it before any packet is sent, for the
// prober and for clients, over both transports, unless the allowlist names it.
func TestDialGuard(t *testing.T) {
	unspecified, err := merge.ParseHostAllowlist("0.0.0.0/32")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		host      string
		transport string
		allow     *merge.HostAllowlist
		client    bool // through hive.New and Query instead of the prober
		refused   bool
	}{
		{name: "unspecified address", host: "0.0.0.0", refused: true},
		{name: "unspecified address over HTTP", host: "0.0.0.0", transport: merge.TransportHTTP, refused: true},
		{name: "unspecified address from a client", host: "0.0.0.0", client: true, refused: true},
		{name: "metadata address", host: "169.254.169.254", refused: true},
		{name: "IPv6 link-local", host: "[fe80::1]", refused: true},
		{name: "unspecified address allowlisted", host: "0.0.0.0", allow: unspecified},
		{name: "loopback", host: "127.0.0.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ln, port := listenSilently(t)
			cl := &merge.Cluster{ID: "guarded", Host: c.host, Port: port, Transport: c.transport, Auth: merge.AuthNoSASL}
			if cl.Transport == "" {
				cl.Transport = merge.TransportBinary
			}
			var err error
			if c.client {
				cfg := hive.ClusterConfig(cl, "")
				cfg.AllowedHosts = c.allow
				cfg.ConnectTimeout, cfg.SocketTimeout = time.Second, time.Second
				var hc *hive.Client
				if hc, err = hive.New(cfg); err != nil {
					t.Fatal(err)
				}
				defer hc.Close()
				_, err = hc.Query(t.Context(), "SHOW DATABASES", nil)
			} else {
				p := &hive.Prober{Timeout: time.Second, AllowedHosts: c.allow}
				var got merge.Probe
				got, err = p.Probe(t.Context(), cl, "")
				if c.refused && (got.Stage != merge.StageConnect || got.Reason != merge.ReasonForbidden || err.Error() != string(merge.ReasonForbidden)) {
					t.Errorf("Probe = %+v, %v; want stage connect, reason %q", got, err, merge.ReasonForbidden)
				}
			}
			if c.refused != errors.Is(err, merge.ErrForbidden) {
				t.Errorf("err = %v; forbidden want %v", err, c.refused)
			}
			if c.host == "169.254.169.254" || c.host == "[fe80::1]" {
				return // no listener there to ask
			}
			if got := ln.connected(t); got == c.refused {
				t.Errorf("the listener was reached: %v; want %v", got, !c.refused)
			}
		})
	}
}

// TestProbeDoesNotEchoPeer checks that what another service answers on the probed port never
// reaches the probe's error: the connection test must not read banners or error pages of
// services only the server can reach.
func TestProbeDoesNotEchoPeer(t *testing.T) {
	const peer = "peer-words-7f3a"
	// banner answers every connection with reply, then hangs up at once or, with wait, when
	// the client does (hanging up first could reset the connection before the client read
	// the reply; either way the client learns the connection closed).
	banner := func(t *testing.T, reply string, wait bool) int {
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
				io.WriteString(c, reply)
				if wait {
					io.Copy(io.Discard, c)
				}
				c.Close()
			}
		}()
		return ln.Addr().(*net.TCPAddr).Port
	}
	httpPeer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "internal error: "+peer, http.StatusInternalServerError)
	}))
	t.Cleanup(httpPeer.Close)
	_, httpPort, _ := net.SplitHostPort(httpPeer.Listener.Addr().String())
	hp, _ := strconv.Atoi(httpPort)

	for _, c := range []struct {
		name   string
		port   int
		edit   func(*merge.Cluster)
		reason merge.Reason
	}{
		{name: "SSH banner", port: banner(t, "SSH-2.0-OpenSSH_9.6 "+peer+"\r\n", false), reason: merge.ReasonClosed},
		// gohive reads the banner's 'S' as a SASL status and reports a failed negotiation.
		{name: "SSH banner to SASL", port: banner(t, "SSH-2.0-OpenSSH_9.6 "+peer+"\r\n", false), edit: func(c *merge.Cluster) { c.Auth = merge.AuthNone }},
		// A SASL BAD status carries a message, which gohive puts in its error.
		{name: "SASL refusal with a message", port: banner(t, "\x03\x00\x00\x00\x0f"+peer, true), edit: func(c *merge.Cluster) { c.Auth = merge.AuthNone }, reason: merge.ReasonAuth},
		{name: "plain text to TLS", port: banner(t, "HTTP/1.1 400 "+peer+"\r\n\r\n", true), edit: func(c *merge.Cluster) { c.TLS = true }, reason: merge.ReasonTLS},
		{name: "HTTP error page", port: hp, edit: func(c *merge.Cluster) { c.Transport = merge.TransportHTTP }, reason: merge.ReasonProtocol},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := &merge.Cluster{ID: "peer", Host: "127.0.0.1", Port: c.port, Transport: merge.TransportBinary, Auth: merge.AuthNoSASL}
			if c.edit != nil {
				c.edit(cl)
			}
			p := &hive.Prober{Timeout: 5 * time.Second, TLS: &tls.Config{MinVersion: tls.VersionTLS12}}
			got, err := p.Probe(t.Context(), cl, "")
			if err == nil || got.Stage == merge.StageQuery || got.Reason == "" || (c.reason != "" && got.Reason != c.reason) {
				t.Errorf("Probe = %+v, %v; want a failure before the query, with reason %q", got, err, c.reason)
			}
			if err != nil && (strings.Contains(err.Error(), peer) || strings.Contains(err.Error(), "SSH")) {
				t.Errorf("the error repeats the peer: %v", err)
			}
		})
	}
}
