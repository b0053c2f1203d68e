package functions

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
)

// openAPI is the API's OpenAPI 3 document, written by hand and kept true by a test that
// compares it with the routes.
//
//go:embed openapi.json
var openAPI []byte

//go:embed docs.html.tmpl
var docsTemplate string

// docsOperations serve the API documentation; they need no token.
var docsOperations = []operation{
	{method: http.MethodGet, path: "/docs", aliases: []string{"/docs/"}, role: RoleNone, handle: (*Server).docs},
	{method: http.MethodGet, path: "/docs/openapi.json", role: RoleNone, handle: (*Server).openAPI},
}

// docsPage is rendered once: the document is fixed at build time.
var docsPage = sync.OnceValues(func() ([]byte, error) {
	spec, err := parseSpec(openAPI)
	if err != nil {
		return nil, err
	}
	t, err := template.New("docs").Funcs(template.FuncMap{"upper": strings.ToUpper, "lower": strings.ToLower}).Parse(docsTemplate)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, docsView(spec)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
})

func (s *Server) docs(w http.ResponseWriter, r *http.Request) error {
	page, err := docsPage()
	if err != nil {
		return fmt.Errorf("rendering the API docs: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The page is self-contained: no script, style only inline, nothing fetched elsewhere.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(page)
	return nil
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(openAPI)
	return nil
}

// spec is the part of an OpenAPI document the docs page shows.
type spec struct {
	Info struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Description string `json:"description"`
	} `json:"info"`
	Tags []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"tags"`
	Paths      map[string]map[string]specOperation `json:"paths"`
	Components struct {
		Parameters map[string]specParameter `json:"parameters"`
		Responses  map[string]specResponse  `json:"responses"`
		Schemas    map[string]*specSchema   `json:"schemas"`
	} `json:"components"`
}

type specOperation struct {
	OperationID string          `json:"operationId"`
	Tags        []string        `json:"tags"`
	Summary     string          `json:"summary"`
	Description string          `json:"description"`
	Role        string          `json:"x-hivemerge-role"`
	Parameters  []specParameter `json:"parameters"`
	RequestBody *struct {
		Content map[string]struct {
			Schema *specSchema `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
	Responses map[string]specResponse `json:"responses"`
}

type specParameter struct {
	Ref         string      `json:"$ref"`
	Name        string      `json:"name"`
	In          string      `json:"in"`
	Required    bool        `json:"required"`
	Description string      `json:"description"`
	Schema      *specSchema `json:"schema"`
}

type specResponse struct {
	Ref         string `json:"$ref"`
	Description string `json:"description"`
	Content     map[string]struct {
		Schema *specSchema `json:"schema"`
	} `json:"content"`
}

type specSchema struct {
	Ref                  string                 `json:"$ref"`
	Type                 string                 `json:"type"`
	Format               string                 `json:"format"`
	Description          string                 `json:"description"`
	Enum                 []any                  `json:"enum"`
	Default              any                    `json:"default"`
	Items                *specSchema            `json:"items"`
	Properties           map[string]*specSchema `json:"properties"`
	Required             []string               `json:"required"`
	AllOf                []*specSchema          `json:"allOf"`
	OneOf                []*specSchema          `json:"oneOf"`
	AdditionalProperties json.RawMessage        `json:"additionalProperties"`
}

func parseSpec(b []byte) (*spec, error) {
	var sp spec
	if err := json.Unmarshal(b, &sp); err != nil {
		return nil, fmt.Errorf("parsing the OpenAPI document: %w", err)
	}
	return &sp, nil
}

// specRoutes lists "METHOD path" for every operation in the document.
func specRoutes(sp *spec) []string {
	var routes []string
	for path, ops := range sp.Paths {
		for method := range ops {
			routes = append(routes, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(routes)
	return routes
}

// View model of the docs page.
type (
	pageView struct {
		Title, Version string
		Intro          []string
		Groups         []groupView
		Schemas        []schemaView
	}
	groupView struct {
		Name, Description string
		Operations        []opView
	}
	opView struct {
		ID, Method, Path, Summary, Description, Role string
		Params                                       []paramView
		Body                                         string
		Responses                                    []responseView
	}
	paramView    struct{ Name, In, Type, Description string }
	responseView struct{ Code, Description, Type string }
	schemaView   struct {
		Name, Type, Description string
		Fields                  []paramView
	}
)

var methodOrder = []string{"get", "post", "put", "patch", "delete"}

func docsView(sp *spec) pageView {
	v := pageView{Title: sp.Info.Title, Version: sp.Info.Version, Intro: strings.Split(sp.Info.Description, "\n\n")}
	paths := make([]string, 0, len(sp.Paths))
	for p := range sp.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, tag := range sp.Tags {
		g := groupView{Name: tag.Name, Description: tag.Description}
		for _, p := range paths {
			for _, m := range methodOrder {
				o, ok := sp.Paths[p][m]
				if !ok || !slices.Contains(o.Tags, tag.Name) {
					continue
				}
				g.Operations = append(g.Operations, operationView(sp, strings.ToUpper(m), p, o))
			}
		}
		v.Groups = append(v.Groups, g)
	}
	names := make([]string, 0, len(sp.Components.Schemas))
	for n := range sp.Components.Schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		sc := sp.Components.Schemas[n]
		sv := schemaView{Name: n, Type: typeName(sc), Description: sc.Description}
		for _, f := range sortedKeys(sc.Properties) {
			fs := sc.Properties[f]
			name := f
			if slices.Contains(sc.Required, f) {
				name += " (required)"
			}
			sv.Fields = append(sv.Fields, paramView{Name: name, Type: typeName(fs), Description: describe(fs)})
		}
		v.Schemas = append(v.Schemas, sv)
	}
	return v
}

func operationView(sp *spec, method, path string, o specOperation) opView {
	ov := opView{ID: o.OperationID, Method: method, Path: path, Summary: o.Summary, Description: o.Description, Role: o.Role}
	for _, p := range o.Parameters {
		if p.Ref != "" {
			p = sp.Components.Parameters[refName(p.Ref)]
		}
		name := p.Name
		if p.Required {
			name += " (required)"
		}
		ov.Params = append(ov.Params, paramView{Name: name, In: p.In, Type: typeName(p.Schema), Description: p.Description})
	}
	if o.RequestBody != nil {
		if c, ok := o.RequestBody.Content["application/json"]; ok {
			ov.Body = typeName(c.Schema)
		}
	}
	for _, code := range sortedKeys(o.Responses) {
		r := o.Responses[code]
		if r.Ref != "" {
			r = sp.Components.Responses[refName(r.Ref)]
		}
		rv := responseView{Code: code, Description: r.Description}
		for _, c := range r.Content {
			rv.Type = typeName(c.Schema)
		}
		ov.Responses = append(ov.Responses, rv)
	}
	return ov
}

func refName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

// typeName renders a schema as a short type: a component's name, array of X, or the JSON type.
func typeName(s *specSchema) string {
	switch {
	case s == nil:
		return ""
	case s.Ref != "":
		return refName(s.Ref)
	case len(s.AllOf) == 1:
		return typeName(s.AllOf[0])
	case len(s.OneOf) > 0:
		var alts []string
		for _, a := range s.OneOf {
			alts = append(alts, typeName(a))
		}
		return strings.Join(alts, " | ")
	case s.Type == "array":
		return "array of " + typeName(s.Items)
	case s.Format != "":
		return s.Type + " (" + s.Format + ")"
	}
	return s.Type
}

func describe(s *specSchema) string {
	d := s.Description
	if len(s.Enum) > 0 {
		var vals []string
		for _, e := range s.Enum {
			vals = append(vals, fmt.Sprint(e))
		}
		d = strings.TrimSpace(d + " One of: " + strings.Join(vals, ", ") + ".")
	}
	if s.Default != nil {
		d = strings.TrimSpace(fmt.Sprintf("%s Default: %v.", d, s.Default))
	}
	return d
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
