// Package jwttest verifies the access tokens of Junction's token endpoint in tests, with
// nothing but the standard library and the published JWKS.
package jwttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Verify checks a JWT's ES256 signature against a JWKS document, as any provider service
// would, and returns its claims.
func Verify(t testing.TB, token string, jwks []byte) map[string]any {
	t.Helper()
	var set struct {
		Keys []struct{ Kid, Kty, Crv, X, Y string } `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(jwks, &set))
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	dec := base64.RawURLEncoding
	var header struct{ Alg, Kid string }
	h, err := dec.DecodeString(parts[0])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(h, &header))
	require.Equal(t, "ES256", header.Alg)
	for _, k := range set.Keys {
		if k.Kid != header.Kid {
			continue
		}
		x, _ := dec.DecodeString(k.X)
		y, _ := dec.DecodeString(k.Y)
		pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
		sig, err := dec.DecodeString(parts[2])
		require.NoError(t, err)
		require.Len(t, sig, 64)
		digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		require.True(t, ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])), "signature verifies")
		payload, err := dec.DecodeString(parts[1])
		require.NoError(t, err)
		var claims map[string]any
		require.NoError(t, json.Unmarshal(payload, &claims))
		return claims
	}
	t.Fatalf("no key %q in the JWKS", header.Kid)
	return nil
}
