package fsys_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/localfs"
	"github.com/hivemerge/hivemerge/shared/merge"
)

func TestParseLocation(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    fsys.Location
		wantErr bool
	}{
		{"bare path", "/warehouse/t/", fsys.Location{Scheme: "file", Path: "/warehouse/t"}, false},
		{"file URI", "file:///tmp/x", fsys.Location{Scheme: "file", Path: "/tmp/x"}, false},
		{"file as Hadoop prints it", "file:/tmp/x", fsys.Location{Scheme: "file", Path: "/tmp/x"}, false},
		{"hdfs", "hdfs://nn1:8020/user/hive/warehouse/db.db/t", fsys.Location{Scheme: "hdfs", Authority: "nn1:8020", Path: "/user/hive/warehouse/db.db/t"}, false},
		{"hdfs nameservice", "hdfs://prod/w", fsys.Location{Scheme: "hdfs", Authority: "prod", Path: "/w"}, false},
		{"hdfs default", "hdfs:///w", fsys.Location{Scheme: "hdfs", Path: "/w"}, false},
		{"scheme case", "HDFS://nn/w", fsys.Location{Scheme: "hdfs", Authority: "nn", Path: "/w"}, false},
		{"bucket root", "gs://bucket", fsys.Location{Scheme: "gs", Authority: "bucket", Path: "/"}, false},
		{"escapes stay literal", "gs://b/t/dt=2024-01-01%3A00", fsys.Location{Scheme: "gs", Authority: "b", Path: "/t/dt=2024-01-01%3A00"}, false},
		{"relative", "warehouse/t", fsys.Location{}, true},
		{"relative URI path", "hdfs:w", fsys.Location{}, true},
		{"query", "gs://b/t?x=1", fsys.Location{}, true},
		{"empty", "", fsys.Location{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fsys.ParseLocation(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseLocation(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseLocation(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestResolver(t *testing.T) {
	ctx := context.Background()
	var opened atomic.Int32
	// An opener's error names hosts; users must not see them.
	hdfsErr := &fsys.PathError{Op: "connect", Path: "10.0.0.5:8020", Kind: fsys.ErrUnavailable, Err: errors.New("dial tcp: connection refused")}
	r := fsys.NewResolver(map[string]fsys.Opener{
		"file": localfs.Opener(),
		"gs": func(_ context.Context, bucket string) (fsys.FS, error) {
			opened.Add(1)
			return localfs.New(), nil
		},
		"hdfs": func(context.Context, string) (fsys.FS, error) { return nil, hdfsErr },
	})
	defer r.Close()

	tests := []struct {
		name     string
		location string
		wantPath string
		wantErr  error
		wantMsg  string // for users
	}{
		{"bare path", "/tmp/x", "/tmp/x", nil, ""},
		{"file", "file:///tmp/y", "/tmp/y", nil, ""},
		{"remote file host", "file://otherhost/tmp/y", "", fsys.ErrUnsupported, "open file://otherhost: operation not supported"},
		{"gs", "gs://b1/t", "/t", nil, ""},
		{"gs same bucket", "gs://b1/u", "/u", nil, ""},
		{"gs other bucket", "gs://b2/u", "/u", nil, ""},
		{"viewfs", "viewfs://cluster/w", "", fsys.ErrUnsupported, "open viewfs://cluster/w: operation not supported"},
		{"opener fails", "hdfs://nn/w", "", hdfsErr, "open hdfs://nn: filesystem unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, p, err := r.Open(ctx, tt.location)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Open(%q) error = %v, want %v", tt.location, err, tt.wantErr)
			}
			if me, ok := errors.AsType[*merge.Error](err); err != nil && (!ok || me.Msg != tt.wantMsg) {
				t.Errorf("Open(%q): message for users %v, want %q", tt.location, me, tt.wantMsg)
			}
			if err == nil && (fs == nil || p != tt.wantPath) {
				t.Errorf("Open(%q) = %v, %q; want a filesystem and %q", tt.location, fs, p, tt.wantPath)
			}
		})
	}
	if n := opened.Load(); n != 2 {
		t.Errorf("gs opener called %d times for two buckets, want 2 (one per bucket)", n)
	}
}

func TestPathError(t *testing.T) {
	cause := errors.New("connection reset")
	err := error(&fsys.PathError{Op: "list", Path: "/w", Kind: fsys.ErrUnavailable, Err: cause})
	if !errors.Is(err, fsys.ErrUnavailable) || !errors.Is(err, cause) {
		t.Errorf("%v does not match both its kind and its cause", err)
	}
	if got, want := err.Error(), "list /w: filesystem unavailable: connection reset"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, merge.ErrUnavailable) {
		t.Errorf("%v does not match the domain's kind %v", err, merge.ErrUnavailable)
	}
	// The HTTP layer shows the message of the first *merge.Error: never the cause.
	if me, ok := errors.AsType[*merge.Error](err); !ok || me.Msg != "list /w: filesystem unavailable" {
		t.Errorf("message for users = %v, want %q", me, "list /w: filesystem unavailable")
	}
}

// TestErrorKinds pins the domain kind of each filesystem error, which decides its HTTP status.
func TestErrorKinds(t *testing.T) {
	for _, tt := range []struct{ fs, domain error }{
		{fsys.ErrNotExist, merge.ErrNotFound},
		{fsys.ErrExist, merge.ErrConflict},
		{fsys.ErrUnsupported, merge.ErrInvalid},
		{fsys.ErrUnavailable, merge.ErrUnavailable},
	} {
		if err := fmt.Errorf("wrapped: %w", tt.fs); !errors.Is(err, tt.domain) {
			t.Errorf("%v is not %v", tt.fs, tt.domain)
		}
	}
}
