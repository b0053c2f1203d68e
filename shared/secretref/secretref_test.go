package secretref_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
	"github.com/hivemerge/hivemerge/shared/secretref"
)

const secret = "s3cret-pw-Ω"

// environ is a getenv over a fixed set of variables, so tests see neither the machine's
// environment nor each other's.
func environ(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	symlink := func(target, name string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := file("plain", secret)
	newline := file("newline", secret+"\n")
	crlf := file("crlf", secret+"\r\n")
	twoNewlines := file("two-newlines", secret+"\n\n")
	empty := file("empty", "")
	big := file("big", strings.Repeat("x", secretref.MaxFileSize+1))
	exact := file("exact", strings.Repeat("x", secretref.MaxFileSize))
	link := symlink("newline", "link")
	// Kubernetes mounts a secret as name -> ..data/name, ..data -> ..2026_12_03_14_00_00.1/.
	file("kube/..2026_12_03_14_00_00.1/hive-pw", secret+"\n")
	if err := os.Symlink("..2026_12_03_14_00_00.1", filepath.Join(dir, "kube", "..data")); err != nil {
		t.Fatal(err)
	}
	kube := symlink("..data/hive-pw", "kube/hive-pw")

	outsideDir := t.TempDir()
	outside := filepath.Join(outsideDir, "pw")
	if err := os.WriteFile(outside, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	escapeAbs := symlink(outside, "escape-absolute")
	escapeRel := symlink(filepath.Join("..", filepath.Base(outsideDir), "pw"), "escape-relative")
	toProc := symlink("/proc/self/environ", "to-proc")
	tokens := file("tokens", "ada:admin:"+secret)
	tokensLink := symlink("tokens", "tokens-link")
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	through := filepath.Join(plain, "pw")
	unreadable := file("unreadable", secret)
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}

	getenv := environ(
		secretref.DirsVar, dir+", /etc/hivemerge/secrets",
		"HIVEMERGE_SECRET_PW", secret,
		"HIVEMERGE_SECRET_EMPTY", "",
		"HIVEMERGE_API_TOKEN", secret,
		"HIVEMERGE_TOKENS", "ada:admin:"+secret,
		"HIVE_PASSWORD", secret,
		"HIVEMERGE_TOKENS_FILE", tokens,
	)
	for _, c := range []struct {
		name, ref string
		want      string
		kind      error
	}{
		{"env", "env:HIVEMERGE_SECRET_PW", secret, nil},
		{"env unset", "env:HIVEMERGE_SECRET_UNSET", "", merge.ErrNotFound},
		{"env empty", "env:HIVEMERGE_SECRET_EMPTY", "", merge.ErrNotFound},
		{"env outside the prefix", "env:HIVE_PASSWORD", "", merge.ErrForbidden},
		{"env the prefix alone", "env:HIVEMERGE_SECRET_", "", merge.ErrForbidden},
		{"env API token", "env:HIVEMERGE_API_TOKEN", "", merge.ErrInvalid},
		{"env tokens", "env:HIVEMERGE_TOKENS", "", merge.ErrInvalid},
		{"file", "file:" + plain, secret, nil},
		{"file loses one trailing newline", "file:" + newline, secret, nil},
		{"file loses a trailing CRLF", "file:" + crlf, secret, nil},
		{"file keeps the second newline", "file:" + twoNewlines, secret + "\n", nil},
		{"file through a symbolic link", "file:" + link, secret, nil},
		{"file in a Kubernetes secret mount", "file:" + kube, secret, nil},
		{"file of exactly the limit", "file:" + exact, strings.Repeat("x", secretref.MaxFileSize), nil},
		{"file missing", "file:" + filepath.Join(dir, "missing"), "", merge.ErrNotFound},
		{"file empty", "file:" + empty, "", merge.ErrNotFound},
		{"file too large", "file:" + big, "", merge.ErrInvalid},
		{"file is the directory itself", "file:" + dir, "", merge.ErrForbidden},
		{"file is a directory", "file:" + filepath.Join(dir, "kube"), "", merge.ErrInvalid},
		{"file is a FIFO", "file:" + fifo, "", merge.ErrInvalid},
		{"file through a file", "file:" + through, "", merge.ErrNotFound},
		{"file outside the directories", "file:" + outside, "", merge.ErrForbidden},
		{"file /etc/passwd", "file:/etc/passwd", "", merge.ErrForbidden},
		{"file /proc/self/environ", "file:/proc/self/environ", "", merge.ErrInvalid},
		{"link escaping the directory, absolute", "file:" + escapeAbs, "", merge.ErrForbidden},
		{"link escaping the directory, relative", "file:" + escapeRel, "", merge.ErrForbidden},
		{"link to /proc/self/environ", "file:" + toProc, "", merge.ErrForbidden},
		{"the server's tokens file", "file:" + tokens, "", merge.ErrForbidden},
		{"a link to the server's tokens file", "file:" + tokensLink, "", merge.ErrForbidden},
		{"relative file", "file:pw.txt", "", merge.ErrInvalid},
		{"not a reference", secret, "", merge.ErrInvalid},
		{"empty reference", "", "", merge.ErrInvalid},
		{"unknown kind", "vault:secret/hive", "", merge.ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := secretref.FromEnv(getenv)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got, err := r.Resolve(t.Context(), c.ref)
			switch {
			case c.kind == nil && err != nil:
				t.Fatalf("Resolve(%q) = %v", c.ref, err)
			case c.kind != nil && !errors.Is(err, c.kind):
				t.Fatalf("Resolve(%q) = %q, %v; want %v", c.ref, got, err, c.kind)
			case got != c.want:
				t.Errorf("Resolve(%q) = %q, want %q", c.ref, got, c.want)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("the error repeats the secret: %v", err)
			}
		})
	}

	// A file the process may not read is ErrForbidden. Modes bind everyone but root, so the
	// mode-0 file is checked when not root; the file outside the secret directories, which
	// root may not read either, is checked always (CI runs as root).
	t.Run("file unreadable", func(t *testing.T) {
		r, err := secretref.FromEnv(getenv)
		if err != nil {
			t.Fatal(err)
		}
		paths := []string{outside}
		if os.Geteuid() != 0 {
			paths = append(paths, unreadable)
		}
		for _, p := range paths {
			if got, err := r.Resolve(t.Context(), "file:"+p); !errors.Is(err, merge.ErrForbidden) || got != "" {
				t.Errorf("Resolve(file:%s) = %q, %v; want ErrForbidden", p, got, err)
			}
		}
	})
}

