// Package namenodetest is an HDFS NameNode for tests: a real server that speaks Hadoop RPC
// (ClientProtocol over protobuf, simple authentication) over an in-memory namespace, with call
// counts and injectable failures (dropped connections, standby state, calls held on a gate).
package namenodetest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Exception classes, as the Java NameNode names them; clients map them to errors.
const (
	ExcFileNotFound      = "java.io.FileNotFoundException"
	ExcFileExists        = "org.apache.hadoop.fs.FileAlreadyExistsException"
	ExcParentNotDir      = "org.apache.hadoop.fs.ParentNotDirectoryException"
	ExcNotEmpty          = "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException"
	ExcInvalidPath       = "org.apache.hadoop.fs.InvalidPathException"
	ExcIO                = "java.io.IOException"
	ExcStandby           = "org.apache.hadoop.ipc.StandbyException"
	ExcNoSuchMethod      = "org.apache.hadoop.ipc.RpcNoSuchMethodException"
	protocolName         = "org.apache.hadoop.hdfs.protocol.ClientProtocol"
	rpcVersion      byte = 9
	handshakeCallID      = -3
)

// DefaultListLimit is the real NameNode's dfs.ls.limit: entries per getListing reply.
const DefaultListLimit = 1000

// Options configure a Server; the zero value gives the real NameNode's defaults.
type Options struct {
	// ListLimit is the most entries a getListing reply carries (dfs.ls.limit).
	ListLimit int
}

// Server is a NameNode listening on a loopback port.
type Server struct {
	ns        *Namespace
	ln        net.Listener
	listLimit int
	done      chan struct{}
	wg        sync.WaitGroup

	mu      sync.Mutex
	calls   map[string]int
	standby bool
	drops   map[string]int // method ("" for any) -> connections still to drop
	fails   map[string][]*remoteError
	gates   map[string]*Gate
	conns   map[net.Conn]bool
	closed  bool
}

// Start starts a server on ns and closes it when the test ends.
func Start(tb testing.TB, ns *Namespace, opts Options) *Server {
	tb.Helper()
	s, err := NewServer(ns, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// NewServer starts a server on ns, listening on 127.0.0.1 at a free port.
func NewServer(ns *Namespace, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		ns:        ns,
		ln:        ln,
		listLimit: opts.ListLimit,
		done:      make(chan struct{}),
		calls:     make(map[string]int),
		drops:     make(map[string]int),
		fails:     make(map[string][]*remoteError),
		gates:     make(map[string]*Gate),
		conns:     make(map[net.Conn]bool),
	}
	if s.listLimit <= 0 {
		s.listLimit = DefaultListLimit
	}
	s.wg.Go(s.accept)
	return s, nil
}

// Addr is the host:port clients dial.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Namespace returns the served namespace.
func (s *Server) Namespace() *Namespace { return s.ns }

// Close stops the server, drops its connections and releases held calls.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

// Calls returns how many calls of method the server has received, failed ones included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// CallCounts returns the calls received per method.
func (s *Server) CallCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		m[k] = v
	}
	return m
}

// ResetCalls zeroes the call counts.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.calls)
}

// SetStandby puts the server in standby state: every call fails with StandbyException, as a
// standby NameNode answers, which makes HA clients fail over to another NameNode.
func (s *Server) SetStandby(standby bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.standby = standby
}

// DropConnections makes the next n calls of method ("" for any method) close their
// connection instead of answering, as a crashing NameNode or a network cut does.
func (s *Server) DropConnections(method string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops[method] += n
}

// Fail makes the next n calls of method fail with the Java exception class and message, for
// example "org.apache.hadoop.hdfs.server.namenode.SafeModeException".
func (s *Server) Fail(method string, n int, class, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fails[method] = append(s.fails[method], exception(class, "%s", msg))
	}
}

// Gate holds calls of one method until released, so tests can act while a call is in flight
// without sleeping.
type Gate struct {
	s       *Server
	method  string
	arrived chan string
	release chan struct{}
	once    sync.Once
}

// Hold makes calls of method wait at a gate until Release (or Close).
func (s *Server) Hold(method string) *Gate {
	g := &Gate{s: s, method: method, arrived: make(chan string, 128), release: make(chan struct{})}
	s.mu.Lock()
	s.gates[method] = g
	s.mu.Unlock()
	return g
}

// Arrived receives a call's first string argument (its path) each time a call reaches the gate.
func (g *Gate) Arrived() <-chan string { return g.arrived }

// Release lets held and future calls through.
func (g *Gate) Release() {
	g.once.Do(func() {
		g.s.mu.Lock()
		if g.s.gates[g.method] == g {
			delete(g.s.gates, g.method)
		}
		g.s.mu.Unlock()
		close(g.release)
	})
}

func (s *Server) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Go(func() {
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.serve(c)
		})
	}
}

