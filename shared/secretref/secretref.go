// Package secretref resolves a cluster's password_ref (env:, file:, secretmanager:) to the secret.
//
// References are chosen by API callers, and a connection test sends the secret to a host of
// their choosing, so a Resolver follows only what the operator set aside for cluster passwords:
// env: variables with a prefix (HIVEMERGE_SECRET_ by default) and file: paths below secret
// directories (/etc/hivemerge/secrets and /run/secrets by default). The server's own credential
// variables and files are never followed.
package secretref

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// MaxFileSize bounds a file: secret. A password file is a few bytes; anything larger is a
// wrong path (a log, a disk image), not something to read into memory.
const MaxFileSize = 64 << 10

// Configuration variables and their defaults.
const (
	// EnvPrefixVar names the prefix env: references must start with.
	EnvPrefixVar     = "HIVEMERGE_SECRET_ENV_PREFIX"
	DefaultEnvPrefix = "HIVEMERGE_SECRET_"
	// DirsVar lists, separated by commas, the directories file: references must be below.
	DirsVar = "HIVEMERGE_SECRET_DIRS"
)

// DefaultDirs are the secret directories when DirsVar is unset: hivemerge's own and the one
// Docker and Compose mount secrets in.
var DefaultDirs = []string{"/etc/hivemerge/secrets", "/run/secrets"}

// ownFileVars name files the server reads for its own authentication; a file: reference to
// them (through a link or a hard link too) is refused even inside a secret directory.
var ownFileVars = []string{"HIVEMERGE_TOKENS_FILE", "GOOGLE_APPLICATION_CREDENTIALS"}

var envPrefixRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// Resolver resolves password references. It implements merge.Secrets and is safe for
// concurrent use. The Secret Manager client is made on the first secretmanager: reference, so
// a server whose clusters use env: and file: needs no Google credentials.
type Resolver struct {
	getenv    func(string) string
	envPrefix string
	dirs      []string
	// err is a configuration error, returned by every Resolve (see New).
	err error
	// access reads one Secret Manager version by its full resource name. It is a field so that
	// tests can check the error translation without Google's servers (there is no emulator).
	access func(ctx context.Context, name string) (*secretmanagerpb.SecretPayload, error)

	mu     sync.Mutex
	client *secretmanager.Client
}

// FromEnv returns a Resolver configured by getenv (nil: os.Getenv), which also serves env:
// references: HIVEMERGE_SECRET_ENV_PREFIX (default HIVEMERGE_SECRET_) and HIVEMERGE_SECRET_DIRS
// (default /etc/hivemerge/secrets,/run/secrets). It fails when they are malformed.
func FromEnv(getenv func(string) string) (*Resolver, error) {
	r := New(getenv)
	return r, r.err
}

// New is FromEnv for callers that cannot stop at a configuration error: every Resolve
// returns it instead.
func New(getenv func(string) string) *Resolver {
	if getenv == nil {
		getenv = os.Getenv
	}
	r := &Resolver{getenv: getenv, envPrefix: DefaultEnvPrefix, dirs: DefaultDirs}
	r.access = r.accessSecretManager
	if p := getenv(EnvPrefixVar); p != "" {
		if !envPrefixRe.MatchString(p) {
			r.err = fmt.Errorf("%s=%q: a prefix of variable names is letters, digits and '_'", EnvPrefixVar, p)
		}
		r.envPrefix = p
	}
	if v := getenv(DirsVar); v != "" {
		r.dirs = nil
		for _, d := range strings.Split(v, ",") {
			d = strings.TrimSpace(d)
			switch {
			case d == "":
				continue
			case !filepath.IsAbs(d):
				r.err = fmt.Errorf("%s: %q is not an absolute directory", DirsVar, d)
			case filepath.Clean(d) == "/" || merge.DeniedPath(filepath.Clean(d)):
				r.err = fmt.Errorf("%s: %q may not hold secrets; name the directory that does", DirsVar, d)
			}
			r.dirs = append(r.dirs, filepath.Clean(d))
		}
	}
	return r
}

