// Package hivesandbox is a HiveServer2-protocol sandbox server over a local warehouse
// directory, for tests and the demo; it speaks Hive's wire protocol but is not a Hive.
//
// Since DROP, INSERT OVERWRITE and compaction delete files at a table's location, clients may
// only put a LOCATION strictly below the warehouse directory or one of Config.ExtraRoots, and
// never at, above or inside another table's or database's location (see package hiveql).
// Statements longer than Config.MaxStatementBytes are refused before they are parsed.
package hivesandbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/beltran/gohive/hiveserver"

	"github.com/hivemerge/hivemerge/shared/hivesandbox/hiveql"
)

// Names the sandbox gives itself wherever a client can see them (GetInfo, logs, HTTP headers),
// so that nobody mistakes it for a real Hive.
const (
	ServerName = "hivemerge HiveServer2 sandbox"
	// ServerVersion starts with the Hive release whose behaviour the sandbox follows, so that
	// clients parsing the version pick Hive 3 code paths.
	ServerVersion = "3.1.3-sandbox"
)

// Config configures a sandbox server.
type Config struct {
	// Addr is the binary transport's listen address; "127.0.0.1:0" picks a free port.
	Addr string
	// HTTPAddr is the HTTP transport's listen address (Thrift at /cliservice, fault admin at
	// /sandbox/faults); empty disables it.
	HTTPAddr string
	// AdminAddr, when set, serves the fault admin endpoint on its own HTTP listener.
	AdminAddr string
	// Warehouse is the directory holding the catalog and the data.
	Warehouse string
	// ExtraRoots are directories besides Warehouse below which clients may put a table's,
	// partition's or database's LOCATION. Any other location is refused, since DROP and
	// INSERT OVERWRITE delete the files there.
	ExtraRoots []string
	// MaxStatementBytes is the longest statement accepted, counted before and after variable
	// substitution; a longer one fails with an error before it is parsed, since parsing costs
	// many times a statement's size. 0 means hiveql.DefaultMaxStatementBytes (1 MiB).
	MaxStatementBytes int
	// Users are the accepted user names and passwords. Nil means NOSASL on the binary port and
	// no authentication over HTTP; non-nil means SASL PLAIN on the binary port and HTTP Basic
	// authentication, both checked against this map.
	Users map[string]string
	// TLS, when set, wraps every listener in TLS.
	TLS    *tls.Config
	Logger *slog.Logger
	// Faults are injected before the server starts listening.
	Faults []Fault
}

// Server is a running sandbox. It serves until Close is called or the context given to Start
// ends.
type Server struct {
	cfg   Config
	log   *slog.Logger
	wh    *hiveql.Warehouse
	proc  thrift.TProcessor
	fault faults

	// ctx is the parent of every operation; Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	binLn     net.Listener
	httpSrv   *http.Server
	httpLn    net.Listener
	adminSrv  *http.Server
	adminLn   net.Listener
	stopAfter func() bool

	// wg counts connection and operation goroutines.
	wg     sync.WaitGroup
	connID atomic.Uint64

	mu       sync.Mutex
	closed   bool
	conns    map[*binaryConn]struct{}
	sessions map[handleKey]*session
	ops      map[handleKey]*operation

	closeOnce sync.Once
	closeErr  error
}

// Start opens the warehouse and starts listening on the configured addresses; the listeners
// are bound when it returns. The server stops when ctx ends or Close is called.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		return nil, errors.New("hivesandbox: Config.Addr is empty")
	}
	if cfg.Warehouse == "" {
		return nil, errors.New("hivesandbox: Config.Warehouse is empty")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "hivesandbox")

	s := &Server{
		cfg:      cfg,
		log:      log,
		conns:    make(map[*binaryConn]struct{}),
		sessions: make(map[handleKey]*session),
		ops:      make(map[handleKey]*operation),
	}
	for i, f := range cfg.Faults {
		if _, err := s.fault.add(f); err != nil {
			return nil, fmt.Errorf("hivesandbox: fault %d: %w", i, err)
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.proc = hiveserver.NewTCLIServiceProcessor(&service{s: s})

	wh, err := hiveql.Open(cfg.Warehouse)
	if err != nil {
		s.cancel()
		return nil, fmt.Errorf("hivesandbox: open warehouse: %w", err)
	}
	s.wh = wh
	wh.SetMaxStatementBytes(cfg.MaxStatementBytes)
	if err := wh.AllowLocations(cfg.ExtraRoots...); err != nil {
		s.Close()
		return nil, fmt.Errorf("hivesandbox: %w", err)
	}

	if err := s.listen(); err != nil {
		s.Close()
		return nil, err
	}

	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.serveBinary()
	}()
	if s.httpLn != nil {
		s.httpSrv = s.newHTTPServer(s.httpHandler())
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveHTTP(s.httpSrv, s.httpLn)
		}()
	}
	if s.adminLn != nil {
		s.adminSrv = s.newHTTPServer(s.adminHandler())
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveHTTP(s.adminSrv, s.adminLn)
		}()
	}
	s.mu.Lock()
	s.stopAfter = context.AfterFunc(ctx, func() { s.Close() })
	s.mu.Unlock()

	auth := "NOSASL"
	if cfg.Users != nil {
		auth = "SASL PLAIN"
	}
	log.Info("HiveServer2 sandbox listening (not a Hive)",
		"binary_addr", s.Addr(), "binary_auth", auth, "http_addr", s.HTTPAddr(),
		"admin_addr", s.AdminAddr(), "tls", cfg.TLS != nil, "warehouse", cfg.Warehouse,
		"version", ServerVersion)
	return s, nil
}

