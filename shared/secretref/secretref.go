// Package secretref resolves a cluster's password_ref (env:, file:, secretmanager:) to the secret.
package secretref

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// MaxFileSize bounds a file: secret. A password file is a few bytes; anything larger is a
// wrong path (a log, a disk image), not something to read into memory.
const MaxFileSize = 64 << 10

// Resolver resolves password references. It implements merge.Secrets and is safe for
// concurrent use. The Secret Manager client is made on the first secretmanager: reference, so
// a server whose clusters use env: and file: needs no Google credentials.
type Resolver struct {
	getenv func(string) string
	// access reads one Secret Manager version by its full resource name. It is a field so that
	// tests can check the error translation without Google's servers (there is no emulator).
	access func(ctx context.Context, name string) (*secretmanagerpb.SecretPayload, error)

	mu     sync.Mutex
	client *secretmanager.Client
}

// New returns a Resolver that reads env: references with getenv (nil: os.Getenv).
func New(getenv func(string) string) *Resolver {
	if getenv == nil {
		getenv = os.Getenv
	}
	r := &Resolver{getenv: getenv}
	r.access = r.accessSecretManager
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
// secret.
func (r *Resolver) Resolve(ctx context.Context, ref string) (string, error) {
	kind, target, err := parse(ref)
	if err != nil {
		return "", err
	}
	switch kind {
	case "env":
		v := r.getenv(target)
		if v == "" {
			return "", merge.Errorf(merge.ErrNotFound, "environment variable %s is not set or empty", target)
		}
		return v, nil
	case "file":
		return readFile(target)
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

// readFile reads a password file: a regular file (symbolic links to one, as Kubernetes and
// Cloud Run mount secrets, are followed) of at most MaxFileSize bytes. Checking before opening
// keeps a FIFO from blocking the open; checking the opened file closes the race with a swap.
func readFile(path string) (string, error) {
	if err := checkFile(path, os.Stat); err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fileError(path, err)
	}
	defer f.Close()
	if err := checkFile(path, func(string) (fs.FileInfo, error) { return f.Stat() }); err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return "", fileError(path, err)
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

func checkFile(path string, stat func(string) (fs.FileInfo, error)) error {
	fi, err := stat(path)
	if err != nil {
		return fileError(path, err)
	}
	if !fi.Mode().IsRegular() {
		return merge.Errorf(merge.ErrInvalid, "password file %s is not a regular file (%s)", path, fi.Mode().Type())
	}
	if fi.Size() > MaxFileSize {
		return merge.Errorf(merge.ErrInvalid, "password file %s is larger than %d bytes; is it the right file?", path, MaxFileSize)
	}
	return nil
}

// fileError translates a filesystem error. The *PathError's text (path and reason) is safe:
// it never holds file contents.
func fileError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return merge.Errorf(merge.ErrNotFound, "password file %s does not exist", path)
	case errors.Is(err, fs.ErrPermission):
		return merge.Errorf(merge.ErrForbidden, "password file %s is not readable by this process", path)
	}
	return fmt.Errorf("%w: reading password file %s: %w", merge.ErrUnavailable, path, err)
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
