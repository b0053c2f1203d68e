package hive

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
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
	// Logger receives the adapter's debug lines; nil means slog.Default().
	Logger *slog.Logger
}

// Probe connects to c and runs a statement within the probe timeout. A failure is reported
// at the stage it happened: connect (configuration, dialling, TLS, opening the session),
// authenticate (credentials refused) or query (the statement). The error never contains
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
	cfg, err := cfg.withDefaults()
	if err != nil {
		return merge.Probe{Stage: merge.StageConnect}, err
	}
	fail := func(stage merge.Stage, err error) (merge.Probe, error) {
		return merge.Probe{Stage: stage}, probeFailure(err, password, timeout)
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
	msg string
	err error
}

func (e *probeError) Error() string { return e.msg }
func (e *probeError) Unwrap() error { return e.err }

func probeFailure(err error, password string, timeout time.Duration) error {
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
	if len(password) >= 3 {
		msg = strings.ReplaceAll(msg, password, "xxxxx")
	}
	return &probeError{msg: msg, err: err}
}
