package functions

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/api/idtoken"

	"github.com/hivemerge/hivemerge/shared/merge"
)

func TestAuthorization(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	cluster := `{"id":"c1","host":"hive.example"}`
	for _, c := range []struct {
		name, method, path, token string
		body                      any
		header                    []string
		want                      int
	}{
		{"no token", "GET", "/api/v1/tasks/", "", nil, nil, 401},
		{"wrong token", "GET", "/api/v1/tasks/", "not-a-token", nil, nil, 401},
		{"token prefix", "GET", "/api/v1/tasks/", viewerToken[:10], nil, nil, 401},
		{"basic auth", "GET", "/api/v1/tasks/", "", nil, []string{"Authorization", "Basic dmVyYTp4"}, 401},
		{"empty bearer", "GET", "/api/v1/tasks/", "", nil, []string{"Authorization", "Bearer "}, 401},
		{"lowercase scheme", "GET", "/api/v1/tasks/", "", nil, []string{"Authorization", "bearer " + viewerToken}, 200},
		{"viewer lists", "GET", "/api/v1/tasks/", viewerToken, nil, nil, 200},
		{"viewer reads stats", "GET", "/api/v1/tasks/stats", viewerToken, nil, nil, 200},
		{"viewer lists clusters", "GET", "/api/v1/clusters", viewerToken, nil, nil, 200},
		{"viewer creates", "POST", "/api/v1/tasks/", viewerToken, newcomerBody, nil, 403},
		{"viewer creates, standalone", "POST", "/CreateTask", viewerToken, newcomerBody, nil, 403},
		{"viewer cancels", "POST", "/api/v1/tasks/abc/cancel", viewerToken, nil, nil, 403},
		{"no token creates", "POST", "/api/v1/tasks/", "", newcomerBody, nil, 401},
		{"operator registers a cluster", "POST", "/api/v1/clusters", operatorToken, cluster, nil, 403},
		{"operator deletes a cluster", "DELETE", "/api/v1/clusters/demo", operatorToken, nil, nil, 403},
		{"admin registers a cluster", "POST", "/api/v1/clusters", adminToken, cluster, nil, 201},
		{"admin creates a task", "POST", "/api/v1/tasks/", adminToken, newcomerBody, nil, 201},
		{"cross-site browser post", "POST", "/api/v1/tasks/", adminToken, newcomerBody, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"health is public", "GET", "/health", "", nil, nil, 200},
		{"docs are public", "GET", "/docs", "", nil, nil, 200},
		{"spec is public", "GET", "/docs/openapi.json", "", nil, nil, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, c.method, c.path, c.token, c.body, c.header...)
			if r.status != c.want {
				t.Fatalf("%d %s, want %d", r.status, r.body, c.want)
			}
			switch c.want {
			case 401:
				if r.header.Get("WWW-Authenticate") == "" || !strings.Contains(string(r.body), `"code":"unauthenticated"`) {
					t.Errorf("401 without WWW-Authenticate or code: %v %s", r.header, r.body)
				}
			case 403:
				if !strings.Contains(string(r.body), `"code":"permission_denied"`) {
					t.Errorf("403 body: %s", r.body)
				}
			}
		})
	}
	for _, tok := range []string{viewerToken, operatorToken, adminToken} {
		if strings.Contains(e.logs.String(), tok) {
			t.Errorf("a token appears in the log")
		}
	}
}

func TestAnonymous(t *testing.T) {
	auth, err := NewAuthenticator(AuthConfig{Anonymous: RoleViewer, Tokens: []Token{{Name: "otto", Role: "operator", Token: operatorToken}}})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, openBolt(t), auth)
	for _, c := range []struct {
		name, method, token string
		body                any
		want                int
	}{
		{"read without a token", "GET", "", nil, 200},
		{"create without a token", "POST", "", newcomerBody, 403},
		{"a wrong token is still wrong", "GET", "wrong", nil, 401},
		{"a token still counts", "POST", operatorToken, newcomerBody, 201},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := e.do(t, c.method, "/api/v1/tasks/", c.token, c.body); r.status != c.want {
				t.Errorf("%d %s, want %d", r.status, r.body, c.want)
			}
		})
	}
}

