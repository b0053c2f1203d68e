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
		rt := &failingTransport{base: srv.HTTPClient().Transport}
		client, err := storage.NewClient(context.Background(),
			option.WithHTTPClient(&http.Client{Transport: rt}), option.WithoutAuthentication())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { client.Close() })
		client.SetRetry(storage.WithPolicy(storage.RetryNever)) // fail at once once unavailable
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

// failingTransport answers 503 with a backend message, once failing is set.
type failingTransport struct {
	base    http.RoundTripper
	failing atomic.Bool
}

func (rt *failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !rt.failing.Load() {
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
