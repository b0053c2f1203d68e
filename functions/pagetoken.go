package functions

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"slices"
	"strings"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// pageSealer turns the store's listing cursors into page tokens that a caller can neither
// alter nor carry over to another filter:
//
//	base64url(version || HMAC-SHA256(key, filter || cursor) || cursor)
//
// The store's cursor is opaque but not secret; the MAC binds it to the filter it continues.
type pageSealer struct{ key []byte }

const (
	pageTokenVersion = 1
	// maxPageToken bounds a token before it is decoded; real ones are about a tenth of it.
	maxPageToken = 1024
)

func (p pageSealer) mac(f merge.TaskFilter, cursor []byte) []byte {
	m := hmac.New(sha256.New, p.key)
	var n [binary.MaxVarintLen64]byte
	// Hive names are case-insensitive, so a token stays valid however the caller spells them.
	for _, v := range []string{string(f.Status), f.ClusterID, strings.ToLower(f.Database), strings.ToLower(f.Table)} {
		m.Write(n[:binary.PutUvarint(n[:], uint64(len(v)))])
		m.Write([]byte(v))
	}
	m.Write(cursor)
	return m.Sum(nil)
}

// seal returns the page token for the store's cursor after a page of f; none after the last.
func (p pageSealer) seal(f merge.TaskFilter, cursor string) string {
	if cursor == "" {
		return ""
	}
	b := append([]byte{pageTokenVersion}, p.mac(f, []byte(cursor))...)
	return base64.RawURLEncoding.EncodeToString(append(b, cursor...))
}

// open returns the store's cursor that token carries, when seal made token for f.
func (p pageSealer) open(f merge.TaskFilter, token string) (string, error) {
	if token == "" {
		return "", nil
	}
	const head = 1 + sha256.Size
	if len(token) <= maxPageToken {
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err == nil && len(b) > head && b[0] == pageTokenVersion && hmac.Equal(b[1:head], p.mac(f, b[head:])) {
			return string(b[head:]), nil
		}
	}
	return "", merge.Errorf(merge.ErrInvalid, "page_token is not valid for this query: pass next_page_token unchanged, with the filters of the request that returned it")
}

// pageTokenKeyLabel separates the page token key from any other use of the same material.
const pageTokenKeyLabel = "hivemerge page token key v1"

// derivePageKey returns the key of page tokens. Every instance of a deployment must compute
// the same key, so it comes from configuration: the configured key, else the secret material
// every instance already shares (the static tokens, with the OIDC audience). With none of it
// (anonymous local use) it is nil, and each process draws its own.
func derivePageKey(configured string, tokens []tokenEntry, audience string) []byte {
	m := hmac.New(sha256.New, []byte(pageTokenKeyLabel))
	switch {
	case configured != "":
		m.Write([]byte{0})
		m.Write([]byte(configured))
	case len(tokens) > 0 || audience != "":
		m.Write([]byte{1})
		sums := make([][sha256.Size]byte, 0, len(tokens))
		for _, t := range tokens {
			sums = append(sums, t.sum)
		}
		slices.SortFunc(sums, func(a, b [sha256.Size]byte) int { return bytes.Compare(a[:], b[:]) })
		for _, s := range sums {
			m.Write(s[:])
		}
		m.Write([]byte(audience))
	default:
		return nil
	}
	return m.Sum(nil)
}

// randomKey is a page token key for one process.
func randomKey() []byte {
	k := make([]byte, sha256.Size)
	_, _ = rand.Read(k)
	return k
}