func (s *Server) listen() error {
	listen := func(addr string) (net.Listener, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("hivesandbox: listen: %w", err)
		}
		if s.cfg.TLS != nil {
			ln = tls.NewListener(ln, s.cfg.TLS)
		}
		return ln, nil
	}
	var err error
	if s.binLn, err = listen(s.cfg.Addr); err != nil {
		return err
	}
	if s.cfg.HTTPAddr != "" {
		if s.httpLn, err = listen(s.cfg.HTTPAddr); err != nil {
			return err
		}
	}
	if s.cfg.AdminAddr != "" {
		if s.adminLn, err = listen(s.cfg.AdminAddr); err != nil {
			return err
		}
	}
	return nil
}

// Addr is the binary transport's address.
func (s *Server) Addr() string { return addrOf(s.binLn) }

// HTTPAddr is the HTTP transport's address, or "" when it is off.
func (s *Server) HTTPAddr() string { return addrOf(s.httpLn) }

// AdminAddr is the separate fault admin listener's address, or "" when it is off.
func (s *Server) AdminAddr() string { return addrOf(s.adminLn) }

func addrOf(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}

// Warehouse is the engine behind the server, for tests that seed or inspect data directly.
func (s *Server) Warehouse() *hiveql.Warehouse { return s.wh }

// Inject adds a fault and returns a function that removes it. It panics when the fault is
// invalid (see Fault.Validate), like regexp.MustCompile, because faults in tests are literals.
func (s *Server) Inject(f Fault) (remove func()) {
	in, err := s.fault.add(f)
	if err != nil {
		panic("hivesandbox: Inject: " + err.Error())
	}
	s.log.Info("fault injected", "fault_id", in.id, "match", f.Match, "action", f.Action, "times", f.Times)
	return func() { s.fault.remove(in.id) }
}

// Close stops listening, closes every connection, cancels every running operation, waits for
// their goroutines and closes the warehouse.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		if s.stopAfter != nil {
			s.stopAfter()
		}
		s.closed = true
		conns := make([]*binaryConn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()

		s.cancel()
		var errs []error
		for _, ln := range []net.Listener{s.binLn} {
			if ln != nil {
				if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
					errs = append(errs, err)
				}
			}
		}
		for _, srv := range []*http.Server{s.httpSrv, s.adminSrv} {
			if srv != nil {
				// Close rather than Shutdown, which waits for idle clients; the in-flight
				// calls are counted in wg and end promptly, their operations cancelled above.
				srv.Close()
			}
		}
		// Listeners whose server never started are closed here.
		for _, ln := range []net.Listener{s.httpLn, s.adminLn} {
			if ln != nil {
				ln.Close()
			}
		}
		for _, c := range conns {
			c.Close()
		}
		s.wg.Wait()

		s.mu.Lock()
		sessions := s.sessions
		s.sessions = map[handleKey]*session{}
		s.ops = map[handleKey]*operation{}
		s.mu.Unlock()
		for _, sess := range sessions {
			sess.closeOps()
		}
		if s.wh != nil {
			if err := s.wh.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close warehouse: %w", err))
			}
		}
		s.closeErr = errors.Join(errs...)
		s.log.Info("HiveServer2 sandbox stopped")
	})
	return s.closeErr
}

// serveBinary accepts binary-transport connections until the listener is closed.
func (s *Server) serveBinary() {
	var backoff time.Duration
	for {
		nc, err := s.binLn.Accept()
		if err != nil {
			if s.isClosed() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Like net/http: back off on transient errors (too many open files) instead of
			// spinning or giving up.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
				continue
			case <-s.ctx.Done():
				return
			}
		}
		backoff = 0
		c := &binaryConn{Conn: nc, id: s.connID.Add(1), sessions: make(map[handleKey]*session)}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
		}()
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// binaryConn is one binary-transport client connection. HiveServer2 ties sessions opened over
// a binary connection to it and closes them when the connection goes away; so does the
// sandbox.
type binaryConn struct {
	net.Conn
	id   uint64
	user string // authenticated by SASL; empty on NOSASL

	closeOnce sync.Once
	mu        sync.Mutex
	sessions  map[handleKey]*session
}

