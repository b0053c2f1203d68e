package hive

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// Transport is how Thrift messages travel to HiveServer2 (hive.server2.transport.mode).
type Transport string

const (
	TransportBinary Transport = "binary"
	TransportHTTP   Transport = "http"
)

// Auth is the authentication HiveServer2 expects (hive.server2.authentication).
type Auth string

const (
	// AuthNoSASL is plain Thrift without SASL (binary transport; over HTTP it sends no
	// credentials that matter).
	AuthNoSASL Auth = "NOSASL"
	// AuthNone is SASL PLAIN with any password (HTTP: Basic authentication).
	AuthNone Auth = "NONE"
	// AuthLDAP is SASL PLAIN with a checked password (HTTP: Basic authentication).
	AuthLDAP Auth = "LDAP"
	// AuthKerberos is SASL GSSAPI (HTTP: SPNEGO); it needs the kerberos build tag.
	AuthKerberos Auth = "KERBEROS"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultPort             = 10000
	DefaultHTTPPath         = "cliservice"
	DefaultPoolSize         = 4
	DefaultConnectTimeout   = 15 * time.Second
	DefaultSocketTimeout    = 2 * time.Minute
	DefaultPollInterval     = 500 * time.Millisecond
	DefaultHealthCheckAfter = 30 * time.Second
	DefaultFetchSize        = 1000
	DefaultRetryBackoff     = 250 * time.Millisecond
	// DefaultUsername is sent when Config.Username is empty, instead of gohive's fallback to
	// the operating-system user (which fails in some containers).
	DefaultUsername = "hivemerge"
)

// Config describes one HiveServer2 endpoint (one cluster) and the pool of sessions kept to it.
type Config struct {
	// Name identifies the cluster in logs.
	Name      string
	Host      string
	Port      int
	Transport Transport
	Auth      Auth
	Username  string
	// Password is resolved by the caller (from a secret store); it is never logged.
	Password string
	// KerberosService is the service part of HiveServer2's principal, usually "hive".
	KerberosService string
	// TLS, when set, wraps the connection in TLS (hive.server2.use.SSL). Its ServerName
	// defaults to Host.
	TLS *tls.Config
	// HTTPPath is the HTTP endpoint path (hive.server2.thrift.http.path).
	HTTPPath string
	// PoolSize is the most sessions kept open to the cluster at once; callers wait for a
	// free one (honouring their context).
	PoolSize int
	// ConnectTimeout bounds dialling, the TLS and SASL handshakes and opening a session.
	ConnectTimeout time.Duration
	// SocketTimeout bounds every single request to HiveServer2 (not a whole statement: long
	// statements run asynchronously and are polled). It must exceed Hive's compile time for
	// the largest statement, which HiveServer2 spends inside ExecuteStatement.
	SocketTimeout time.Duration
	// PollInterval is the pause between status polls of a running statement.
	PollInterval time.Duration
	// HealthCheckAfter: a pooled session idle longer than this is checked with a cheap
	// statement before it is handed out. Negative disables the check.
	HealthCheckAfter time.Duration
	// FetchSize is the number of rows fetched per request.
	FetchSize int64
	// RetryBackoff is the pause before a repeatable statement (hql.Kind) whose connection
	// dropped is sent again on a new session; it doubles for the next try.
	RetryBackoff time.Duration
	// Session holds settings applied to every session at open, on top of
	// hive.variable.substitute=false, which is always set.
	Session map[string]string
	// AllowedHosts lists the link-local, metadata or unspecified addresses and host names that
	// may be dialled anyway (HIVEMERGE_ALLOWED_CLUSTER_HOSTS). Every address a connection is
	// about to be made to is checked with merge.CheckClusterAddr, after name resolution, so a
	// name that resolves to the metadata server is refused too.
	AllowedHosts *merge.HostAllowlist
	Logger       *slog.Logger
}

// LogValue keeps the password out of logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", c.Name),
		slog.String("host", c.Host),
		slog.Int("port", c.Port),
		slog.String("transport", string(c.Transport)),
		slog.String("auth", string(c.Auth)),
		slog.String("username", c.Username),
		slog.Bool("tls", c.TLS != nil),
		slog.Int("pool_size", c.PoolSize),
	)
}

// String describes the endpoint without secrets.
func (c Config) String() string {
	return fmt.Sprintf("%s (%s %s)", c.Name, c.addr(), c.Transport)
}

func (c Config) addr() string { return c.Host + ":" + strconv.Itoa(c.Port) }

// withDefaults validates c and fills in defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Host == "" {
		return c, merge.Errorf(merge.ErrInvalid, "hive: cluster %q has no host", c.Name)
	}
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Port < 0 || c.Port > 65535 {
		return c, merge.Errorf(merge.ErrInvalid, "hive: port %d out of range", c.Port)
	}
	if c.Name == "" {
		c.Name = c.addr()
	}
	switch c.Transport {
	case "":
		c.Transport = TransportBinary
	case TransportBinary, TransportHTTP:
	default:
		return c, merge.Errorf(merge.ErrInvalid, "hive: unknown transport %q (binary or http)", c.Transport)
	}
	switch c.Auth {
	case "":
		c.Auth = AuthNone
	case AuthNoSASL, AuthNone, AuthLDAP:
	case AuthKerberos:
		if err := kerberosAvailable(); err != nil {
			return c, err
		}
		if c.KerberosService == "" {
			c.KerberosService = "hive"
		}
	default:
		return c, merge.Errorf(merge.ErrInvalid, "hive: unknown auth %q (NOSASL, NONE, LDAP or KERBEROS)", c.Auth)
	}
	if c.Auth == AuthLDAP && c.Password == "" {
		return c, merge.Errorf(merge.ErrInvalid, "hive: LDAP authentication needs a password")
	}
	if c.Username == "" && c.Auth != AuthKerberos {
		c.Username = DefaultUsername
	}
	if c.HTTPPath == "" {
		c.HTTPPath = DefaultHTTPPath
	}
	if c.PoolSize <= 0 {
		c.PoolSize = DefaultPoolSize
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.SocketTimeout <= 0 {
		c.SocketTimeout = DefaultSocketTimeout
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.HealthCheckAfter == 0 {
		c.HealthCheckAfter = DefaultHealthCheckAfter
	}
	if c.FetchSize <= 0 {
		c.FetchSize = DefaultFetchSize
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	settings := map[string]string{substituteKey: "false"}
	for k, v := range c.Session {
		if _, err := hql.Set(k, v); err != nil {
			return c, fmt.Errorf("hive: session setting: %w", err)
		}
		if k == substituteKey && v != "false" {
			return c, merge.Errorf(merge.ErrInvalid, "hive: %s must stay false", substituteKey)
		}
		settings[k] = v
	}
	c.Session = settings
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.TLS != nil {
		t := c.TLS.Clone()
		if t.ServerName == "" {
			t.ServerName = c.Host
		}
		c.TLS = t
	}
	return c, nil
}

// substituteKey is turned off in every session: with it on, Hive expands ${...} even inside
// string literals.
const substituteKey = "hive.variable.substitute"
