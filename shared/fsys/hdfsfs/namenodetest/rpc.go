package namenodetest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	// The client's generated Hadoop messages register themselves in the global registry,
	// which is how this server builds and parses them without generating code of its own.
	_ "github.com/colinmarc/hdfs/v2"
)

// newMsg returns an empty message of a registered Hadoop type, e.g. "hadoop.hdfs.GetFileInfoRequestProto".
func newMsg(name string) protoreflect.Message {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(name))
	if err != nil {
		panic(fmt.Sprintf("namenodetest: message %s: %v", name, err))
	}
	return mt.New()
}

func field(m protoreflect.Message, name string) protoreflect.FieldDescriptor {
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		panic(fmt.Sprintf("namenodetest: %s has no field %s", m.Descriptor().FullName(), name))
	}
	return fd
}

// set assigns a field from a Go value; enum fields take the value's name.
func set(m protoreflect.Message, name string, v any) {
	fd := field(m, name)
	var val protoreflect.Value
	switch x := v.(type) {
	case string:
		if fd.Kind() == protoreflect.EnumKind {
			ev := fd.Enum().Values().ByName(protoreflect.Name(x))
			if ev == nil {
				panic(fmt.Sprintf("namenodetest: enum %s has no value %s", fd.Enum().FullName(), x))
			}
			val = protoreflect.ValueOfEnum(ev.Number())
		} else {
			val = protoreflect.ValueOfString(x)
		}
	case protoreflect.Message:
		val = protoreflect.ValueOfMessage(x)
	default:
		val = protoreflect.ValueOf(v)
	}
	m.Set(fd, val)
}

func get(m protoreflect.Message, name string) protoreflect.Value {
	return m.Get(field(m, name))
}

func parse(name string, b []byte) (protoreflect.Message, error) {
	m := newMsg(name)
	if err := proto.Unmarshal(b, m.Interface()); err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	return m, nil
}

// readPacket reads one length-prefixed packet and splits it into its varint-delimited parts.
func readPacket(r *bufio.Reader) ([][]byte, error) {
	var n uint32
	if err := binary.Read(r, binary.BigEndian, &n); err != nil {
		return nil, err
	}
	if n > 64<<20 {
		return nil, fmt.Errorf("packet of %d bytes", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	var parts [][]byte
	for len(buf) > 0 {
		size, k := binary.Uvarint(buf)
		if k <= 0 || size > uint64(len(buf)-k) {
			return nil, errors.New("malformed delimited message")
		}
		parts = append(parts, buf[k:k+int(size)])
		buf = buf[k+int(size):]
	}
	return parts, nil
}

// writePacket writes a response: the header and, unless nil, the encoded response, each
// varint-delimited, in one length-prefixed packet.
func writePacket(w io.Writer, hdr protoreflect.Message, body []byte) error {
	h, err := proto.Marshal(hdr.Interface())
	if err != nil {
		return err
	}
	buf := make([]byte, 4, 4+2*binary.MaxVarintLen64+len(h)+len(body))
	buf = binary.AppendUvarint(buf, uint64(len(h)))
	buf = append(buf, h...)
	if body != nil {
		buf = binary.AppendUvarint(buf, uint64(len(body)))
		buf = append(buf, body...)
	}
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	_, err = w.Write(buf)
	return err
}
