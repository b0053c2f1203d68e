package gcsfs_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/fsystest"
	"github.com/hivemerge/hivemerge/shared/fsys/gcsfs"
	"github.com/hivemerge/hivemerge/shared/fsys/scan"
)

const bucket = "warehouse"

func newServer(t *testing.T) *fakestorage.Server {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	return srv
}

func TestConformance(t *testing.T) {
	fsystest.Run(t, func(t *testing.T) fsystest.Fixture {
		srv := newServer(t)
		client, rt := failingClient(t, srv)
		// A small page keeps the paging tests' seeding short: fake-gcs-server takes time
		// quadratic in the number of objects to seed.
		fs := gcsfs.New(client, bucket, gcsfs.Options{PageSize: 100})
		if err := fs.MkdirAll(context.Background(), "/root"); err != nil {
			t.Fatal(err)
		}
		return fsystest.Fixture{
			FS:          fs,
			Root:        "/root",
			PageFiles:   250,
			Unavailable: func(*testing.T) { rt.failing.Store(true) },
			WriteFile: func(t *testing.T, name string, size int64, mtime time.Time) {
				srv.CreateObject(fakestorage.Object{
					ObjectAttrs: fakestorage.ObjectAttrs{
						BucketName: bucket,
						Name:       strings.TrimPrefix(name, "/"),
						Updated:    mtime,
					},
					Content: make([]byte, size),
				})
			},
		}
	})
}

// failingClient returns a client of srv that does not retry, and its transport.
func failingClient(t *testing.T, srv *fakestorage.Server) (*storage.Client, *failingTransport) {
	t.Helper()
	rt := &failingTransport{base: srv.HTTPClient().Transport}
	client, err := storage.NewClient(context.Background(),
		option.WithHTTPClient(&http.Client{Transport: rt}), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	client.SetRetry(storage.WithPolicy(storage.RetryNever)) // fail at once once unavailable
	return client, rt
}

// failingTransport answers 503 with a backend message, once failing is set, to every request
// or, when method is set, to requests of that method.
type failingTransport struct {
	base    http.RoundTripper
	failing atomic.Bool
	method  string
}

func (rt *failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !rt.failing.Load() || rt.method != "" && r.Method != rt.method {
		return rt.base.RoundTrip(r)
	}
	if r.Body != nil {
		r.Body.Close()
	}
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/json")
	rec.WriteHeader(http.StatusServiceUnavailable)
	rec.WriteString(`{"error":{"code":503,"message":"backend overloaded on host gcs-internal-7"}}`)
	return rec.Result(), nil
}

func TestRemoveAllRefusesBucketRoot(t *testing.T) {
	srv := newServer(t)
	srv.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: "t/f"}})
	fs := gcsfs.New(srv.Client(), bucket, gcsfs.Options{})
	if err := fs.RemoveAll(context.Background(), "/"); err == nil {
		t.Fatal("RemoveAll(/) emptied the bucket")
	}
	if _, err := fs.Stat(context.Background(), "/t/f"); err != nil {
		t.Errorf("object gone after a refused RemoveAll: %v", err)
	}
}

