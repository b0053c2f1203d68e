package merge

import (
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
	fsDefaultRe = regexp.MustCompile(`^(hdfs|viewfs|gs|file)://[^\s'"\\]*$`)
)

// Normalize fills defaults and validates c, returning an ErrInvalid error that names the first
// bad field.
func (c *Cluster) Normalize() error {
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
	if c.FSDefault != "" && !fsDefaultRe.MatchString(c.FSDefault) {
		return Errorf(ErrInvalid, "fs_default must be a hdfs://, viewfs://, gs:// or file:// URI")
	}
	if c.MaxRunningTasks == 0 {
		c.MaxRunningTasks = DefaultMaxRunningTasks
	}
	if c.MaxRunningTasks < 1 || c.MaxRunningTasks > 100 {
		return Errorf(ErrInvalid, "max_running_tasks must be between 1 and 100")
	}
	return nil
}

// CheckPasswordRef accepts references only (or none), so a password pasted into the field is refused
// instead of being stored.
func CheckPasswordRef(ref string) error {
	if ref == "" {
		return nil
	}
	kind, rest, _ := strings.Cut(ref, ":")
	switch {
	case kind == "env" && envNameRe.MatchString(rest):
	case kind == "file" && strings.HasPrefix(rest, "/") && len(rest) < 1024 && !hasControl(rest):
	case kind == "secretmanager" && secretRe.MatchString(rest):
	default:
		return Errorf(ErrInvalid, "password_ref must be env:NAME, file:/absolute/path or secretmanager:projects/P/secrets/S[/versions/V]; put the secret there, not here")
	}
	return nil
}