// serve runs one client connection: the "hrpc" preamble, the connection context, then calls
// answered in order (the Go client sends one at a time).
func (s *Server) serve(c net.Conn) {
	r := bufio.NewReader(c)
	var preamble [7]byte
	if _, err := io.ReadFull(r, preamble[:]); err != nil {
		return
	}
	// "hrpc", version, service class, auth protocol (0 = simple; SASL is not offered).
	if string(preamble[:4]) != "hrpc" || preamble[4] != rpcVersion || preamble[6] != 0 {
		return
	}
	parts, err := readPacket(r)
	if err != nil || len(parts) != 2 {
		return
	}
	hdr, err := parse("hadoop.common.RpcRequestHeaderProto", parts[0])
	if err != nil || get(hdr, "callId").Int() != handshakeCallID {
		return
	}
	if _, err := parse("hadoop.common.IpcConnectionContextProto", parts[1]); err != nil {
		return
	}
	w := bufio.NewWriter(c)
	for {
		parts, err := readPacket(r)
		if err != nil || len(parts) != 3 {
			return
		}
		rpcHdr, err := parse("hadoop.common.RpcRequestHeaderProto", parts[0])
		if err != nil {
			return
		}
		reqHdr, err := parse("hadoop.common.RequestHeaderProto", parts[1])
		if err != nil {
			return
		}
		callID := uint32(int32(get(rpcHdr, "callId").Int()))
		method := get(reqHdr, "methodName").String()
		if !s.before(method, parts[2]) {
			return // dropped
		}
		resp, rerr := s.call(method, get(reqHdr, "declaringClassProtocolName").String(), parts[2])
		respHdr := newMsg("hadoop.common.RpcResponseHeaderProto")
		set(respHdr, "callId", callID)
		set(respHdr, "serverIpcVersionNum", uint32(rpcVersion))
		if rerr != nil {
			set(respHdr, "status", "ERROR")
			set(respHdr, "exceptionClassName", rerr.class)
			set(respHdr, "errorMsg", rerr.msg)
			set(respHdr, "errorDetail", rerr.detail)
			err = writePacket(w, respHdr, nil)
		} else {
			set(respHdr, "status", "SUCCESS")
			err = writePacket(w, respHdr, resp)
		}
		if err != nil || w.Flush() != nil {
			return
		}
	}
}

// before counts a call and applies injected faults; false means drop the connection.
func (s *Server) before(method string, req []byte) bool {
	s.mu.Lock()
	s.calls[method]++
	for _, m := range []string{method, ""} {
		if s.drops[m] > 0 {
			s.drops[m]--
			s.mu.Unlock()
			return false
		}
	}
	g := s.gates[method]
	s.mu.Unlock()
	if g != nil {
		select {
		case g.arrived <- firstString(req):
		default:
		}
		select {
		case <-g.release:
		case <-s.done:
			return false
		}
	}
	return true
}

// firstString extracts field 1 of a request when it is a string (src or path in most calls).
func firstString(req []byte) string {
	num, typ, n := protowire.ConsumeTag(req)
	if n < 0 || num != 1 || typ != protowire.BytesType {
		return ""
	}
	b, m := protowire.ConsumeBytes(req[n:])
	if m < 0 {
		return ""
	}
	return string(b)
}

type remoteError struct {
	class, msg, detail string
}

func (e *remoteError) Error() string { return e.class + ": " + e.msg }

func exception(class, format string, args ...any) *remoteError {
	return &remoteError{class: class, msg: fmt.Sprintf(format, args...), detail: "ERROR_APPLICATION"}
}

// call answers one call of the ClientProtocol.
func (s *Server) call(method, protocol string, body []byte) ([]byte, *remoteError) {
	s.mu.Lock()
	standby := s.standby
	var fail *remoteError
	if f := s.fails[method]; len(f) > 0 {
		fail, s.fails[method] = f[0], f[1:]
	}
	s.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	if standby {
		return nil, exception(ExcStandby, "Operation category READ is not supported in state standby. Visit https://s.apache.org/sbnn-error")
	}
	if protocol != protocolName {
		return nil, &remoteError{class: "org.apache.hadoop.ipc.RpcNoSuchProtocolException", msg: "Unknown protocol: " + protocol, detail: "ERROR_NO_SUCH_PROTOCOL"}
	}
	h, ok := handlers[method]
	if !ok {
		return nil, &remoteError{class: ExcNoSuchMethod, msg: "Unknown method " + method + " called on " + protocolName + " protocol.", detail: "ERROR_NO_SUCH_METHOD"}
	}
	req, err := parse("hadoop.hdfs."+h.name+"RequestProto", body)
	if err != nil {
		return nil, exception(ExcIO, "%v", err)
	}
	if h.raw != nil {
		return h.raw(s, req)
	}
	resp := newMsg("hadoop.hdfs." + h.name + "ResponseProto")
	if rerr := h.fn(s, req, resp); rerr != nil {
		return nil, rerr
	}
	b, err := proto.Marshal(resp.Interface())
	if err != nil {
		return nil, exception(ExcIO, "%v", err)
	}
	return b, nil
}
