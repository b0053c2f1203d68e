package merge

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Prober opens one connection to a cluster's HiveServer2, runs a cheap statement on it and
// closes it. It is the port behind TestCluster; shared/hive implements it.
type Prober interface {
	// Probe connects to c, authenticating with password (empty when c has no password_ref),
	// and runs a statement. On failure the returned Probe's Stage is the stage that failed, its
	// Reason says why when it failed before a session existed, and the error must not contain
	// password.
	Probe(ctx context.Context, c *Cluster, password string) (Probe, error)
}

// Secrets resolves a cluster's password_ref (env:NAME, file:/path or
// secretmanager:projects/P/secrets/S[/versions/V]) to the secret it names.
type Secrets interface {
	// Resolve returns the secret. It fails with ErrNotFound when the reference names nothing,
	// ErrForbidden when the caller may not read it and ErrUnavailable when the backend cannot
	// be reached. Errors never contain the secret.
	Resolve(ctx context.Context, ref string) (string, error)
}

// Stage is how far a connection test got.
type Stage string

// Connection test stages, in order. StageSecret happens only for clusters with a password_ref.
const (
	StageSecret       Stage = "secret"
	StageConnect      Stage = "connect"
	StageAuthenticate Stage = "authenticate"
	StageQuery        Stage = "query"
)

// Probe is what a Prober learned about a cluster.
type Probe struct {
	// Stage is the last stage reached: StageQuery after a success, the failed one otherwise.
	Stage Stage
	// Databases is how many databases the session sees (SHOW DATABASES).
	Databases int
	// Latency is the round trip of the statement, connecting excluded.
	Latency time.Duration
	// Reason is why the connect or authenticate stage failed.
	Reason Reason
}

// Reason is why a connection could not be made, in words the domain owns. A connection test
// reports only these for a failure before a session exists: the bytes the other side sent
// (a banner, an HTTP error page, a Thrift exception) never reach the caller, so the test
// cannot read other services' answers through addresses only this server can reach.
type Reason string

// Reasons for a failed connection.
const (
	ReasonRefused      Reason = "connection refused"
	ReasonTimeout      Reason = "timed out"
	ReasonForbidden    Reason = "forbidden address"
	ReasonNotFound     Reason = "host name not found"
	ReasonUnreachable  Reason = "host unreachable"
	ReasonTLS          Reason = "TLS handshake failed"
	ReasonAuth         Reason = "authentication failed"
	ReasonClosed       Reason = "the server closed the connection"
	ReasonProtocol     Reason = "no HiveServer2 answer"
	ReasonSettings     Reason = "invalid connection settings"
	ReasonUnclassified Reason = "connection failed"
)

// ConnectionTest is the outcome of testing a cluster's connection settings. A cluster that
// cannot be reached or refuses the credentials is a result with OK false, not an error: that
// is what the test is for.
type ConnectionTest struct {
	ClusterID string `json:"cluster_id"`
	OK        bool   `json:"ok"`
	Stage     Stage  `json:"stage"`
	// Message says what happened in words; it never contains the password.
	Message string `json:"message"`
	// Databases and LatencyMS are set when OK.
	Databases  int       `json:"databases"`
	LatencyMS  int64     `json:"latency_ms"`
	DurationMS int64     `json:"duration_ms"`
	TestedAt   time.Time `json:"tested_at"`
}

// WithProber lets the service test cluster connections: p probes clusters and secrets
// resolves their password_ref. Secrets may be nil when no cluster has a password_ref.
func (s *Service) WithProber(p Prober, secrets Secrets) *Service {
	s.prober, s.secrets = p, secrets
	return s
}

// WithAllowedHosts lets clusters be registered with the link-local, unspecified or metadata
// hosts allow lists; the same list must guard the connections (hive.Config.AllowedHosts).
func (s *Service) WithAllowedHosts(allow *HostAllowlist) *Service {
	s.allowedHosts = allow
	return s
}