// TestOIDC checks how verified Google ID tokens map to principals. The signature check is
// idtoken.Validate's and needs Google's keys, so Validate is replaced by a table of payloads:
// what is tested is what hivemerge does with a payload.
func TestOIDC(t *testing.T) {
	const aud = "https://region-project.cloudfunctions.net/hivemerge-api"
	payloads := map[string]*idtoken.Payload{
		"a.sched.sig":    {Issuer: "https://accounts.google.com", Audience: aud, Claims: map[string]any{"email": "Scheduler@p.iam.gserviceaccount.com", "email_verified": true}},
		"a.viewer.sig":   {Issuer: "accounts.google.com", Audience: aud, Claims: map[string]any{"email": "dash@p.iam.gserviceaccount.com", "email_verified": true}},
		"a.stranger.sig": {Issuer: "https://accounts.google.com", Audience: aud, Claims: map[string]any{"email": "who@example.com", "email_verified": true}},
		"a.unverif.sig":  {Issuer: "https://accounts.google.com", Audience: aud, Claims: map[string]any{"email": "scheduler@p.iam.gserviceaccount.com", "email_verified": false}},
		"a.noemail.sig":  {Issuer: "https://accounts.google.com", Audience: aud, Claims: map[string]any{}},
		"a.issuer.sig":   {Issuer: "https://evil.example", Audience: aud, Claims: map[string]any{"email": "scheduler@p.iam.gserviceaccount.com", "email_verified": true}},
		"a.aud.sig":      {Issuer: "https://accounts.google.com", Audience: "other", Claims: map[string]any{"email": "scheduler@p.iam.gserviceaccount.com", "email_verified": true}},
	}
	cfg, err := AuthConfigFromEnv(mapEnv{
		"HIVEMERGE_OIDC_AUDIENCE": aud,
		"HIVEMERGE_OIDC_ROLES":    "scheduler@p.iam.gserviceaccount.com:operator, dash@p.iam.gserviceaccount.com:viewer",
		"HIVEMERGE_TOKENS":        "ada:admin:" + adminToken,
	}.get)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := NewAuthenticator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	auth.Validate = func(_ context.Context, tok, audience string) (*idtoken.Payload, error) {
		if audience != aud {
			t.Errorf("validated for audience %q", audience)
		}
		if p, ok := payloads[tok]; ok {
			return p, nil
		}
		return nil, errors.New("idtoken: invalid signature")
	}
	e := newEnv(t, openBolt(t), auth)
	for _, c := range []struct {
		name, token string
		wantList    int
		wantCreate  int
	}{
		{"mapped operator", "a.sched.sig", 200, 201},
		{"mapped viewer", "a.viewer.sig", 200, 403},
		{"verified but not mapped", "a.stranger.sig", 403, 403},
		{"unverified email", "a.unverif.sig", 401, 401},
		{"no email", "a.noemail.sig", 401, 401},
		{"not issued by Google", "a.issuer.sig", 401, 401},
		{"other audience", "a.aud.sig", 401, 401},
		{"bad signature", "a.forged.sig", 401, 401},
		{"static tokens still work", adminToken, 200, 409},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := e.do(t, "GET", "/api/v1/tasks/", c.token, nil); r.status != c.wantList {
				t.Errorf("list: %d %s, want %d", r.status, r.body, c.wantList)
			}
			if r := e.do(t, "POST", "/api/v1/tasks/", c.token, newcomerBody); r.status != c.wantCreate {
				t.Errorf("create: %d %s, want %d", r.status, r.body, c.wantCreate)
			}
		})
	}
	tasks := allTasks(t, e.store)
	if len(tasks) != 1 || tasks[0].CreatedBy != "scheduler@p.iam.gserviceaccount.com" {
		t.Errorf("tasks = %+v, want one created by the scheduler's service account", tasks)
	}
}

type mapEnv map[string]string

func (m mapEnv) get(k string) string { return m[k] }

