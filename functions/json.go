package functions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// maxBody bounds request bodies. A task document must fit Firestore's 1 MiB limit anyway.
const maxBody = 1 << 20

// writeJSON writes v as the response body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every value written here is a plain struct of ours; failing to encode one is a bug.
		panic(fmt.Sprintf("encoding %T: %v", v, err))
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// decodeJSON reads exactly one JSON object into v, strictly: unknown fields, wrong types,
// trailing data, a body over maxBody, a body that is not valid UTF-8, a key given twice in one
// object or a content type other than JSON are ErrInvalid with a message that says which.
//
// application/x-www-form-urlencoded is accepted too, and its body still parsed as JSON only:
// it is what `curl -d '{...}'` sends, and the README's first command is exactly that.
// Cross-site form posts are stopped by the cross-origin check in guard, and bearer tokens are
// never sent by a browser on its own.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "application/x-www-form-urlencoded") {
			return merge.Errorf(merge.ErrInvalid, "Content-Type must be application/json, not %q", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return bodyError(err)
	}
	// encoding/json replaces invalid UTF-8 with U+FFFD without a word, so a name would be
	// stored as something the caller never sent.
	if !utf8.Valid(body) {
		return merge.Errorf(merge.ErrInvalid, "request body is not valid UTF-8")
	}
	if err := checkKeys(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return merge.Errorf(merge.ErrInvalid, "request body has data after the JSON object")
	}
	return nil
}

// checkKeys walks the first JSON value of body and refuses a key given twice in one object, at
// any depth: encoding/json would keep the last one silently, so what was checked and what was
// meant could differ. Keys are compared the way encoding/json matches them to fields, ignoring
// case. It also refuses strings holding U+FFFD, which is what encoding/json makes of an
// unpaired surrogate escape such as "\ud800". A body that is not valid JSON passes, for the
// strict decode to explain.
func checkKeys(body []byte) error {
	// container is an object or array being walked; path names it in messages.
	type container struct {
		path    string
		array   bool
		index   int             // of the next element of an array
		keys    map[string]bool // folded keys seen in an object
		key     string          // the key whose value comes next
		wantKey bool
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []*container
	// child names the value about to start, for the path of a nested container.
	child := func() string {
		if len(stack) == 0 {
			return ""
		}
		top := stack[len(stack)-1]
		if top.array {
			return fmt.Sprintf("%s[%d]", top.path, top.index)
		}
		if top.path == "" {
			return quoteKey(top.key)
		}
		return top.path + "." + quoteKey(top.key)
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &container{path: child(), keys: map[string]bool{}, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, &container{path: child(), array: true})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			s, isString := tok.(string)
			if isString && strings.ContainsRune(s, utf8.RuneError) {
				return merge.Errorf(merge.ErrInvalid, "request body holds U+FFFD or an unpaired UTF-16 surrogate escape")
			}
			if n := len(stack); n > 0 && stack[n-1].wantKey {
				top := stack[n-1]
				folded := strings.ToLower(strings.ToUpper(s))
				if top.keys[folded] {
					if top.path == "" {
						return merge.Errorf(merge.ErrInvalid, "duplicate key %s", quoteKey(s))
					}
					return merge.Errorf(merge.ErrInvalid, "duplicate key %s in %s", quoteKey(s), top.path)
				}
				top.keys[folded] = true
				top.key, top.wantKey = s, false
				continue
			}
		}
		// A value ended: its object expects a key next, its array another element.
		if len(stack) == 0 {
			return nil
		}
		if top := stack[len(stack)-1]; top.array {
			top.index++
		} else {
			top.wantKey = true
		}
	}
}

// quoteKey shows a key as is when it is a plain name, and quoted otherwise, so that a message
// never carries control or formatting characters a caller sent.
func quoteKey(k string) string {
	if plainKeyRe.MatchString(k) {
		return k
	}
	return strconv.QuoteToASCII(k)
}

var plainKeyRe = regexp.MustCompile(`^[A-Za-z0-9_]{1,128}$`)