// TestErrors checks the translation of service failures into fsys kinds against a server that
// answers every request with one status.
func TestErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		want   error
	}{
		{"unavailable", http.StatusServiceUnavailable, fsys.ErrUnavailable},
		{"rate limited", http.StatusTooManyRequests, fsys.ErrUnavailable},
		{"not found", http.StatusNotFound, fsys.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				w.Write([]byte(`{"error":{"code":` + strconv.Itoa(tt.status) + `,"message":"injected"}}`))
			}))
			defer srv.Close()
			client, err := storage.NewClient(context.Background(),
				option.WithEndpoint(srv.URL+"/storage/v1/"), option.WithoutAuthentication())
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			client.SetRetry(storage.WithPolicy(storage.RetryNever))
			fs := gcsfs.New(client, bucket, gcsfs.Options{})
			err = fs.List(context.Background(), "/t", func([]fsys.Entry) error { return nil })
			if !errors.Is(err, tt.want) {
				t.Errorf("List error = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestScan runs the scanner over prefixes as Hive leaves them on GCS: partitions without
// placeholders, hidden staging prefixes and marker objects.
func TestScan(t *testing.T) {
	srv := newServer(t)
	for name, size := range map[string]int{
		"w/t/dt=1/000000_0":                   10,
		"w/t/dt=1/000001_0":                   20,
		"w/t/dt=2/hr=00/000000_0":             30,
		"w/t/dt=2/_SUCCESS":                   0,
		"w/t/.hive-staging_hive_1/-ext-10000": 99,
		"w/t/_temporary/0/part":               99,
		"w/t/empty/":                          0,  // a placeholder
		"w/tt/000000_0":                       99, // a sibling sharing the prefix "w/t"
	} {
		srv.CreateObject(fakestorage.Object{
			ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: name},
			Content:     make([]byte, size),
		})
	}
	r := fsys.NewResolver(map[string]fsys.Opener{"gs": gcsfs.Opener(srv.Client(), gcsfs.Options{PageSize: 2})})
	results, err := scan.Scanner{}.Locations(context.Background(), r, []string{"gs://" + bucket + "/w/t", "gs://" + bucket + "/w/missing"})
	if err != nil {
		t.Fatal(err)
	}
	want := scan.Stats{Files: 3, Bytes: 60, Dirs: 5, Sizes: scan.Histogram{3}} // t, dt=1, dt=2, hr=00, empty
	if results[0].Err != nil || results[0].Stats != want {
		t.Errorf("scan = %+v, %v; want %+v", results[0].Stats, results[0].Err, want)
	}
	if !errors.Is(results[1].Err, fsys.ErrNotExist) {
		t.Errorf("scan of a missing prefix: error %v, want ErrNotExist", results[1].Err)
	}
}

// TestMoveFileInterrupted stops a move between its copy and its delete, as a crash or a lost
// reply would, and checks that the error says both objects exist and that moving again
// finishes the move instead of failing on the copy it made.
func TestMoveFileInterrupted(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	srv.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: "old/000000_0"}, Content: []byte("rows")})
	srv.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: "new/keep"}})
	client, rt := failingClient(t, srv)
	fs := gcsfs.New(client, bucket, gcsfs.Options{})

	rt.method = http.MethodDelete
	rt.failing.Store(true)
	err := fs.MoveFile(ctx, "/old/000000_0", "/new/000000_0")
	if !errors.Is(err, fsys.ErrUnavailable) || !strings.Contains(err.Error(), "both exist") {
		t.Fatalf("MoveFile with deletes failing: error %v, want ErrUnavailable saying both exist", err)
	}
	for _, name := range []string{"/old/000000_0", "/new/000000_0"} {
		if e, err := fs.Stat(ctx, name); err != nil || e.Size != 4 {
			t.Errorf("after the interrupted move, Stat(%s) = %+v, %v; want 4 bytes", name, e, err)
		}
	}

	rt.failing.Store(false)
	if err := fs.MoveFile(ctx, "/old/000000_0", "/new/000000_0"); err != nil {
		t.Fatalf("MoveFile again: %v, want it to finish the interrupted move", err)
	}
	if _, err := fs.Stat(ctx, "/old/000000_0"); !errors.Is(err, fsys.ErrNotExist) {
		t.Errorf("source after the finished move: Stat error %v, want ErrNotExist", err)
	}
	if e, err := fs.Stat(ctx, "/new/000000_0"); err != nil || e.Size != 4 {
		t.Errorf("destination after the finished move: Stat = %+v, %v", e, err)
	}

	// An object of that name that is not this source's copy is never taken for one.
	srv.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: "old/000000_0"}, Content: []byte("late rows")})
	if err := fs.MoveFile(ctx, "/old/000000_0", "/new/000000_0"); !errors.Is(err, fsys.ErrExist) {
		t.Errorf("MoveFile onto an earlier copy of another generation: error %v, want ErrExist", err)
	}
	if e, err := fs.Stat(ctx, "/old/000000_0"); err != nil || e.Size != 9 {
		t.Errorf("source after a refused move: Stat = %+v, %v; want 9 bytes", e, err)
	}
}