// Close releases the Secret Manager client, if one was made.
func (r *Resolver) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client == nil {
		return nil
	}
	err := r.client.Close()
	r.client = nil
	return err
}

// Resolve returns the secret ref names. env: is the variable's value as is; file: and
// secretmanager: lose one trailing newline, which `echo pw > file` and
// `echo pw | gcloud secrets create --data-file=-` add. Errors name the reference, never the
// secret, and say whether a file exists only inside the secret directories.
func (r *Resolver) Resolve(ctx context.Context, ref string) (string, error) {
	if r.err != nil {
		return "", fmt.Errorf("%w: password references are misconfigured: %w", merge.ErrUnavailable, r.err)
	}
	kind, target, err := parse(ref)
	if err != nil {
		return "", err
	}
	switch kind {
	case "env":
		if !strings.HasPrefix(target, r.envPrefix) || target == r.envPrefix {
			return "", merge.Errorf(merge.ErrForbidden, "env: references must name a variable starting with %s (set %s to choose another prefix)", r.envPrefix, EnvPrefixVar)
		}
		v := r.getenv(target)
		if v == "" {
			return "", merge.Errorf(merge.ErrNotFound, "environment variable %s is not set or empty", target)
		}
		return v, nil
	case "file":
		return r.readFile(target)
	default:
		p, err := r.access(ctx, target)
		if err != nil {
			return "", fromSecretManager(target, err)
		}
		if c := p.DataCrc32C; c != nil && int64(crc32.Checksum(p.Data, crc32.MakeTable(crc32.Castagnoli))) != *c {
			return "", merge.Errorf(merge.ErrUnavailable, "secret %s arrived corrupted (CRC32C mismatch); retry", target)
		}
		return trimNewline(string(p.Data)), nil
	}
}

// parse splits a reference into its kind and target. A secretmanager: target is the full
// version name: a reference without /versions/ means the latest version.
func parse(ref string) (kind, target string, err error) {
	if ref == "" {
		return "", "", merge.Errorf(merge.ErrInvalid, "password_ref is empty")
	}
	if err := merge.CheckPasswordRef(ref); err != nil {
		return "", "", err
	}
	kind, target, _ = strings.Cut(ref, ":")
	if kind == "secretmanager" && !strings.Contains(target, "/versions/") {
		target += "/versions/latest"
	}
	return kind, target, nil
}

// readFile reads a password file: a regular file of at most MaxFileSize bytes below a secret
// directory. It is opened through an os.Root of that directory, so symbolic links are followed
// only while they are relative and stay inside it (as Kubernetes' ..data links do) and a link
// cannot be swapped in between a check and the open. Nothing outside the directories is looked
// at: the answer for a path outside is the same whether it exists or not.
func (r *Resolver) readFile(path string) (string, error) {
	dir, rel, ok := r.below(path)
	if !ok {
		return "", r.outside(path)
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil && merge.DeniedPath(real) {
		return "", r.outside(path)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", r.fileError(path, err)
	}
	defer root.Close()
	if err := r.checkFile(path, func() (fs.FileInfo, error) { return root.Stat(rel) }); err != nil {
		return "", err
	}
	// O_NONBLOCK: should a FIFO be swapped in after the check, opening it must not block.
	f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", r.fileError(path, err)
	}
	defer f.Close()
	if err := r.checkFile(path, f.Stat); err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return "", r.fileError(path, err)
	}
	if len(b) > MaxFileSize {
		return "", merge.Errorf(merge.ErrInvalid, "password file %s is larger than %d bytes; is it the right file?", path, MaxFileSize)
	}
	v := trimNewline(string(b))
	if v == "" {
		return "", merge.Errorf(merge.ErrNotFound, "password file %s is empty", path)
	}
	return v, nil
}

// below finds the secret directory path is in and path's name relative to it.
func (r *Resolver) below(path string) (dir, rel string, ok bool) {
	for _, d := range r.dirs {
		if rel, err := filepath.Rel(d, path); err == nil && rel != "." && filepath.IsLocal(rel) {
			return d, rel, true
		}
	}
	return "", "", false
}

