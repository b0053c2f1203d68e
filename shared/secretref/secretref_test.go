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

func TestResolve(t *testing.T) {
	t.Setenv("HM_SECRETREF_PW", secret)
	t.Setenv("HM_SECRETREF_EMPTY", "")
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
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
	link := filepath.Join(dir, "link")
	if err := os.Symlink(newline, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	unreadable := file("unreadable", secret)
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name, ref string
		want      string
		kind      error
	}{
		{"env", "env:HM_SECRETREF_PW", secret, nil},
		{"env unset", "env:HM_SECRETREF_UNSET", "", merge.ErrNotFound},
		{"env empty", "env:HM_SECRETREF_EMPTY", "", merge.ErrNotFound},
		{"file", "file:" + plain, secret, nil},
		{"file loses one trailing newline", "file:" + newline, secret, nil},
		{"file loses a trailing CRLF", "file:" + crlf, secret, nil},
		{"file keeps the second newline", "file:" + twoNewlines, secret + "\n", nil},
		{"file through a symbolic link", "file:" + link, secret, nil},
		{"file of exactly the limit", "file:" + exact, strings.Repeat("x", secretref.MaxFileSize), nil},
		{"file missing", "file:" + filepath.Join(dir, "missing"), "", merge.ErrNotFound},
		{"file empty", "file:" + empty, "", merge.ErrNotFound},
		{"file too large", "file:" + big, "", merge.ErrInvalid},
		{"file is a directory", "file:" + dir, "", merge.ErrInvalid},
		{"file is a FIFO", "file:" + fifo, "", merge.ErrInvalid},
		{"file unreadable", "file:" + unreadable, "", merge.ErrForbidden},
		{"relative file", "file:pw.txt", "", merge.ErrInvalid},
		{"not a reference", secret, "", merge.ErrInvalid},
		{"empty reference", "", "", merge.ErrInvalid},
		{"unknown kind", "vault:secret/hive", "", merge.ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "file unreadable" && os.Geteuid() == 0 {
				t.Skip("root reads files whatever their mode")
			}
			r := secretref.New(nil)
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
}

// TestResolveGetenv checks that env: references read the environment New was given, as the
// local server passes its own.
func TestResolveGetenv(t *testing.T) {
	r := secretref.New(func(k string) string { return map[string]string{"PW": secret}[k] })
	if got, err := r.Resolve(t.Context(), "env:PW"); err != nil || got != secret {
		t.Errorf("Resolve = %q, %v", got, err)
	}
}
