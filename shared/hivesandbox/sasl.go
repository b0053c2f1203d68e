package hivesandbox

import (
	"bytes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// SASL negotiation statuses of Thrift's TSaslTransport, which HiveServer2 uses on its binary
// port for every authentication mode except NOSASL.
const (
	saslStart    = 0x01
	saslOK       = 0x02
	saslBad      = 0x03
	saslComplete = 0x05
)

// saslMaxPayload bounds negotiation messages; PLAIN credentials are tiny.
const saslMaxPayload = 64 << 10

// badCredentials is what a client with a wrong user or password is told. HiveServer2 says the
// same, without revealing which part was wrong.
const badCredentials = "Error validating the login"

var errBadCredentials = errors.New("bad user or password")

// saslServerHandshake runs the server side of a SASL PLAIN negotiation on rw and returns the
// authenticated user. The client sends START with the mechanism name, then its initial
// response "authzid\0user\0password" with status OK (gohive) or COMPLETE (Java clients, whose
// PLAIN client is complete after the initial response); the server answers COMPLETE. On
// failure the client gets BAD with a reason, and the
// caller closes the connection. Afterwards every Thrift message is framed.
func saslServerHandshake(rw io.ReadWriter, users map[string]string) (string, error) {
	fail := func(status byte, err error) (string, error) {
		writeSASL(rw, status, []byte(err.Error()))
		return "", err
	}
	status, mech, err := readSASL(rw, saslStart)
	if err != nil {
		return "", err
	}
	if status != saslStart {
		// A NOSASL client starts with a Thrift message (0x80 0x01 ...) instead.
		return fail(saslBad, fmt.Errorf("expected SASL START, got 0x%02x: is the client configured for NOSASL while the server requires SASL PLAIN?", status))
	}
	if string(mech) != "PLAIN" {
		return fail(saslBad, fmt.Errorf("unsupported SASL mechanism %q: the sandbox only supports PLAIN", mech))
	}
	status, resp, err := readSASL(rw, 0)
	if err != nil {
		return "", err
	}
	if status != saslOK && status != saslComplete {
		return fail(saslBad, fmt.Errorf("expected SASL OK with PLAIN credentials, got status 0x%02x", status))
	}
	parts := bytes.Split(resp, []byte{0})
	if len(parts) != 3 {
		return fail(saslBad, errors.New("malformed PLAIN response: want authzid NUL user NUL password"))
	}
	user, password := string(parts[1]), parts[2]
	want, ok := users[user]
	// Compare even for unknown users so that timing does not tell which users exist.
	match := subtle.ConstantTimeCompare(password, []byte(want)) == 1
	if !ok || !match {
		writeSASL(rw, saslBad, []byte(badCredentials))
		return "", fmt.Errorf("user %q: %w", user, errBadCredentials)
	}
	if err := writeSASL(rw, saslComplete, nil); err != nil {
		return "", err
	}
	return user, nil
}

// readSASL reads one negotiation message. When want is not 0 and the status differs, it
// returns the status without reading on: the payload length of a non-SASL client is garbage.
func readSASL(r io.Reader, want byte) (status byte, payload []byte, err error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, fmt.Errorf("read SASL header: %w", err)
	}
	if want != 0 && hdr[0] != want {
		return hdr[0], nil, nil
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > saslMaxPayload {
		return 0, nil, fmt.Errorf("SASL message of %d bytes is too large (status 0x%02x)", n, hdr[0])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, fmt.Errorf("read SASL payload: %w", err)
	}
	return hdr[0], payload, nil
}

func writeSASL(w io.Writer, status byte, payload []byte) error {
	msg := make([]byte, 5+len(payload))
	msg[0] = status
	binary.BigEndian.PutUint32(msg[1:], uint32(len(payload)))
	copy(msg[5:], payload)
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("write SASL message: %w", err)
	}
	return nil
}
