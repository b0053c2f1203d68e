package functions

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"

	"google.golang.org/api/idtoken"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Role is what a caller may do. Each role includes the ones below it.
type Role int

// Roles, least first. RoleNone is the zero value: no access, or no role needed.
const (
	RoleNone Role = iota
	// RoleViewer reads tasks, logs, statistics and the cluster registry.
	RoleViewer
	// RoleOperator also creates and cancels tasks (later: previews and executes them).
	RoleOperator
	// RoleAdmin also manages the cluster registry, and may do everything else.
	RoleAdmin
)

var roleNames = map[Role]string{RoleNone: "none", RoleViewer: "viewer", RoleOperator: "operator", RoleAdmin: "admin"}

func (r Role) String() string {
	if n, ok := roleNames[r]; ok {
		return n
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// ParseRole reads viewer, operator or admin.
func ParseRole(s string) (Role, error) {
	for r, n := range roleNames {
		if r != RoleNone && n == strings.ToLower(strings.TrimSpace(s)) {
			return r, nil
		}
	}
	return RoleNone, fmt.Errorf("role %q is not viewer, operator or admin", s)
}

// Principal is an authenticated caller. Name is recorded on the tasks it creates and cancels.
type Principal struct {
	Name string
	Role Role
}

// Token is a static bearer token granting Role to Name.
type Token struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	Token string `json:"token"`
}

// AuthConfig says who may call. Every field is optional; the zero value lets nobody in.
type AuthConfig struct {
	Tokens []Token
	// Anonymous is the role of a request without an Authorization header. RoleNone refuses
	// such requests; anything else is meant for a server bound to loopback only.
	Anonymous Role
	// OIDCAudience, when set, accepts Google-signed ID tokens for this audience, and OIDCRoles
	// gives roles to their (verified) emails.
	OIDCAudience string
	OIDCRoles    map[string]Role
	// PageTokenKey signs page tokens. When empty, the key is derived from the tokens and the
	// audience, which every instance of a deployment shares.
	PageTokenKey string
}

// Authenticator identifies callers from their bearer token: a static token, or a Google ID
// token when an audience is configured.
type Authenticator struct {
	tokens    []tokenEntry
	anonymous Role
	audience  string
	oidcRoles map[string]Role
	// pages is the key of page tokens; nil draws one per Server.
	pages []byte
	// Validate verifies a Google ID token's signature, expiry and audience. It is
	// idtoken.Validate, which fetches Google's public keys; tests replace it to exercise the
	// mapping from identity to role without the network.
	Validate func(ctx context.Context, token, audience string) (*idtoken.Payload, error)
}

// tokenEntry keeps a token's SHA-256 only: comparing fixed-size digests in constant time does
// not leak a token's length or prefix, and the token itself stays out of memory dumps.
type tokenEntry struct {
	sum       [sha256.Size]byte
	principal Principal
}

var principalNameRe = regexp.MustCompile(`^[A-Za-z0-9._@+-]{1,128}$`)

// NewAuthenticator checks cfg and returns an Authenticator for it.
func NewAuthenticator(cfg AuthConfig) (*Authenticator, error) {
	a := &Authenticator{anonymous: cfg.Anonymous, audience: cfg.OIDCAudience, oidcRoles: map[string]Role{}, Validate: idtoken.Validate}
	seen := map[[sha256.Size]byte]bool{}
	for _, t := range cfg.Tokens {
		if !principalNameRe.MatchString(t.Name) {
			return nil, fmt.Errorf("token name %q: use 1-128 letters, digits or . _ @ + -", t.Name)
		}
		role, err := ParseRole(t.Role)
		if err != nil {
			return nil, fmt.Errorf("token %s: %w", t.Name, err)
		}
		if t.Token == "" || strings.ContainsAny(t.Token, " \t\r\n") {
			return nil, fmt.Errorf("token %s: the token must be non-empty and contain no spaces", t.Name)
		}
		sum := sha256.Sum256([]byte(t.Token))
		if seen[sum] {
			return nil, fmt.Errorf("token %s: the same token is configured twice", t.Name)
		}
		seen[sum] = true
		a.tokens = append(a.tokens, tokenEntry{sum: sum, principal: Principal{Name: t.Name, Role: role}})
	}
	for email, role := range cfg.OIDCRoles {
		if cfg.OIDCAudience == "" {
			return nil, fmt.Errorf("OIDC roles are configured but no OIDC audience")
		}
		if !strings.Contains(email, "@") {
			return nil, fmt.Errorf("OIDC principal %q is not an email", email)
		}
		a.oidcRoles[strings.ToLower(email)] = role
	}
	if k := cfg.PageTokenKey; k != "" && len(k) < minPageTokenKey {
		return nil, fmt.Errorf("HIVEMERGE_PAGE_TOKEN_KEY must be at least %d bytes", minPageTokenKey)
	}
	a.pages = derivePageKey(cfg.PageTokenKey, a.tokens, cfg.OIDCAudience)
	return a, nil
}

// minPageTokenKey is the least length of a configured page token key: 32 random bytes, or as
// many characters of a long passphrase.
const minPageTokenKey = 32

// pageKey is the key of page tokens: the configured or derived one, else a random one.
func (a *Authenticator) pageKey() []byte {
	if a.pages != nil {
		return a.pages
	}
	return randomKey()
}

// Anonymous is the role given to requests without credentials; RoleNone when they are refused.
func (a *Authenticator) Anonymous() Role { return a.anonymous }

// Authenticate identifies the caller of r. It fails with ErrUnauthenticated when credentials
// are missing or wrong. A verified identity without a role is returned with RoleNone, so that
// the caller is told it is forbidden rather than unknown.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if a.anonymous != RoleNone {
			return Principal{Name: "anonymous", Role: a.anonymous}, nil
		}
		return Principal{}, merge.Errorf(merge.ErrUnauthenticated, "missing bearer token: send Authorization: Bearer <token>")
	}
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return Principal{}, merge.Errorf(merge.ErrUnauthenticated, "the Authorization header must be: Bearer <token>")
	}
	if p, ok := a.static(tok); ok {
		return p, nil
	}
	if a.audience != "" && strings.Count(tok, ".") == 2 {
		return a.oidc(ctx, tok)
	}
	return Principal{}, merge.Errorf(merge.ErrUnauthenticated, "the bearer token is not valid")
}