// TestResolveOutsideTellsNothing checks that a reference outside the secret directories gets
// the same answer whether its file exists or not, so the connection test cannot be used to
// probe the server's filesystem.
func TestResolveOutsideTellsNothing(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "pw")
	if err := os.WriteFile(existing, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := secretref.FromEnv(environ(secretref.DirsVar, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	msg := func(path string) string {
		_, err := r.Resolve(t.Context(), "file:"+path)
		if !errors.Is(err, merge.ErrForbidden) {
			t.Fatalf("Resolve(%s) = %v, want ErrForbidden", path, err)
		}
		return strings.ReplaceAll(err.Error(), path, "PATH")
	}
	for _, pair := range [][2]string{
		{existing, filepath.Join(dir, "missing")},
		{"/etc/passwd", "/etc/no-such-file"},
		{"/etc", "/etc/no-such-dir/x"},
	} {
		if a, b := msg(pair[0]), msg(pair[1]); a != b {
			t.Errorf("existing and missing paths are told apart:\n%s\n%s", a, b)
		}
	}
}

func TestFromEnv(t *testing.T) {
	for _, c := range []struct {
		name string
		env  []string
		ok   bool
	}{
		{"defaults", nil, true},
		{"prefix", []string{secretref.EnvPrefixVar, "HIVE_"}, true},
		{"prefix with a space", []string{secretref.EnvPrefixVar, "HIVE PW"}, false},
		{"dirs", []string{secretref.DirsVar, "/srv/secrets, /run/secrets"}, true},
		{"relative dir", []string{secretref.DirsVar, "secrets"}, false},
		{"root", []string{secretref.DirsVar, "/"}, false},
		{"/proc", []string{secretref.DirsVar, "/run/secrets,/proc/self"}, false},
		{"/dev via dot-dot", []string{secretref.DirsVar, "/run/../dev"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := secretref.FromEnv(environ(c.env...))
			if c.ok != (err == nil) {
				t.Fatalf("FromEnv(%q) = %v; ok want %v", c.env, err, c.ok)
			}
			if err == nil {
				return
			}
			// New keeps the error for Resolve, so a server built without checking serves none.
			if _, rerr := r.Resolve(t.Context(), "env:HIVEMERGE_SECRET_X"); !errors.Is(rerr, merge.ErrUnavailable) || !strings.Contains(rerr.Error(), "HIVEMERGE_SECRET_") {
				t.Errorf("Resolve after a configuration error = %v", rerr)
			}
		})
	}
}

// TestResolveGetenv checks that env: references read the environment the Resolver was given,
// as the local server passes its own, with the prefix it configures.
func TestResolveGetenv(t *testing.T) {
	r, err := secretref.FromEnv(environ(secretref.EnvPrefixVar, "HIVE_", "HIVE_PW", secret, "HIVEMERGE_SECRET_PW", secret))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.Resolve(t.Context(), "env:HIVE_PW"); err != nil || got != secret {
		t.Errorf("Resolve = %q, %v", got, err)
	}
	if _, err := r.Resolve(t.Context(), "env:HIVEMERGE_SECRET_PW"); !errors.Is(err, merge.ErrForbidden) {
		t.Errorf("Resolve outside the configured prefix = %v, want ErrForbidden", err)
	}
	// A prefix that matches the server's own variables still does not reach them.
	r, _ = secretref.FromEnv(environ(secretref.EnvPrefixVar, "HIVEMERGE_", "HIVEMERGE_API_TOKEN", secret))
	if _, err := r.Resolve(t.Context(), "env:HIVEMERGE_API_TOKEN"); err == nil {
		t.Error("a prefix of HIVEMERGE_ reaches HIVEMERGE_API_TOKEN")
	}
}