// TestCluster connects to a registered cluster as the merge engines would: it resolves the
// password_ref, opens one session, runs a cheap statement and closes the session. It fails
// with ErrNotFound for an unknown cluster and ErrUnavailable when this server cannot test
// connections; everything that goes wrong with the cluster itself is reported in the result.
func (s *Service) TestCluster(ctx context.Context, id string) (*ConnectionTest, error) {
	c, err := s.GetCluster(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.prober == nil {
		return nil, Errorf(ErrUnavailable, "this server is not set up to test cluster connections")
	}
	if c.PasswordRef != "" && s.secrets == nil {
		return nil, Errorf(ErrUnavailable, "this server cannot resolve password references, so it cannot test cluster %s", c.ID)
	}
	start := time.Now()
	res := &ConnectionTest{ClusterID: c.ID, TestedAt: s.clock()}
	finish := func(stage Stage, err error, password string) (*ConnectionTest, error) {
		res.DurationMS = time.Since(start).Milliseconds()
		res.Stage = stage
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				// The caller gave up; there is nobody to report the cluster's state to.
				return nil, fmt.Errorf("testing cluster %s: %w", c.ID, cerr)
			}
			res.Message = Redact(failureMessage(c, stage, err), password)
		}
		return res, nil
	}

	var password string
	if c.PasswordRef != "" {
		password, err = s.secrets.Resolve(ctx, c.PasswordRef)
		if err != nil {
			return finish(StageSecret, err, "")
		}
	}
	p, err := s.prober.Probe(ctx, c, password)
	if err != nil {
		stage := p.Stage
		if stage == "" {
			stage = StageConnect
		}
		if stage == StageConnect || stage == StageAuthenticate {
			err = p.Reason
		}
		return finish(stage, err, password)
	}
	res.OK = true
	res.Databases = p.Databases
	res.LatencyMS = p.Latency.Milliseconds()
	dbs := "databases"
	if p.Databases == 1 {
		dbs = "database"
	}
	res.Message = fmt.Sprintf("connected to %s%s and listed %d %s in %d ms", endpoint(c), as(c), p.Databases, dbs, res.LatencyMS)
	return finish(StageQuery, nil, password)
}

// Error makes a Reason the error of a failed stage; the empty Reason is ReasonUnclassified.
func (r Reason) Error() string {
	if r == "" {
		return string(ReasonUnclassified)
	}
	return string(r)
}

// failureMessage explains a failed stage: what was tried, then why. Before a session exists
// why is a Reason; afterwards it is the resolver's or HiveServer2's message, written for people.
func failureMessage(c *Cluster, stage Stage, err error) string {
	var lead string
	switch stage {
	case StageSecret:
		lead = fmt.Sprintf("could not read the password from password_ref %s", c.PasswordRef)
	case StageConnect, StageAuthenticate:
		lead = fmt.Sprintf("could not connect to %s%s", endpoint(c), as(c))
	default:
		lead = fmt.Sprintf("connected to %s%s, but the test statement failed", endpoint(c), as(c))
	}
	return lead + ": " + err.Error()
}

func endpoint(c *Cluster) string {
	tls := ""
	if c.TLS {
		tls = " with TLS"
	}
	return fmt.Sprintf("%s (%s, %s%s)", net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), c.Transport, c.Auth, tls)
}

func as(c *Cluster) string {
	if c.Username == "" || c.Auth == AuthNoSASL {
		return ""
	}
	return " as " + c.Username
}

// Redact removes the password from a message. It is the one redaction rule: adapters apply it
// to their errors, and the domain applies it again to what it reports. Passwords under three
// characters are left alone: replacing them would garble the message without protecting
// anything.
func Redact(msg, password string) string {
	if len(password) < 3 {
		return msg
	}
	return strings.ReplaceAll(msg, password, "xxxxx")
}