// static finds tok among the configured tokens, comparing with every one of them.
func (a *Authenticator) static(tok string) (Principal, bool) {
	sum := sha256.Sum256([]byte(tok))
	var found Principal
	var ok bool
	for _, e := range a.tokens {
		if subtle.ConstantTimeCompare(sum[:], e.sum[:]) == 1 {
			found, ok = e.principal, true
		}
	}
	return found, ok
}

// googleIssuers are the issuers of Google-signed ID tokens; idtoken.Validate checks signature,
// audience and expiry but not the issuer.
var googleIssuers = []string{"accounts.google.com", "https://accounts.google.com"}

func (a *Authenticator) oidc(ctx context.Context, tok string) (Principal, error) {
	p, err := a.Validate(ctx, tok, a.audience)
	if err != nil {
		Logger(ctx).DebugContext(ctx, "ID token rejected", "reason", err.Error())
		return Principal{}, merge.Errorf(merge.ErrUnauthenticated, "the bearer token is not valid")
	}
	if !contains(googleIssuers, p.Issuer) || p.Audience != a.audience {
		return Principal{}, merge.Errorf(merge.ErrUnauthenticated, "the bearer token is not valid")
	}
	email, _ := p.Claims["email"].(string)
	verified, _ := p.Claims["email_verified"].(bool)
	if email == "" || !verified {
		return Principal{}, merge.Errorf(merge.ErrUnauthenticated, "the ID token carries no verified email")
	}
	email = strings.ToLower(email)
	return Principal{Name: email, Role: a.oidcRoles[email]}, nil
}

