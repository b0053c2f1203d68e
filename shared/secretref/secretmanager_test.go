package secretref

import (
	"context"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Secret Manager has no emulator, so these tests replace the one call to it (Resolver.access)
// and check what is ours: which version a reference names, how the payload is read and how the
// client's errors are translated. That the real client returns gRPC status codes is the
// client's documented behaviour, not checked here.

func TestSecretManagerNames(t *testing.T) {
	for _, c := range []struct{ ref, name string }{
		{"secretmanager:projects/p/secrets/hive-pw", "projects/p/secrets/hive-pw/versions/latest"},
		{"secretmanager:projects/p/secrets/hive-pw/versions/3", "projects/p/secrets/hive-pw/versions/3"},
		{"secretmanager:projects/my-project/secrets/hive_pw/versions/latest", "projects/my-project/secrets/hive_pw/versions/latest"},
	} {
		t.Run(c.ref, func(t *testing.T) {
			r := New(nil)
			var asked string
			r.access = func(_ context.Context, name string) (*secretmanagerpb.SecretPayload, error) {
				asked = name
				return &secretmanagerpb.SecretPayload{Data: []byte("pw\n")}, nil
			}
			got, err := r.Resolve(t.Context(), c.ref)
			if err != nil || got != "pw" || asked != c.name {
				t.Errorf("Resolve = %q, %v after asking for %q; want \"pw\" from %q", got, err, asked, c.name)
			}
		})
	}
	for _, ref := range []string{
		"secretmanager:hive-pw",
		"secretmanager:projects/p/secrets/s/versions/",
		"secretmanager:projects/p/secrets/s/versions/first",
		"secretmanager:projects/p/secrets/s/extra",
		"secretmanager:projects/p/../secrets/s",
	} {
		t.Run(ref, func(t *testing.T) {
			r := New(nil)
			r.access = func(context.Context, string) (*secretmanagerpb.SecretPayload, error) {
				t.Fatal("a malformed reference reached Secret Manager")
				return nil, nil
			}
			if _, err := r.Resolve(t.Context(), ref); !errors.Is(err, merge.ErrInvalid) {
				t.Errorf("Resolve(%q) = %v, want ErrInvalid", ref, err)
			}
		})
	}
}

func TestSecretManagerErrors(t *testing.T) {
	const pw = "payload-never-shown"
	sum := int64(crc32.Checksum([]byte(pw), crc32.MakeTable(crc32.Castagnoli)))
	bad := sum + 1
	for _, c := range []struct {
		name    string
		payload *secretmanagerpb.SecretPayload
		err     error
		kind    error
	}{
		{"not found", nil, status.Error(codes.NotFound, "Secret [projects/1/secrets/s] not found or has no versions."), merge.ErrNotFound},
		{"disabled version", nil, status.Error(codes.FailedPrecondition, "Secret Version [projects/1/secrets/s/versions/1] is in DISABLED state."), merge.ErrNotFound},
		{"permission denied", nil, status.Error(codes.PermissionDenied, "Permission 'secretmanager.versions.access' denied"), merge.ErrForbidden},
		{"unavailable", nil, status.Error(codes.Unavailable, "connection refused"), merge.ErrUnavailable},
		{"deadline", nil, status.Error(codes.DeadlineExceeded, "deadline exceeded"), merge.ErrUnavailable},
		{"unauthenticated client", nil, status.Error(codes.Unauthenticated, "invalid credentials"), merge.ErrUnavailable},
		{"not a status", nil, errors.New("transport: dial failed"), merge.ErrUnavailable},
		{"context cancelled", nil, context.Canceled, context.Canceled},
		{"checksum matches", &secretmanagerpb.SecretPayload{Data: []byte(pw), DataCrc32C: &sum}, nil, nil},
		{"checksum mismatch", &secretmanagerpb.SecretPayload{Data: []byte(pw), DataCrc32C: &bad}, nil, merge.ErrUnavailable},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := New(nil)
			r.access = func(context.Context, string) (*secretmanagerpb.SecretPayload, error) { return c.payload, c.err }
			got, err := r.Resolve(t.Context(), "secretmanager:projects/p/secrets/s")
			if c.kind == nil {
				if err != nil || got != pw {
					t.Fatalf("Resolve = %q, %v", got, err)
				}
				return
			}
			if !errors.Is(err, c.kind) {
				t.Fatalf("Resolve = %v, want %v", err, c.kind)
			}
			if !strings.Contains(err.Error(), "projects/p/secrets/s/versions/latest") {
				t.Errorf("the error does not name the secret: %v", err)
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("the error shows the payload: %v", err)
			}
		})
	}
}
