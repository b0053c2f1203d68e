package functions

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/api/idtoken"
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

func TestDefaultFunctionsRefuseAnonymous(t *testing.T) {
	t.Setenv("HIVEMERGE_STORE", "bolt")
	t.Setenv("HIVEMERGE_BOLT_PATH", filepath.Join(t.TempDir(), "db"))
	t.Setenv("HIVEMERGE_ALLOW_ANONYMOUS", "admin")
	_, err := defaultFunctions()
	if err == nil || !strings.Contains(err.Error(), "HIVEMERGE_ALLOW_ANONYMOUS") {
		t.Fatalf("defaultFunctions() error = %v, want a refusal of anonymous access", err)
	}
	rec := httptest.NewRecorder()
	defaultFunction("ListTasks")(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "ANONYMOUS") {
		t.Errorf("misconfigured function answered %d %s; want a generic 500", rec.Code, rec.Body.String())
	}
}