// AuthConfigFromEnv reads the access configuration:
//
//	HIVEMERGE_TOKENS           name:role:token,... static bearer tokens
//	HIVEMERGE_TOKENS_FILE      a file of tokens: a JSON array of {"name","role","token"}, or
//	                           name:role:token lines (# starts a comment)
//	HIVEMERGE_API_TOKEN        one admin token, named "api"
//	HIVEMERGE_ALLOW_ANONYMOUS  viewer, operator or admin: the role of requests without a token
//	HIVEMERGE_OIDC_AUDIENCE    accept Google ID tokens for this audience
//	HIVEMERGE_OIDC_ROLES       email:role,... roles of ID-token callers
//	HIVEMERGE_PAGE_TOKEN_KEY   signs page tokens (at least 32 bytes); derived when unset
func AuthConfigFromEnv(getenv func(string) string) (AuthConfig, error) {
	var cfg AuthConfig
	if v := getenv("HIVEMERGE_TOKENS"); v != "" {
		for _, item := range strings.Split(v, ",") {
			t, err := parseTokenLine(item)
			if err != nil {
				return cfg, fmt.Errorf("HIVEMERGE_TOKENS: %w", err)
			}
			cfg.Tokens = append(cfg.Tokens, t)
		}
	}
	if path := getenv("HIVEMERGE_TOKENS_FILE"); path != "" {
		ts, err := readTokensFile(path)
		if err != nil {
			return cfg, fmt.Errorf("HIVEMERGE_TOKENS_FILE: %w", err)
		}
		cfg.Tokens = append(cfg.Tokens, ts...)
	}
	if v := getenv("HIVEMERGE_API_TOKEN"); v != "" {
		cfg.Tokens = append(cfg.Tokens, Token{Name: "api", Role: "admin", Token: v})
	}
	if v := getenv("HIVEMERGE_ALLOW_ANONYMOUS"); v != "" {
		r, err := ParseRole(v)
		if err != nil {
			return cfg, fmt.Errorf("HIVEMERGE_ALLOW_ANONYMOUS: %w", err)
		}
		cfg.Anonymous = r
	}
	cfg.OIDCAudience = getenv("HIVEMERGE_OIDC_AUDIENCE")
	cfg.PageTokenKey = getenv("HIVEMERGE_PAGE_TOKEN_KEY")
	if v := getenv("HIVEMERGE_OIDC_ROLES"); v != "" {
		cfg.OIDCRoles = map[string]Role{}
		for _, item := range strings.Split(v, ",") {
			email, role, ok := strings.Cut(strings.TrimSpace(item), ":")
			if !ok {
				return cfg, fmt.Errorf("HIVEMERGE_OIDC_ROLES: %q is not email:role", item)
			}
			r, err := ParseRole(role)
			if err != nil {
				return cfg, fmt.Errorf("HIVEMERGE_OIDC_ROLES: %s: %w", email, err)
			}
			cfg.OIDCRoles[email] = r
		}
	}
	return cfg, nil
}

// parseTokenLine reads name:role:token. The token is never part of an error message.
func parseTokenLine(s string) (Token, error) {
	parts := strings.SplitN(strings.TrimSpace(s), ":", 3)
	if len(parts) != 3 {
		name, _, _ := strings.Cut(strings.TrimSpace(s), ":")
		return Token{}, fmt.Errorf("entry for %q is not name:role:token", name)
	}
	return Token{Name: parts[0], Role: parts[1], Token: parts[2]}, nil
}

func readTokensFile(path string) ([]Token, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	text := strings.TrimSpace(string(b))
	if strings.HasPrefix(text, "[") {
		var ts []Token
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ts); err != nil {
			return nil, fmt.Errorf("%s is not a JSON array of {\"name\",\"role\",\"token\"}", path)
		}
		return ts, nil
	}
	var ts []Token
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		t, err := parseTokenLine(line)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// AuthFromEnv is NewAuthenticator over AuthConfigFromEnv.
func AuthFromEnv(getenv func(string) string) (*Authenticator, error) {
	cfg, err := AuthConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	return NewAuthenticator(cfg)
}
