package hive

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// DefaultProbeTimeout bounds one connection test: a person is waiting for the answer, and a
// HiveServer2 that needs longer to open a session is worth reporting as unreachable.
const DefaultProbeTimeout = 10 * time.Second

// ClusterConfig maps a registered cluster to the configuration of a Client or a Prober.
// password is the secret its password_ref names, resolved by the caller. A cluster with tls
// set verifies the server against the system's roots; set Config.TLS for a private CA.
func ClusterConfig(c *merge.Cluster, password string) Config {
	cfg := Config{
		Name:      c.ID,
		Host:      c.Host,
		Port:      c.Port,
		Transport: Transport(c.Transport),
		Auth:      Auth(c.Auth),
		Username:  c.Username,
		Password:  password,
	}
	if c.TLS {
		cfg.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return cfg
}

// Prober tests a cluster's connection settings: it opens one session as a Client would, runs
// SHOW DATABASES and closes the session. It implements merge.Prober and is safe for
// concurrent use.
type Prober struct {
	// Timeout bounds a whole probe; zero means DefaultProbeTimeout.
	Timeout time.Duration
	// TLS, if set, replaces the default TLS configuration of clusters with tls set (for
	// example to trust a private CA).
	TLS *tls.Config
	// AllowedHosts is Config.AllowedHosts for the probed clusters.
	AllowedHosts *merge.HostAllowlist
	// Logger receives the adapter's debug lines, the full cause of a failed probe among them;
	// nil means slog.Default().
	Logger *slog.Logger
}

// Probe connects to c and runs a statement within the probe timeout. A failure is reported
// at the stage it happened: connect (configuration, dialling, TLS, opening the session),
// authenticate (credentials refused) or query (the statement). Before a session exists the
// error says only the merge.Reason, never what the other side sent; the error never contains
// password.
func (p *Prober) Probe(ctx context.Context, c *merge.Cluster, password string) (merge.Probe, error) {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	cfg := ClusterConfig(c, password)
	if cfg.TLS != nil && p.TLS != nil {
		cfg.TLS = p.TLS
	}
	cfg.PoolSize = 1
	cfg.ConnectTimeout = timeout
	cfg.SocketTimeout = timeout
	cfg.Logger = p.Logger
	cfg.AllowedHosts = p.AllowedHosts
	cfg, err := cfg.withDefaults()
	if err != nil {
		log := p.Logger
		if log == nil {
			log = slog.Default()
		}
		log.Debug("hive: probe failed", "cluster", c.ID, "stage", merge.StageConnect, "reason", merge.ReasonSettings, "err", err.Error())
		return merge.Probe{Stage: merge.StageConnect, Reason: merge.ReasonSettings}, &probeError{msg: string(merge.ReasonSettings), reason: merge.ReasonSettings, cause: err.Error(), err: err}
	}
	fail := func(stage merge.Stage, err error) (merge.Probe, error) {
		perr := probeFailure(stage, err, password, timeout)
		if stage != merge.StageQuery {
			cfg.Logger.Debug("hive: probe failed", "cluster", cfg.Name, "stage", stage, "reason", perr.reason, "err", perr.cause)
		}
		return merge.Probe{Stage: stage, Reason: perr.reason}, perr
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	cn, err := dial(ctx, cfg)
	if err != nil {
		return fail(dialStage(err), err)
	}
	defer cn.close()
	// gohive's calls do not watch ctx; closing the sockets makes them return at the deadline.
	stop := context.AfterFunc(ctx, func() {
		cn.markBroken()
		cn.abort()
	})
	defer stop()

	stmt, err := hql.ShowDatabases()
	if err != nil {
		return fail(merge.StageQuery, err)
	}
	start := time.Now()
	res, err := cn.run(ctx, stmt, nil, true, cfg.PollInterval)
	latency := time.Since(start)
	if err != nil {
		var nr *errNotRun
		if errors.As(err, &nr) {
			err = nr.err
		}
		if ctx.Err() != nil {
			err = ctxError(ctx, "statement")
		}
		return fail(merge.StageQuery, err)
	}
	return merge.Probe{Stage: merge.StageQuery, Databases: len(res.Rows), Latency: latency}, nil
}

// dialStage tells which stage a failed dial reached. dial reports refused credentials as
// merge.ErrUnauthenticated; a statement Hive refused (dial's own SET) is the query stage;
// everything else happened before a session existed.
func dialStage(err error) merge.Stage {
	var he *Error
	switch {
	case errors.Is(err, merge.ErrUnauthenticated):
		return merge.StageAuthenticate
	case errors.As(err, &he):
		return merge.StageQuery
	}
	return merge.StageConnect
}

// probeError is a failed probe's error. Its text is the cause alone, because the caller
// already says which cluster and which stage; Unwrap keeps the adapter's translated error for
// errors.Is.
type probeError struct {
	msg    string
	reason merge.Reason
	// cause is the adapter's description, password removed, for the log only: before a
	// session exists it may hold what any service at the address answered.
	cause string
	err   error
}

func (e *probeError) Error() string { return e.msg }
func (e *probeError) Unwrap() error { return e.err }

func probeFailure(stage merge.Stage, err error, password string, timeout time.Duration) *probeError {
	var (
		he   *Error
		msg  string
		wrap interface{ Unwrap() []error }
	)
	switch {
	case errors.As(err, &he):
		msg = he.Message
	case errors.Is(err, context.DeadlineExceeded):
		msg = fmt.Sprintf("HiveServer2 did not answer within %s", timeout)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		msg = "HiveServer2 closed the connection without an answer"
	case errors.As(err, &wrap):
		// unavailable and unauthenticated wrap the kind first and the cause last.
		errs := wrap.Unwrap()
		msg = errs[len(errs)-1].Error()
	default:
		msg = err.Error()
	}
	msg = merge.Redact(msg, password)
	pe := &probeError{msg: msg, cause: msg, err: err}
	if stage != merge.StageQuery && !errors.Is(err, context.Canceled) {
		pe.reason = reasonOf(err)
		pe.msg = string(pe.reason)
	}
	return pe
}

// reasonOf classifies a failure to connect or authenticate.
func reasonOf(err error) merge.Reason {
	var (
		dns     *net.DNSError
		netErr  net.Error
		record  tls.RecordHeaderError
		alert   tls.AlertError
		verify  *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
	)
	switch {
	case errors.Is(err, merge.ErrForbidden):
		return merge.ReasonForbidden
	case errors.Is(err, merge.ErrUnauthenticated):
		return merge.ReasonAuth
	case errors.Is(err, merge.ErrInvalid):
		return merge.ReasonSettings
	case errors.As(err, &record), errors.As(err, &alert), errors.As(err, &verify),
		errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &invalid):
		return merge.ReasonTLS
	case errors.As(err, &dns) && !dns.IsTimeout:
		return merge.ReasonNotFound
	case errors.Is(err, syscall.ECONNREFUSED):
		return merge.ReasonRefused
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return merge.ReasonUnreachable
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return merge.ReasonTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return merge.ReasonClosed
	}
	return merge.ReasonProtocol
}