func (r *Resolver) outside(path string) error {
	return merge.Errorf(merge.ErrForbidden, "password file %s is not below a secret directory (%s); set %s to the directories that hold cluster passwords",
		path, strings.Join(r.dirs, ", "), DirsVar)
}

func (r *Resolver) checkFile(path string, stat func() (fs.FileInfo, error)) error {
	fi, err := stat()
	if err != nil {
		return r.fileError(path, err)
	}
	if !fi.Mode().IsRegular() {
		return merge.Errorf(merge.ErrInvalid, "password file %s is not a regular file (%s)", path, fi.Mode().Type())
	}
	if fi.Size() > MaxFileSize {
		return merge.Errorf(merge.ErrInvalid, "password file %s is larger than %d bytes; is it the right file?", path, MaxFileSize)
	}
	for _, v := range ownFileVars {
		if own := r.getenv(v); own != "" {
			if ofi, err := os.Stat(own); err == nil && os.SameFile(fi, ofi) {
				return merge.Errorf(merge.ErrForbidden, "password file %s is this server's own credentials file (%s)", path, v)
			}
		}
	}
	return nil
}

// fileError translates a filesystem error below a secret directory. Only the kinds are told:
// a link leading out of the directory is refused like a path outside it.
func (r *Resolver) fileError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return merge.Errorf(merge.ErrNotFound, "password file %s does not exist", path)
	case errors.Is(err, fs.ErrPermission):
		return merge.Errorf(merge.ErrForbidden, "password file %s is not readable by this process", path)
	case errors.Is(err, syscall.ELOOP):
		return merge.Errorf(merge.ErrInvalid, "password file %s goes through too many symbolic links", path)
	case errors.Is(err, syscall.EIO), errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return fmt.Errorf("%w: reading password file %s: %w", merge.ErrUnavailable, path, err)
	}
	// os.Root's "path escapes from parent", among others.
	return r.outside(path)
}

func trimNewline(s string) string {
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		return strings.TrimSuffix(t, "\r")
	}
	return s
}

// accessSecretManager reads a version with the real client, made on first use.
func (r *Resolver) accessSecretManager(ctx context.Context, name string) (*secretmanagerpb.SecretPayload, error) {
	c, err := r.secretManager()
	if err != nil {
		return nil, err
	}
	resp, err := c.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: name})
	if err != nil {
		return nil, err
	}
	return resp.GetPayload(), nil
}

func (r *Resolver) secretManager() (*secretmanager.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client != nil {
		return r.client, nil
	}
	// Not the request's context: the client outlives the request that made it.
	c, err := secretmanager.NewClient(context.Background())
	if err != nil {
		return nil, fmt.Errorf("%w: Secret Manager client: %w", merge.ErrUnavailable, err)
	}
	r.client = c
	return c, nil
}

// fromSecretManager translates a Secret Manager error into a domain error. The client's errors
// carry gRPC status codes (also when it talks REST); their messages name resources, never
// payloads.
func fromSecretManager(name string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: Secret Manager %s: %w", merge.ErrUnavailable, name, err)
	}
	if errors.Is(err, merge.ErrUnavailable) {
		return err
	}
	st, _ := status.FromError(err)
	switch st.Code() {
	case codes.NotFound:
		return merge.Errorf(merge.ErrNotFound, "secret %s does not exist", name)
	case codes.FailedPrecondition:
		return merge.Errorf(merge.ErrNotFound, "secret %s is disabled or destroyed: %s", name, st.Message())
	case codes.PermissionDenied:
		return merge.Errorf(merge.ErrForbidden, "this service account may not access secret %s (it needs roles/secretmanager.secretAccessor)", name)
	case codes.InvalidArgument:
		return merge.Errorf(merge.ErrInvalid, "Secret Manager refused the name %s: %s", name, st.Message())
	}
	return fmt.Errorf("%w: Secret Manager %s: %w", merge.ErrUnavailable, name, err)
}
