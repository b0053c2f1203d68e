package console

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

var built = fstest.MapFS{
	"not-built.html":              {Data: []byte("<p>the console is not built</p>")},
	"app/index.html":              {Data: []byte(`<!doctype html><script type="module" src="./assets/index-abc123.js"></script>`)},
	"app/assets/index-abc123.js":  {Data: []byte("console.log(1)")},
	"app/assets/index-abc123.css": {Data: []byte("body{}")},
	"app/favicon.svg":             {Data: []byte("<svg/>")},
}

func get(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestHandler(t *testing.T) {
	h := New(built)
	for _, c := range []struct {
		name, method, path string
		status             int
		contentType, cache string
		body               string
	}{
		{"root is the index", "GET", "/", 200, "text/html; charset=utf-8", "no-cache", "index-abc123.js"},
		{"index by name", "GET", "/index.html", 200, "text/html; charset=utf-8", "no-cache", "index-abc123.js"},
		{"a route of the application gets the index", "GET", "/tasks/123", 200, "text/html; charset=utf-8", "no-cache", "index-abc123.js"},
		{"hashed script is cached for good", "GET", "/assets/index-abc123.js", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "console.log"},
		{"hashed style", "GET", "/assets/index-abc123.css", 200, "text/css; charset=utf-8", "public, max-age=31536000, immutable", "body{}"},
		{"unhashed file is revalidated", "GET", "/favicon.svg", 200, "image/svg+xml", "no-cache", "<svg/>"},
		{"missing asset is not the index", "GET", "/assets/gone-000.js", 404, "text/plain; charset=utf-8", "", "404"},
		{"missing file with an extension", "GET", "/robots.txt", 404, "text/plain; charset=utf-8", "", "404"},
		{"dot segments stay inside", "GET", "/../../not-built.html", 404, "text/plain; charset=utf-8", "", "404"},
		{"HEAD", "HEAD", "/", 200, "text/html; charset=utf-8", "no-cache", ""},
		{"POST refused", "POST", "/", 405, "text/plain; charset=utf-8", "", "method not allowed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := get(t, h, c.method, c.path)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != c.status || !strings.Contains(string(body), c.body) {
				t.Errorf("%s %s: %d %q, want %d containing %q", c.method, c.path, rec.Code, body, c.status, c.body)
			}
			if got := rec.Header().Get("Content-Type"); got != c.contentType {
				t.Errorf("Content-Type = %q, want %q", got, c.contentType)
			}
			if got := rec.Header().Get("Cache-Control"); got != c.cache {
				t.Errorf("Cache-Control = %q, want %q", got, c.cache)
			}
			if got := rec.Header().Get("Content-Security-Policy"); got != CSP {
				t.Errorf("Content-Security-Policy = %q, want %q", got, CSP)
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
		})
	}
}

// TestRevalidate: index.html is asked for on every load, and answered 304 while unchanged.
func TestRevalidate(t *testing.T) {
	h := New(built)
	first := get(t, h, "GET", "/")
	etag := first.Header().Get("ETag")
	if etag == "" {
		t.Fatal("index.html has no ETag")
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("If-None-Match", etag)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("GET / with If-None-Match %s: %d, want 304", etag, rec.Code)
	}
	changed := fstest.MapFS{"app/index.html": {Data: []byte("<!doctype html><p>a new build</p>")}}
	if got := get(t, New(changed), "GET", "/").Header().Get("ETag"); got == etag {
		t.Errorf("a new index.html keeps the ETag %s", got)
	}
}

// TestCSP keeps the policy strict: no inline or evaluated script, nothing from other origins,
// no framing.
func TestCSP(t *testing.T) {
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(CSP, want) {
			t.Errorf("CSP %q lacks %q", CSP, want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:"} {
		if strings.Contains(CSP, bad) {
			t.Errorf("CSP %q allows %q", CSP, bad)
		}
	}
}

func TestNotBuilt(t *testing.T) {
	h := New(fstest.MapFS{"not-built.html": {Data: []byte("<p>the console is not built: run make console</p>")}})
	for _, p := range []string{"/", "/tasks", "/assets/index-abc123.js"} {
		rec := get(t, h, "GET", p)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "run make console") {
			t.Errorf("GET %s: %d %q, want the placeholder", p, rec.Code, rec.Body.String())
		}
		if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type = %q", p, got)
		}
		if got := rec.Header().Get("Content-Security-Policy"); got != CSP {
			t.Errorf("GET %s: no CSP", p)
		}
	}
}

// TestEmbedded serves what this binary embeds: the build when `make console` ran, the
// placeholder otherwise. Either way the root is a page.
func TestEmbedded(t *testing.T) {
	rec := get(t, Handler(), "GET", "/")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !strings.Contains(rec.Body.String(), "hivemerge") {
		t.Errorf("GET /: %q names no hivemerge", rec.Body.String())
	}
}
