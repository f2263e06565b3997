package db

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/junction-dev/junction"
)

// AccessTokenLifetime is how long tokens from the token endpoint are valid.
const AccessTokenLifetime = 15 * time.Minute

// signingKey returns the installation's ES256 key for access tokens, creating it (sealed in
// settings) on first use.
func (db *DB) signingKey(ctx context.Context) (*ecdsa.PrivateKey, error) {
	db.keyMu.Lock()
	defer db.keyMu.Unlock()
	if db.jwtKey != nil {
		return db.jwtKey, nil
	}
	err := db.inTx(ctx, true, func(tx *Tx) error {
		var sealed []byte
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'jwt_signing_key'`).Scan(&sealed)
		if errors.Is(err, sql.ErrNoRows) {
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				return err
			}
			der, err := x509.MarshalPKCS8PrivateKey(key)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('jwt_signing_key', ?)`,
				db.sealer.Seal(der, "settings.jwt_signing_key")); err != nil {
				return err
			}
			db.jwtKey = key
			return nil
		} else if err != nil {
			return err
		}
		der, err := db.sealer.Open(sealed, "settings.jwt_signing_key")
		if err != nil {
			return err
		}
		parsed, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return err
		}
		key, ok := parsed.(*ecdsa.PrivateKey)
		if !ok {
			return errors.New("the stored signing key is not an ECDSA key")
		}
		db.jwtKey = key
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return db.jwtKey, nil
}

var b64 = base64.RawURLEncoding

func keyID(pub *ecdsa.PublicKey) string {
	sum := sha256.Sum256(elliptic.Marshal(elliptic.P256(), pub.X, pub.Y)) //nolint:staticcheck // stable encoding for the key ID
	return hex.EncodeToString(sum[:8])
}

func pad32(b []byte) []byte {
	out := make([]byte, 32)
	copy(out[32-len(b):], b)
	return out
}

// JWKS returns the public key set that verifies access tokens, as JSON.
func (s *ConnectionService) JWKS(ctx context.Context) ([]byte, error) {
	key, err := s.db.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	jwk := map[string]string{
		"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": keyID(&key.PublicKey),
		"x": b64.EncodeToString(pad32(key.PublicKey.X.Bytes())),
		"y": b64.EncodeToString(pad32(key.PublicKey.Y.Bytes())),
	}
	return json.Marshal(map[string]any{"keys": []any{jwk}})
}

// errInvalidClient is the token endpoint's answer to wrong client credentials.
var errInvalidClient = junction.Errorf(junction.EUNAUTHORIZED, "Unknown client or wrong secret.")

// IssueToken checks OAuth client credentials and returns a signed JWT for the services the
// client's application connects to (audience), or only for audience when one is asked for.
func (s *ConnectionService) IssueToken(ctx context.Context, clientID, clientSecret, audience string) (*junction.AccessToken, error) {
	var appID int64
	var env, hash string
	var services []string
	err := s.db.inTx(ctx, false, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT app_id, environment, secret_hash FROM oauth_credentials WHERE client_id = ?`, clientID).Scan(&appID, &env, &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return errInvalidClient
		} else if err != nil {
			return err
		}
		services, err = queryStrings(ctx, tx, `SELECT DISTINCT service_id FROM connections WHERE oauth_app_id = ? ORDER BY service_id`, appID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !constantTimeEqual(hash, hashSecret(clientSecret)) {
		return nil, errInvalidClient
	}
	// A token is for one service, so that a service cannot replay it to another that
	// shares the application. The audience may be left out when there is only one.
	switch {
	case audience != "" && !slices.Contains(services, audience):
		return nil, junction.Errorf(junction.EINVALID, "This client has no connection to %q.", audience)
	case audience == "" && len(services) > 1:
		return nil, junction.Errorf(junction.EINVALID, "Name the service in audience: this client connects to %s.", strings.Join(services, ", "))
	case audience == "" && len(services) == 1:
		audience = services[0]
	}
	services = []string{audience}
	key, err := s.db.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	now := s.db.Now().UTC()
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": keyID(&key.PublicKey)})
	claims, _ := json.Marshal(map[string]any{
		"iss": strings.TrimSuffix(s.TokenURL, "/oauth2/token"), "sub": clientID, "aud": services,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(AccessTokenLifetime).Unix(),
		"jti": randomString(12), "environment": env,
	})
	signingInput := b64.EncodeToString(header) + "." + b64.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signingInput))
	r, sig, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		return nil, err
	}
	signature := append(pad32(r.Bytes()), pad32(sig.Bytes())...)
	return &junction.AccessToken{Token: signingInput + "." + b64.EncodeToString(signature), ExpiresIn: int(AccessTokenLifetime.Seconds())}, nil
}

// VerifyAPIKey tells what an API key belongs to, or EUNAUTHORIZED for an unknown key.
func (s *ConnectionService) VerifyAPIKey(ctx context.Context, key string) (*junction.APIKeyInfo, error) {
	var info junction.APIKeyInfo
	err := s.db.inTx(ctx, false, func(tx *Tx) error {
		return tx.QueryRowContext(ctx, `SELECT c.id, c.service_id, a.environment, p.handle, COALESCE(k.handle, '')
			FROM api_keys a JOIN connections c ON c.id = a.connection_id JOIN projects p ON p.id = c.project_id
			LEFT JOIN components k ON k.id = c.component_id WHERE a.key_hash = ?`, hashSecret(key)).
			Scan(&info.ConnectionID, &info.ServiceID, &info.Environment, &info.Project, &info.Component)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, junction.Errorf(junction.EUNAUTHORIZED, "Unknown or rotated API key.")
	} else if err != nil {
		return nil, err
	}
	return &info, nil
}