// bodyError explains a decoding error. encoding/json has no type for unknown fields, so that
// one is recognised by its message.
func bodyError(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		big    *http.MaxBytesError
	)
	switch {
	case errors.Is(err, merge.ErrInvalid):
		return err
	case errors.As(err, &big):
		return merge.Errorf(merge.ErrInvalid, "request body is larger than %d bytes (1 MiB)", big.Limit)
	case errors.Is(err, io.EOF):
		return merge.Errorf(merge.ErrInvalid, "request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return merge.Errorf(merge.ErrInvalid, "request body is not valid JSON: it ends too early")
	case errors.As(err, &syntax):
		return merge.Errorf(merge.ErrInvalid, "request body is not valid JSON at byte %d: %s", syntax.Offset, syntax)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return merge.Errorf(merge.ErrInvalid, "request body must be a JSON object")
		}
		return merge.Errorf(merge.ErrInvalid, "%s must be %s, not a JSON %s", typ.Field, jsonType(typ.Type), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return merge.Errorf(merge.ErrInvalid, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return merge.Errorf(merge.ErrInvalid, "request body is not valid JSON")
}

// jsonType names a Go type as the JSON a caller should send.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}

// queryParams returns r's query, refusing parameters other than allowed and repeated ones: a
// misspelt filter would otherwise silently match everything.
func queryParams(r *http.Request, allowed ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, merge.Errorf(merge.ErrInvalid, "query string is not valid")
	}
	for k, vs := range q {
		if !contains(allowed, k) {
			if len(allowed) == 0 {
				return nil, merge.Errorf(merge.ErrInvalid, "unknown query parameter %q: this operation takes none", k)
			}
			return nil, merge.Errorf(merge.ErrInvalid, "unknown query parameter %q; known: %s", k, strings.Join(allowed, ", "))
		}
		if len(vs) > 1 {
			return nil, merge.Errorf(merge.ErrInvalid, "query parameter %q is given more than once", k)
		}
	}
	return q, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// intParam parses an optional integer query parameter; absent is zero.
func intParam(q url.Values, name string) (int64, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, merge.Errorf(merge.ErrInvalid, "%s must be an integer", name)
	}
	return n, nil
}

// partitionFilter is the create body's partition_filter: one partition spec object or a list
// of them. Values are JSON strings, or integers taken as their decimal text (dt=20240101 is a
// common int partition); anything else is refused rather than guessed at.
type partitionFilter []merge.PartitionSpec

var jsonIntRe = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

func (f *partitionFilter) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return merge.Errorf(merge.ErrInvalid, "partition_filter is not valid JSON")
	}
	switch tok {
	case nil:
		*f = nil
		return nil
	case json.Delim('{'):
		p, err := decodeSpec(dec, "partition_filter")
		if err != nil {
			return err
		}
		*f = partitionFilter{p}
		return nil
	case json.Delim('['):
		var specs partitionFilter
		for i := 0; dec.More(); i++ {
			field := fmt.Sprintf("partition_filter[%d]", i)
			if t, err := dec.Token(); err != nil || t != json.Delim('{') {
				return merge.Errorf(merge.ErrInvalid, "%s must be an object of partition column to value", field)
			}
			p, err := decodeSpec(dec, field)
			if err != nil {
				return err
			}
			specs = append(specs, p)
		}
		if len(specs) == 0 {
			return merge.Errorf(merge.ErrInvalid, "partition_filter is an empty list; omit it to merge the whole table")
		}
		*f = specs
		return nil
	}
	return merge.Errorf(merge.ErrInvalid, "partition_filter must be an object such as {\"dt\":\"2024-01-01\"} or a list of them")
}

// decodeSpec reads one spec object whose '{' dec has consumed, through its '}'.
func decodeSpec(dec *json.Decoder, field string) (merge.PartitionSpec, error) {
	p := merge.PartitionSpec{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, merge.Errorf(merge.ErrInvalid, "%s is not valid JSON", field)
		}
		k := kt.(string)
		if _, dup := p[k]; dup {
			return nil, merge.Errorf(merge.ErrInvalid, "%s names partition column %q twice", field, k)
		}
		vt, err := dec.Token()
		if err != nil {
			return nil, merge.Errorf(merge.ErrInvalid, "%s is not valid JSON", field)
		}
		switch v := vt.(type) {
		case string:
			p[k] = v
		case json.Number:
			if !jsonIntRe.MatchString(v.String()) {
				return nil, merge.Errorf(merge.ErrInvalid, "%s value for %q must be a string or an integer, not %s", field, k, v)
			}
			p[k] = v.String()
		default:
			return nil, merge.Errorf(merge.ErrInvalid, "%s value for %q must be a string or an integer", field, k)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, merge.Errorf(merge.ErrInvalid, "%s is not valid JSON", field)
	}
	return p, nil
}