func TestAuthConfigFromEnv(t *testing.T) {
	dir := t.TempDir()
	jsonFile := filepath.Join(dir, "tokens.json")
	linesFile := filepath.Join(dir, "tokens.txt")
	badFile := filepath.Join(dir, "bad.txt")
	writeFile(t, jsonFile, `[{"name":"ci","role":"operator","token":"json-token-1"}]`)
	writeFile(t, linesFile, "# operators\nbob:viewer:line-token-1\n\ncarol:admin:line:token:with:colons\n")
	writeFile(t, badFile, "dave:viewer\n")

	for _, c := range []struct {
		name    string
		env     mapEnv
		want    map[string]string // token -> name:role
		wantErr string
	}{
		{"nothing", mapEnv{}, map[string]string{}, ""},
		{"tokens", mapEnv{"HIVEMERGE_TOKENS": "vera:viewer:t-1, otto:OPERATOR:t-2"}, map[string]string{"t-1": "vera:viewer", "t-2": "otto:operator"}, ""},
		{"api token is admin", mapEnv{"HIVEMERGE_API_TOKEN": "demo-admin-token"}, map[string]string{"demo-admin-token": "api:admin"}, ""},
		{"json file", mapEnv{"HIVEMERGE_TOKENS_FILE": jsonFile}, map[string]string{"json-token-1": "ci:operator"}, ""},
		{"lines file", mapEnv{"HIVEMERGE_TOKENS_FILE": linesFile}, map[string]string{"line-token-1": "bob:viewer", "line:token:with:colons": "carol:admin"}, ""},
		{"bad role", mapEnv{"HIVEMERGE_TOKENS": "vera:root:secret-1"}, nil, `role "root" is not viewer, operator or admin`},
		{"missing part", mapEnv{"HIVEMERGE_TOKENS": "vera:secret-1"}, nil, `entry for "vera" is not name:role:token`},
		{"bad file line", mapEnv{"HIVEMERGE_TOKENS_FILE": badFile}, nil, "line 1"},
		{"missing file", mapEnv{"HIVEMERGE_TOKENS_FILE": filepath.Join(dir, "none")}, nil, "no such file"},
		{"same token twice", mapEnv{"HIVEMERGE_TOKENS": "a:viewer:same-1,b:admin:same-1"}, nil, "configured twice"},
		{"bad anonymous role", mapEnv{"HIVEMERGE_ALLOW_ANONYMOUS": "everyone"}, nil, "HIVEMERGE_ALLOW_ANONYMOUS"},
		{"roles without audience", mapEnv{"HIVEMERGE_OIDC_ROLES": "a@b.c:viewer"}, nil, "no OIDC audience"},
		{"bad OIDC role", mapEnv{"HIVEMERGE_OIDC_AUDIENCE": "x", "HIVEMERGE_OIDC_ROLES": "a@b.c:boss"}, nil, "boss"},
		{"short page token key", mapEnv{"HIVEMERGE_PAGE_TOKEN_KEY": "short-secret-1"}, nil, "HIVEMERGE_PAGE_TOKEN_KEY must be at least 32 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := AuthFromEnv(c.env.get)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, c.wantErr)
				}
				if strings.Contains(err.Error(), "secret-1") || strings.Contains(err.Error(), "same-1") {
					t.Errorf("the error %q shows a token", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(a.tokens) != len(c.want) {
				t.Errorf("%d tokens, want %d", len(a.tokens), len(c.want))
			}
			for tok, want := range c.want {
				p, ok := a.static(tok)
				if got := p.Name + ":" + p.Role.String(); !ok || got != want {
					t.Errorf("token %s: %s %v, want %s", tok, got, ok, want)
				}
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDefaultFunctionsHideConfigurationErrors: a function whose Server cannot be built
// answers a generic 500, never the configuration error, and builds again at the next request.
func TestDefaultFunctionsHideConfigurationErrors(t *testing.T) {
	calls := 0
	SetBuilder(func() (*Server, error) {
		calls++
		return nil, errors.New("HIVEMERGE_ALLOW_ANONYMOUS is only honoured by the local server")
	})
	t.Cleanup(func() { SetBuilder(nil) })
	for range 2 {
		rec := httptest.NewRecorder()
		defaultFunction("ListTasks")(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "ANONYMOUS") {
			t.Errorf("misconfigured function answered %d %s; want a generic 500", rec.Code, rec.Body.String())
		}
	}
	if calls != 2 {
		t.Errorf("the builder ran %d times for two requests; a failed build must be retried", calls)
	}
}

// TestAnonymousLoopbackHosts plays DNS rebinding: a page at rebind.attacker.example, whose
// name the attacker then points at 127.0.0.1, sends requests the browser deems same-origin
// (Origin and Host agree), so the cross-origin check lets them through. Anonymous access
// must answer loopback Host names only, on every path.
func TestAnonymousLoopbackHosts(t *testing.T) {
	auth, err := NewAuthenticator(AuthConfig{Anonymous: RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, openBolt(t), auth)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(e.http.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	const attacker = "rebind.attacker.example"
	for _, c := range []struct {
		name, host, method, path string
		body                     any
		want                     int
	}{
		{"create a cluster", attacker, "POST", "/api/v1/clusters", `{"id":"rebound","host":"10.0.0.7"}`, 403},
		{"create a cluster, with a port", attacker + ":" + port, "POST", "/api/v1/clusters", `{"id":"rebound","host":"10.0.0.7"}`, 403},
		{"create a cluster, standalone", attacker, "POST", "/CreateCluster", `{"id":"rebound","host":"10.0.0.7"}`, 403},
		{"test a connection", attacker, "POST", "/api/v1/clusters/demo/test", nil, 403},
		{"read tasks", attacker, "GET", "/api/v1/tasks/", nil, 403},
		{"health", attacker, "GET", "/health", nil, 403},
		{"docs", attacker, "GET", "/docs", nil, 403},
		{"unknown path", attacker, "GET", "/nope", nil, 403},
		{"localhost as a subdomain", "localhost.attacker.example", "GET", "/api/v1/tasks/", nil, 403},
		{"loopback as a subdomain", "127.0.0.1.attacker.example", "GET", "/api/v1/tasks/", nil, 403},
		{"a private address", "10.0.0.7:" + port, "GET", "/api/v1/tasks/", nil, 403},
		{"localhost", "localhost:" + port, "GET", "/api/v1/tasks/", nil, 200},
		{"localhost without a port", "localhost", "GET", "/api/v1/tasks/", nil, 200},
		{"127.0.0.1", "127.0.0.1:" + port, "GET", "/api/v1/tasks/", nil, 200},
		{"elsewhere in 127/8", "127.1.2.3", "GET", "/health", nil, 200},
		{"IPv6 loopback", "[::1]:" + port, "GET", "/health", nil, 200},
		{"IPv6 loopback without a port", "[::1]", "GET", "/health", nil, 200},
		{"create on localhost", "localhost:" + port, "POST", "/api/v1/clusters", `{"id":"local","host":"10.0.0.7"}`, 201},
	} {
		t.Run(c.name, func(t *testing.T) {
			origin := "http://" + c.host
			r := e.do(t, c.method, c.path, "", c.body, "Host", c.host, "Origin", origin, "Sec-Fetch-Site", "same-origin")
			if r.status != c.want {
				t.Fatalf("%d %s, want %d", r.status, r.body, c.want)
			}
			if c.want == 403 && (!strings.Contains(string(r.body), "anonymous access answers loopback Host names only") ||
				!strings.Contains(string(r.body), "bearer token")) {
				t.Errorf("the refusal does not explain itself: %s", r.body)
			}
		})
	}
	if _, err := e.svc.GetCluster(t.Context(), "rebound"); !errors.Is(err, merge.ErrNotFound) {
		t.Errorf("the rebound request registered a cluster: %v", err)
	}

	// With tokens only, the Host name does not matter: a rebound page has no token.
	e = newEnv(t, openBolt(t), nil)
	if r := e.do(t, "GET", "/api/v1/tasks/", viewerToken, nil, "Host", "hivemerge.example.internal"); r.status != 200 {
		t.Errorf("a token over another Host name: %d %s, want 200", r.status, r.body)
	}
}

// TestAuthenticateBeforeMethod keeps the API's routes to its callers: without credentials
// any /api/ path answers 401, whatever the method; a known caller learns the allowed methods.
func TestAuthenticateBeforeMethod(t *testing.T) {
	e := newEnv(t, openBolt(t), nil)
	for _, c := range []struct {
		name, method, path, token string
		want                      int
	}{
		{"collection", "DELETE", "/api/v1/tasks/", "", 401},
		{"collection alias", "PUT", "/api/v1/clusters", "", 401},
		{"item", "PATCH", "/api/v1/clusters/demo", "", 401},
		{"action", "GET", "/api/v1/tasks/abc/cancel", "", 401},
		{"unknown path", "GET", "/api/v1/secrets", "", 401},
		{"unknown version", "GET", "/api/v2/tasks", "", 401},
		{"standalone function", "GET", "/CreateTask", "", 401},
		{"wrong token", "DELETE", "/api/v1/tasks/", "wrong", 401},
		{"viewer, wrong method", "DELETE", "/api/v1/tasks/", viewerToken, 405},
		{"viewer, unknown path", "GET", "/api/v1/secrets", viewerToken, 404},
		{"viewer, standalone function", "GET", "/CreateTask", viewerToken, 405},
		{"health is public", "POST", "/health", "", 405},
		{"docs are public", "POST", "/docs", "", 405},
		{"outside the API", "GET", "/nope", "", 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, c.method, c.path, c.token, nil)
			if r.status != c.want {
				t.Fatalf("%d %s, want %d", r.status, r.body, c.want)
			}
			if c.want == 401 && r.header.Get("Allow") != "" {
				t.Errorf("a 401 tells the methods: Allow %q", r.header.Get("Allow"))
			}
		})
	}
}

// TestPageTokenKey checks that instances configured alike sign page tokens alike, and that
// the key changes with the secret material it comes from.
func TestPageTokenKey(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef"
	for _, c := range []struct {
		name string
		a, b mapEnv
		same bool
	}{
		{"same tokens", mapEnv{"HIVEMERGE_TOKENS": "a:viewer:t-1,b:admin:t-2"}, mapEnv{"HIVEMERGE_TOKENS": "b:admin:t-2,a:viewer:t-1"}, true},
		{"other tokens", mapEnv{"HIVEMERGE_TOKENS": "a:viewer:t-1"}, mapEnv{"HIVEMERGE_TOKENS": "a:viewer:t-3"}, false},
		{"same audience", mapEnv{"HIVEMERGE_OIDC_AUDIENCE": "https://f.example"}, mapEnv{"HIVEMERGE_OIDC_AUDIENCE": "https://f.example"}, true},
		{"tokens and another audience", mapEnv{"HIVEMERGE_API_TOKEN": "t-1", "HIVEMERGE_OIDC_AUDIENCE": "https://f.example"}, mapEnv{"HIVEMERGE_API_TOKEN": "t-1", "HIVEMERGE_OIDC_AUDIENCE": "https://g.example"}, false},
		{"same key, other tokens", mapEnv{"HIVEMERGE_PAGE_TOKEN_KEY": key, "HIVEMERGE_API_TOKEN": "t-1"}, mapEnv{"HIVEMERGE_PAGE_TOKEN_KEY": key, "HIVEMERGE_API_TOKEN": "t-2"}, true},
		{"a key or the tokens", mapEnv{"HIVEMERGE_PAGE_TOKEN_KEY": key, "HIVEMERGE_API_TOKEN": "t-1"}, mapEnv{"HIVEMERGE_API_TOKEN": "t-1"}, false},
		{"nothing to derive from", mapEnv{"HIVEMERGE_ALLOW_ANONYMOUS": "viewer"}, mapEnv{"HIVEMERGE_ALLOW_ANONYMOUS": "viewer"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := AuthFromEnv(c.a.get)
			if err != nil {
				t.Fatal(err)
			}
			b, err := AuthFromEnv(c.b.get)
			if err != nil {
				t.Fatal(err)
			}
			if got := bytes.Equal(a.pageKey(), b.pageKey()); got != c.same {
				t.Errorf("same key: %v, want %v", got, c.same)
			}
		})
	}
}
