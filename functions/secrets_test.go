package functions

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// eavesdropper is a service at an address an administrator chose: it keeps everything clients send
// it. Over binary transport it reads the two SASL frames a PLAIN client sends (the mechanism,
// then user and password), refuses them and reads on until the client hangs up; over HTTP it
// keeps the Authorization header and answers 401.
type eavesdropper struct {
	mu  sync.Mutex
	got bytes.Buffer
}

func (ev *eavesdropper) keep(b []byte) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.got.Write(b)
}

func (ev *eavesdropper) String() string {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return ev.got.String()
}

func (ev *eavesdropper) listenSASL(t *testing.T) int {
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
			go func() {
				defer c.Close()
				for range 2 {
					var hdr [5]byte // status, payload length
					if _, err := io.ReadFull(c, hdr[:]); err != nil {
						return
					}
					payload := make([]byte, min(binary.BigEndian.Uint32(hdr[1:]), 1<<16))
					if _, err := io.ReadFull(c, payload); err != nil {
						return
					}
					ev.keep(append(hdr[:], payload...))
				}
				c.Write([]byte{3, 0, 0, 0, 0}) // BAD
				rest, _ := io.ReadAll(c)
				ev.keep(rest)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func (ev *eavesdropper) listenHTTP(t *testing.T) int {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		ev.keep([]byte(auth + "\n"))
		if b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(auth, "Basic ")); err == nil {
			ev.keep(b)
		}
		body, _ := io.ReadAll(r.Body)
		ev.keep(body)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(hs.Close)
	return hs.Listener.Addr().(*net.TCPAddr).Port
}

// TestSecretReferencesStayInside registers clusters whose password_ref names the server's own
// secrets and tests them against a eavesdropper: registration refuses what no configuration may
// allow, the connection test refuses what this configuration does not, and the eavesdropper never
// receives a secret other than the one set aside for clusters.
func TestSecretReferencesStayInside(t *testing.T) {
	const (
		apiToken      = "api-token-s3cret-0001"
		tokens        = "ada:admin:tokens-s3cret-0002"
		outsideEnv    = "outside-env-s3cret-0003"
		outsideFile   = "outside-file-s3cret-0004"
		clusterSecret = "cluster-pw-0005"
	)
	secretDir := t.TempDir()
	outsideDir := t.TempDir()
	t.Setenv("HIVEMERGE_SECRET_DIRS", secretDir)
	t.Setenv("HIVEMERGE_API_TOKEN", apiToken)
	t.Setenv("HIVEMERGE_TOKENS", tokens)
	t.Setenv("HIVE_PASSWORD", outsideEnv)
	t.Setenv("HIVEMERGE_SECRET_HIVE_PW", clusterSecret)
	outside := filepath.Join(outsideDir, "hive-pw")
	if err := os.WriteFile(outside, []byte(outsideFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(secretDir, "escape")); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, openBolt(t), nil)
	ev := &eavesdropper{}
	saslPort, httpPort := ev.listenSASL(t), ev.listenHTTP(t)

	cluster := func(id, ref string, port int) map[string]any {
		transport := merge.TransportBinary
		if port == httpPort {
			transport = merge.TransportHTTP
		}
		return map[string]any{"id": id, "host": "127.0.0.1", "port": port, "transport": transport, "auth": merge.AuthLDAP, "username": "alice", "password_ref": ref}
	}

	refused := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"the process environment", cluster("environ", "file:/proc/self/environ", saslPort), "password_ref"},
		{"another process's environment", cluster("environ1", "file:/proc/1/environ", saslPort), "password_ref"},
		{"the API token", cluster("api-token", "env:HIVEMERGE_API_TOKEN", saslPort), "password_ref"},
		{"the token list", cluster("tokens", "env:HIVEMERGE_TOKENS", saslPort), "password_ref"},
		{"the token list over HTTP", cluster("tokens-http", "env:HIVEMERGE_TOKENS", httpPort), "password_ref"},
		{"the Google credentials", cluster("gac", "env:GOOGLE_APPLICATION_CREDENTIALS", saslPort), "password_ref"},
		{"the metadata server", map[string]any{"id": "metadata", "host": "169.254.169.254", "port": 80}, "host"},
		{"the metadata server by name", map[string]any{"id": "metadata-name", "host": "metadata.google.internal", "port": 80}, "host"},
		{"the unspecified address", map[string]any{"id": "unspecified", "host": "0.0.0.0", "port": saslPort}, "host"},
		{"fs_default at the root", map[string]any{"id": "root-fs", "host": "127.0.0.1", "fs_default": "file:///"}, "fs_default"},
	}
	for _, c := range refused {
		t.Run("register "+c.name, func(t *testing.T) {
			r := e.do(t, "POST", "/api/v1/clusters", adminToken, c.body)
			var eb errorBody
			r.json(t, &eb)
			if r.status != http.StatusBadRequest || eb.Error.Code != "invalid_argument" || !strings.Contains(eb.Error.Message, c.field) {
				t.Errorf("%d %s; want 400 naming %s", r.status, r.body, c.field)
			}
		})
	}

	tested := []struct {
		name, ref string
		port      int
		ok        bool
		stage     merge.Stage
	}{
		{"a variable outside the prefix", "env:HIVE_PASSWORD", saslPort, false, merge.StageSecret},
		{"a variable outside the prefix over HTTP", "env:HIVE_PASSWORD", httpPort, false, merge.StageSecret},
		{"a file outside the secret directories", "file:" + outside, saslPort, false, merge.StageSecret},
		{"a link out of the secret directory", "file:" + filepath.Join(secretDir, "escape"), saslPort, false, merge.StageSecret},
		{"a missing file outside the secret directories", "file:" + filepath.Join(outsideDir, "missing"), saslPort, false, merge.StageSecret},
		// The eavesdropper must see this one: it shows that it would have seen the others.
		{"the cluster's own secret", "env:HIVEMERGE_SECRET_HIVE_PW", saslPort, false, merge.StageAuthenticate},
		{"the cluster's own secret over HTTP", "env:HIVEMERGE_SECRET_HIVE_PW", httpPort, false, merge.StageAuthenticate},
	}
	messages := map[string]string{}
	for i, c := range tested {
		t.Run("test "+c.name, func(t *testing.T) {
			id := "c" + strconv.Itoa(i)
			if r := e.do(t, "POST", "/api/v1/clusters", adminToken, cluster(id, c.ref, c.port)); r.status != http.StatusCreated {
				t.Fatalf("register: %d %s", r.status, r.body)
			}
			r := e.do(t, "POST", "/api/v1/clusters/"+id+"/test", adminToken, nil)
			var got merge.ConnectionTest
			r.json(t, &got)
			if r.status != http.StatusOK || got.OK != c.ok || got.Stage != c.stage {
				t.Errorf("%d %s; want ok=%v at stage %s", r.status, r.body, c.ok, c.stage)
			}
			msg := strings.ReplaceAll(got.Message, c.ref, "REF")
			messages[c.name] = strings.ReplaceAll(msg, strings.TrimPrefix(c.ref, "file:"), "PATH")
		})
	}
	if a, b := messages["a file outside the secret directories"], messages["a missing file outside the secret directories"]; a != b || a == "" {
		t.Errorf("an existing and a missing file outside are told apart:\n%s\n%s", a, b)
	}

	got := ev.String()
	if !strings.Contains(got, clusterSecret) || !strings.Contains(got, base64.StdEncoding.EncodeToString([]byte("alice:"+clusterSecret))) {
		t.Fatalf("the eavesdropper did not receive the cluster's secret over both transports, so it proves nothing: %q", got)
	}
	for _, s := range []string{apiToken, tokens, "tokens-s3cret", outsideEnv, outsideFile, "HIVEMERGE_", "PATH="} {
		if strings.Contains(got, s) {
			t.Errorf("the eavesdropper received %q: %q", s, got)
		}
	}
}