func (c *binaryConn) Close() error {
	var err error
	c.closeOnce.Do(func() { err = c.Conn.Close() })
	return err
}

type connKey struct{}

// handshakeTimeout bounds the TLS and SASL handshakes so that a silent client cannot hold a
// connection slot forever.
const handshakeTimeout = 30 * time.Second

func (s *Server) serveConn(c *binaryConn) {
	log := s.log.With("conn", c.id, "remote", c.RemoteAddr().String())
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.mu.Lock()
		sessions := c.sessions
		c.sessions = nil
		c.mu.Unlock()
		for _, sess := range sessions {
			s.closeSession(sess)
		}
		log.Debug("connection closed", "sessions_closed", len(sessions))
	}()

	if tc, ok := c.Conn.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(s.ctx, handshakeTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			log.Warn("TLS handshake failed", "err", err)
			return
		}
	}

	conf := &thrift.TConfiguration{}
	var trans thrift.TTransport
	socket := thrift.NewTSocketFromConnConf(c.Conn, conf)
	if s.cfg.Users != nil {
		c.SetDeadline(time.Now().Add(handshakeTimeout))
		user, err := saslServerHandshake(c.Conn, s.cfg.Users)
		if err != nil {
			log.Warn("SASL negotiation failed", "err", err)
			return
		}
		c.SetDeadline(time.Time{})
		c.user = user
		log = log.With("user", user)
		trans = thrift.NewTFramedTransportConf(socket, conf)
	} else {
		// gohive with auth NONE or LDAP opens with a SASL START; a Thrift call starts with
		// 0x80 (strict binary protocol). Refuse SASL clearly instead of reading its bytes
		// as a huge message and leaving the client waiting.
		var first [1]byte
		c.SetReadDeadline(time.Now().Add(handshakeTimeout))
		if _, err := io.ReadFull(c.Conn, first[:]); err != nil {
			log.Debug("connection ended before its first message", "err", err)
			return
		}
		c.SetReadDeadline(time.Time{})
		if first[0] == saslStart {
			log.Warn("refusing a SASL client on the NOSASL port (use auth NOSASL, or start the sandbox with users)")
			writeSASL(c.Conn, saslBad, []byte("this HiveServer2 sandbox port is NOSASL: connect with auth NOSASL"))
			return
		}
		var pc net.Conn = &prefixedConn{Conn: c.Conn, prefix: first[:]}
		if _, ok := c.Conn.(syscall.Conn); ok {
			pc = &prefixedRawConn{pc.(*prefixedConn)}
		}
		socket = thrift.NewTSocketFromConnConf(pc, conf)
		trans = thrift.NewTBufferedTransport(socket, 64<<10)
	}
	log.Debug("connection opened")

	proto := thrift.NewTBinaryProtocolConf(trans, conf)
	ctx := context.WithValue(s.ctx, connKey{}, c)
	ctx = context.WithValue(ctx, dropKey{}, func() { c.Close() })
	for {
		if s.ctx.Err() != nil {
			return
		}
		ok, err := s.proc.Process(ctx, proto, proto)
		if errors.Is(err, thrift.ErrAbandonRequest) {
			return
		}
		if err != nil {
			var te thrift.TTransportException
			if errors.As(err, &te) {
				if te.TypeId() != thrift.END_OF_FILE && !errors.Is(err, net.ErrClosed) {
					log.Debug("connection ended", "err", err)
				}
				return
			}
			var ae thrift.TApplicationException
			if errors.As(err, &ae) && ae.TypeId() == thrift.UNKNOWN_METHOD {
				continue
			}
		}
		if !ok {
			if err != nil {
				log.Debug("connection ended", "err", err)
			}
			return
		}
	}
}

// prefixedConn gives back the bytes read ahead of the Thrift transport.
type prefixedConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixedConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// prefixedRawConn is a prefixedConn over a TCP connection. Its SyscallConn keeps Thrift's
// connectivity check working, which lets a call waiting on a statement notice that its
// client went away. (Thrift closes connections whose SyscallConn fails, so only connections
// that have one may offer it: not TLS ones.)
type prefixedRawConn struct{ *prefixedConn }

func (c *prefixedRawConn) SyscallConn() (syscall.RawConn, error) {
	return c.Conn.(syscall.Conn).SyscallConn()
}
