package namenodetest

import (
	"bufio"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// rawClient speaks the wire protocol by hand, for calls the Go client never makes.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	id   int32
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawClient{t: t, conn: conn, r: bufio.NewReader(conn)}
	if _, err := conn.Write([]byte{'h', 'r', 'p', 'c', rpcVersion, 0, 0}); err != nil {
		t.Fatal(err)
	}
	cc := newMsg("hadoop.common.IpcConnectionContextProto")
	set(cc, "protocol", protocolName)
	c.send(c.header(handshakeCallID), cc)
	return c
}

func (c *rawClient) header(id int32) protoreflect.Message {
	h := newMsg("hadoop.common.RpcRequestHeaderProto")
	set(h, "rpcKind", "RPC_PROTOCOL_BUFFER")
	set(h, "rpcOp", "RPC_FINAL_PACKET")
	set(h, "callId", id)
	set(h, "clientId", []byte("0123456789abcdef"))
	return h
}

// send writes messages as one length-prefixed packet of varint-delimited parts.
func (c *rawClient) send(msgs ...protoreflect.Message) {
	c.t.Helper()
	buf := make([]byte, 4)
	for _, m := range msgs {
		b, err := proto.Marshal(m.Interface())
		if err != nil {
			c.t.Fatal(err)
		}
		buf = binary.AppendUvarint(buf, uint64(len(b)))
		buf = append(buf, b...)
	}
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	if _, err := c.conn.Write(buf); err != nil {
		c.t.Fatal(err)
	}
}

// call sends one request and returns the response header and body (nil on error).
func (c *rawClient) call(method string, req protoreflect.Message, respType string) (hdr, resp protoreflect.Message) {
	c.t.Helper()
	c.id++
	rh := newMsg("hadoop.common.RequestHeaderProto")
	set(rh, "methodName", method)
	set(rh, "declaringClassProtocolName", protocolName)
	set(rh, "clientProtocolVersion", uint64(1))
	c.send(c.header(c.id), rh, req)
	parts, err := readPacket(c.r)
	if err != nil {
		c.t.Fatal(err)
	}
	if hdr, err = parse("hadoop.common.RpcResponseHeaderProto", parts[0]); err != nil {
		c.t.Fatal(err)
	}
	if got := int32(get(hdr, "callId").Uint()); got != c.id {
		c.t.Fatalf("response to call %d, want %d", got, c.id)
	}
	if len(parts) > 1 {
		if resp, err = parse(respType, parts[1]); err != nil {
			c.t.Fatal(err)
		}
	}
	return hdr, resp
}

// TestWire covers calls outside what the Go client sends: the old rename, which reports
// failure as false and moves into an existing directory, and an unknown method.
func TestWire(t *testing.T) {
	ns := NewNamespace()
	for _, p := range []string{"/a/f", "/a/g", "/b/keep"} {
		if err := ns.WriteFile(p, 1, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	srv := Start(t, ns, Options{})
	c := dialRaw(t, srv.Addr())

	rename := func(src, dst string) bool {
		req := newMsg("hadoop.hdfs.RenameRequestProto")
		set(req, "src", src)
		set(req, "dst", dst)
		hdr, resp := c.call("rename", req, "hadoop.hdfs.RenameResponseProto")
		if s := get(hdr, "status").Enum(); s != 0 {
			t.Fatalf("rename(%s, %s): status %d: %s", src, dst, s, get(hdr, "errorMsg").String())
		}
		return get(resp, "result").Bool()
	}
	tests := []struct {
		name     string
		src, dst string
		want     bool
		exists   string
	}{
		{"into an existing directory", "/a/f", "/b", true, "/b/f"},
		{"onto an existing file", "/a/g", "/b/keep", false, "/a/g"},
		{"missing source", "/a/nope", "/c", false, "/b/keep"},
		{"to a new name", "/a/g", "/b/h", true, "/b/h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rename(tt.src, tt.dst); got != tt.want {
				t.Errorf("rename(%s, %s) = %v, want %v", tt.src, tt.dst, got, tt.want)
			}
			ns.mu.RLock()
			defer ns.mu.RUnlock()
			if ns.lookup(tt.exists) == nil {
				t.Errorf("%s missing afterwards", tt.exists)
			}
		})
	}

	blocks := newMsg("hadoop.hdfs.GetBlockLocationsRequestProto")
	set(blocks, "src", "/b/f")
	set(blocks, "offset", uint64(0))
	set(blocks, "length", uint64(1))
	hdr, _ := c.call("getBlockLocations", blocks, "")
	if got := get(hdr, "exceptionClassName").String(); got != ExcNoSuchMethod {
		t.Errorf("unknown method: exception %q, want %q", got, ExcNoSuchMethod)
	}
	// The connection survives an application error, as with the real NameNode.
	if !rename("/b/h", "/b/i") {
		t.Error("rename after an error failed")
	}
	if srv.Calls("rename") != 5 || srv.Calls("getBlockLocations") != 1 {
		t.Errorf("calls = %v", srv.CallCounts())
	}
}
