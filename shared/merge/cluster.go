package merge

import (
	"path"
	"regexp"
	"strings"
	"time"
)

// Cluster is a Hive cluster hivemerge may work on. It never holds a secret: PasswordRef names
// where the password lives (an environment variable, a file or a Secret Manager version).
type Cluster struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	Host            string    `json:"host"`
	Port            int       `json:"port"`
	Transport       string    `json:"transport"`
	Auth            string    `json:"auth"`
	TLS             bool      `json:"tls"`
	Username        string    `json:"username,omitempty"`
	PasswordRef     string    `json:"password_ref,omitempty"`
	FSDefault       string    `json:"fs_default,omitempty"`
	MaxRunningTasks int       `json:"max_running_tasks"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// Cluster field values.
const (
	TransportBinary = "binary"
	TransportHTTP   = "http"

	AuthNoSASL   = "NOSASL"
	AuthNone     = "NONE"
	AuthLDAP     = "LDAP"
	AuthKerberos = "KERBEROS"

	DefaultHivePort        = 10000
	DefaultMaxRunningTasks = 2
)

var (
	clusterIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	hostRe      = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$|^\[[0-9A-Fa-f:.]{2,45}\]$`)
	userRe      = regexp.MustCompile(`^[A-Za-z0-9._@/-]{1,256}$`)
	envNameRe   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
	secretRe    = regexp.MustCompile(`^projects/[A-Za-z0-9_-]+/secrets/[A-Za-z0-9_-]+(/versions/([0-9]+|latest))?$`)
	// authorityRe is a namenode's host[:port] or a nameservice; bucketRe a GCS bucket name.
	authorityRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]{0,252})(:[0-9]{1,5})?$`)
	bucketRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$`)
	fsPathRe    = regexp.MustCompile(`^(/[^\s'"\\?#]*)?$`)
)

// Normalize fills defaults and validates c, returning an ErrInvalid error that names the first
// bad field. allow lists the link-local, unspecified or metadata hosts an operator allowed; nil
// allows none.
func (c *Cluster) Normalize(allow *HostAllowlist) error {
	if !clusterIDRe.MatchString(c.ID) {
		return Errorf(ErrInvalid, "id must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit")
	}
	if c.Name == "" {
		c.Name = c.ID
	}
	if err := checkText("name", c.Name, 256); err != nil {
		return err
	}
	if !hostRe.MatchString(c.Host) {
		return Errorf(ErrInvalid, "host must be a host name or an IP address")
	}
	if err := CheckClusterHost(c.Host, allow); err != nil {
		return Errorf(ErrInvalid, "host: %v", err)
	}
	if c.Port == 0 {
		c.Port = DefaultHivePort
	}
	if c.Port < 1 || c.Port > 65535 {
		return Errorf(ErrInvalid, "port must be between 1 and 65535")
	}
	if c.Transport == "" {
		c.Transport = TransportBinary
	}
	if c.Transport != TransportBinary && c.Transport != TransportHTTP {
		return Errorf(ErrInvalid, "transport must be %q or %q", TransportBinary, TransportHTTP)
	}
	if c.Auth == "" {
		c.Auth = AuthNone
	}
	switch c.Auth {
	case AuthNoSASL, AuthNone, AuthLDAP, AuthKerberos:
	default:
		return Errorf(ErrInvalid, "auth must be one of NOSASL, NONE, LDAP, KERBEROS")
	}
	if c.Username != "" && !userRe.MatchString(c.Username) {
		return Errorf(ErrInvalid, "username may contain only letters, digits and . _ @ / -")
	}
	if err := CheckPasswordRef(c.PasswordRef); err != nil {
		return err
	}
	if c.Auth == AuthLDAP && (c.Username == "" || c.PasswordRef == "") {
		return Errorf(ErrInvalid, "LDAP auth needs username and password_ref")
	}
	if err := checkFSDefault(c.FSDefault); err != nil {
		return err
	}
	if c.MaxRunningTasks == 0 {
		c.MaxRunningTasks = DefaultMaxRunningTasks
	}
	if c.MaxRunningTasks < 1 || c.MaxRunningTasks > 100 {
		return Errorf(ErrInvalid, "max_running_tasks must be between 1 and 100")
	}
	return nil
}

