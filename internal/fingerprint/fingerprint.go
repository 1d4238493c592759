// Package fingerprint identifies a configuration that holds secrets without
// keeping the secrets: connectors compare fingerprints to know when to build a
// new client.
package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
)

// Of is a hash of the parts, each ended by a NUL so that ("ab","c") and
// ("a","bc") differ.
func Of(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
