// Package console serves the web console: the Vue application built from ui/ into dist/app
// by `make console`, embedded into the binary. A tree built before any npm step embeds only
// dist/not-built.html, which the handler serves in the application's place.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// CSP is the Content-Security-Policy of every response. Scripts, styles and data come from
// the console's own origin only; the console is never framed, and forms post nowhere.
// Element Plus and ECharts position elements through the style property (CSSOM), which
// style-src does not restrict.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the embedded console.
func Handler() http.Handler {
	app, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is embedded: it always exists
	}
	return New(app)
}

// New serves the console from fsys, a directory holding app/ (the build) and not-built.html.
// Without app/index.html it serves not-built.html for every page.
//
// The build names its assets by content hash, so they are cached for a year; index.html,
// which names them, is revalidated on every load so that a new build shows at once. A path
// that is not a file gets index.html: the application's routes are its own.
func New(fsys fs.FS) http.Handler {
	app, err := fs.Sub(fsys, "app")
	if err != nil {
		panic(err) // only for an invalid literal path
	}
	if _, err := fs.Stat(app, "index.html"); err != nil {
		return placeholder(fsys)
	}
	return &handler{app: app}
}

type handler struct{ app fs.FS }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setHeaders(w)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" || name == "index.html" {
		h.index(w, r)
		return
	}
	b, err := fs.ReadFile(h.app, name)
	if err != nil {
		// A missing asset must fail as such: index.html served as a script hides the error.
		if strings.HasPrefix(name, "assets/") || path.Ext(name) != "" {
			http.NotFound(w, r)
			return
		}
		h.index(w, r)
		return
	}
	if strings.HasPrefix(name, "assets/") {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		revalidate(w, b)
	}
	serve(w, r, name, b)
}

func (h *handler) index(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(h.app, "index.html")
	if err != nil {
		http.Error(w, "the console's index.html is missing", http.StatusInternalServerError)
		return
	}
	revalidate(w, b)
	serve(w, r, "index.html", b)
}

// revalidate makes the browser ask again on every use, and lets it keep its copy (304) while
// the content is unchanged.
func revalidate(w http.ResponseWriter, b []byte) {
	sum := sha256.Sum256(b)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
}

// placeholder serves not-built.html for every GET.
func placeholder(fsys fs.FS) http.Handler {
	b, err := fs.ReadFile(fsys, "not-built.html")
	if err != nil {
		b = []byte("the console is not built: run make console\n")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setHeaders(w)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		serve(w, r, "not-built.html", b)
	})
}

func setHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// types are the content types of what a build holds, independent of the machine's MIME
// tables (mime.TypeByExtension reads /etc/mime.types, which may say text/plain for .js).
var types = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".json":  "application/json",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".woff":  "font/woff",
	".woff2": "font/woff2",
	".ttf":   "font/ttf",
	".txt":   "text/plain; charset=utf-8",
}

func serve(w http.ResponseWriter, r *http.Request, name string, b []byte) {
	ct, ok := types[path.Ext(name)]
	if !ok {
		if ct = mime.TypeByExtension(path.Ext(name)); ct == "" {
			ct = "application/octet-stream"
		}
	}
	w.Header().Set("Content-Type", ct)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}