// deniedEnv are the variables that hold this server's own credentials. No env: reference may
// name them, whatever prefix the resolver is configured with: a cluster's connection test would
// otherwise send them to a host of the caller's choosing.
var deniedEnv = map[string]bool{
	"HIVEMERGE_API_TOKEN":            true,
	"HIVEMERGE_TOKENS":               true,
	"HIVEMERGE_TOKENS_FILE":          true,
	"HIVEMERGE_OIDC_AUDIENCE":        true,
	"HIVEMERGE_OIDC_ROLES":           true,
	"HIVEMERGE_ALLOW_ANONYMOUS":      true,
	"GOOGLE_APPLICATION_CREDENTIALS": true,
}

// deniedRoots hold the kernel's views of processes and devices: /proc/self/environ is every
// variable of the server, whatever the env: rules say.
var deniedRoots = []string{"/proc", "/sys", "/dev"}

// CheckPasswordRef accepts references only (or none), so a password pasted into the field is
// refused instead of being stored. It also refuses what no configuration may allow: the
// server's own credential variables and files under /proc, /sys and /dev. Which variables and
// directories are allowed is the resolver's configuration, checked when a reference is read.
func CheckPasswordRef(ref string) error {
	if ref == "" {
		return nil
	}
	kind, rest, _ := strings.Cut(ref, ":")
	switch {
	case kind == "env" && envNameRe.MatchString(rest):
		if deniedEnv[strings.ToUpper(rest)] {
			return Errorf(ErrInvalid, "password_ref may not name %s: it holds this server's own credentials", rest)
		}
	case kind == "file" && strings.HasPrefix(rest, "/") && len(rest) < 1024 && !hasControl(rest):
		if rest != path.Clean(rest) {
			return Errorf(ErrInvalid, "password_ref file: must be a clean absolute path (no '.', '..', '//' or trailing '/')")
		}
		if DeniedPath(rest) {
			return Errorf(ErrInvalid, "password_ref may not name a file under /proc, /sys or /dev")
		}
	case kind == "secretmanager" && secretRe.MatchString(rest):
	default:
		return Errorf(ErrInvalid, "password_ref must be env:NAME, file:/absolute/path or secretmanager:projects/P/secrets/S[/versions/V]; put the secret there, not here")
	}
	return nil
}

// DeniedPath reports whether the clean absolute path p is /proc, /sys or /dev or below them.
func DeniedPath(p string) bool {
	for _, root := range deniedRoots {
		if p == root || strings.HasPrefix(p, root+"/") {
			return true
		}
	}
	return false
}

// checkFSDefault accepts a filesystem URI the merge engines may resolve table locations
// against: hdfs:// and viewfs:// with a namenode or nameservice, gs:// with a bucket, or
// file:// with an absolute local directory other than the root.
func checkFSDefault(s string) error {
	if s == "" {
		return nil
	}
	bad := func(why string) error {
		return Errorf(ErrInvalid, "fs_default %s", why)
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || len(s) > 1024 || hasControl(s) {
		return bad("must be a hdfs://, viewfs://, gs:// or file:// URI")
	}
	authority, p := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, p = rest[:i], rest[i:]
	}
	if !fsPathRe.MatchString(p) {
		return bad("path must be absolute, without spaces, quotes, backslashes, '?' or '#'")
	}
	if hasDotDot(p) {
		return bad("path may not contain '..'")
	}
	switch scheme {
	case "hdfs", "viewfs":
		if !authorityRe.MatchString(authority) {
			return bad("needs a namenode or nameservice: " + scheme + "://namenode:8020")
		}
	case "gs":
		if !bucketRe.MatchString(authority) {
			return bad("needs a bucket name: gs://bucket")
		}
	case "file":
		if authority != "" {
			return bad("file:// takes no host: file:///absolute/directory")
		}
		if p == "" || path.Clean(p) == "/" {
			return bad("file:// must name a directory other than the root /")
		}
	default:
		return bad("must be a hdfs://, viewfs://, gs:// or file:// URI")
	}
	return nil
}

func hasDotDot(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return true
		}
	}
	return false
}
