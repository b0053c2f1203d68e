package fsys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
)

// Location is a parsed filesystem URI such as a Hive table's LOCATION.
type Location struct {
	Scheme    string // "file", "hdfs", "gs"
	Authority string // namenode host:port or nameservice, bucket; "" for the local disk or the default HDFS
	Path      string // absolute and clean, kept verbatim: Hive's %XX in partition names is literal
}

func (l Location) String() string {
	if l.Scheme == "file" {
		return "file://" + l.Path
	}
	return l.Scheme + "://" + l.Authority + l.Path
}

// ParseLocation parses "scheme://authority/path", "file:/path" (as Hadoop prints local paths)
// and bare absolute paths (local). It does not URL-decode: Hadoop takes a path's characters
// literally, so "dt=2024-01-01%2000" names a directory with "%20" in its name.
func ParseLocation(s string) (Location, error) {
	if strings.HasPrefix(s, "/") {
		return Location{Scheme: "file", Path: path.Clean(s)}, nil
	}
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || scheme == "" || !validScheme(scheme) {
		return Location{}, fmt.Errorf("location %q: not an absolute path or URI", s)
	}
	scheme = strings.ToLower(scheme)
	var authority string
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			authority, rest = rest, "/"
		} else {
			authority, rest = rest[:i], rest[i:]
		}
	}
	if !strings.HasPrefix(rest, "/") {
		return Location{}, fmt.Errorf("location %q: path is not absolute", s)
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		return Location{}, fmt.Errorf("location %q: query and fragment are not allowed", s)
	}
	return Location{Scheme: scheme, Authority: authority, Path: path.Clean(rest)}, nil
}

func validScheme(s string) bool {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// Opener returns the filesystem that serves one authority of a scheme (a namenode address or
// nameservice, a bucket, "" for the local disk).
type Opener func(ctx context.Context, authority string) (FS, error)

// Resolver chooses a filesystem from a location's scheme. Each scheme's Opener is configured
// once; the filesystem it opens for an authority is kept and shared, so connection pools are
// reused across locations. A Resolver is safe for concurrent use.
type Resolver struct {
	openers map[string]Opener

	mu    sync.Mutex
	cache map[string]*opening
}

type opening struct {
	done chan struct{}
	fs   FS
	err  error
}

// NewResolver returns a Resolver for the given schemes, for example
// {"file": localfs.Opener(), "hdfs": hdfsfs.Opener(cfg), "gs": gcsfs.Opener(client)}.
func NewResolver(openers map[string]Opener) *Resolver {
	m := make(map[string]Opener, len(openers))
	for scheme, o := range openers {
		m[strings.ToLower(scheme)] = o
	}
	return &Resolver{openers: m, cache: make(map[string]*opening)}
}

// Open parses location and returns its filesystem and the path inside it. Schemes without an
// Opener (viewfs, s3a, ...) are ErrUnsupported.
func (r *Resolver) Open(ctx context.Context, location string) (FS, string, error) {
	loc, err := ParseLocation(location)
	if err != nil {
		return nil, "", err
	}
	fs, err := r.OpenLocation(ctx, loc)
	if err != nil {
		return nil, "", err
	}
	return fs, loc.Path, nil
}

// OpenLocation is Open for a parsed location.
func (r *Resolver) OpenLocation(ctx context.Context, loc Location) (FS, error) {
	open, ok := r.openers[loc.Scheme]
	if !ok {
		return nil, &PathError{Op: "open", Path: loc.String(), Kind: ErrUnsupported, Err: fmt.Errorf("no filesystem for scheme %q", loc.Scheme)}
	}
	key := loc.Scheme + "://" + loc.Authority
	r.mu.Lock()
	o, ok := r.cache[key]
	if !ok {
		o = &opening{done: make(chan struct{})}
		r.cache[key] = o
		r.mu.Unlock()
		o.fs, o.err = open(ctx, loc.Authority)
		if o.err != nil {
			// Do not cache failures: the next caller may find the backend up again.
			r.mu.Lock()
			delete(r.cache, key)
			r.mu.Unlock()
		}
		close(o.done)
	} else {
		r.mu.Unlock()
		select {
		case <-o.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if o.err != nil {
		// The opener's own error may name NameNode hosts or credentials files: users see this
		// one's message, which names only the location's scheme and authority.
		return nil, &PathError{Op: "open", Path: loc.Scheme + "://" + loc.Authority, Kind: kindOf(o.err), Err: o.err}
	}
	return o.fs, nil
}

// Close closes every filesystem the Resolver opened that holds resources (io.Closer).
func (r *Resolver) Close() error {
	r.mu.Lock()
	cache := r.cache
	r.cache = make(map[string]*opening)
	r.mu.Unlock()
	var errs []error
	for _, o := range cache {
		<-o.done
		if c, ok := o.fs.(io.Closer); ok && o.err == nil {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// kindOf returns the error of this package that err wraps, or nil.
func kindOf(err error) error {
	for _, kind := range []error{ErrNotExist, ErrExist, ErrUnsupported, ErrUnavailable} {
		if errors.Is(err, kind) {
			return kind
		}
	}
	return nil
}
