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
	"math/big"
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
	// Replicas starting at once each make a key, but only the first insert wins
	// (db.setting): every replica signs with, and publishes, the same key.
	sealed, err := db.setting(ctx, "jwt_signing_key", func() ([]byte, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		return db.sealer.Seal(der, "settings.jwt_signing_key"), nil
	})
	if err == nil {
		db.jwtKey, err = db.openSigningKey(sealed)
	}
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return db.jwtKey, nil
}

// openSigningKey unseals the stored signing key.
func (db *DB) openSigningKey(sealed []byte) (*ecdsa.PrivateKey, error) {
	der, err := db.sealer.Open(sealed, "settings.jwt_signing_key")
	if err != nil {
		return nil, err
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("the stored signing key is not an ECDSA key")
	}
	return key, nil
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

// Issuer implements junction.TokenService: the console's public URL.
func (s *ConnectionService) Issuer() string { return strings.TrimSuffix(s.TokenURL, "/oauth2/token") }

// audienceService is a service an OAuth application connects to, with the ServiceURL it has
// in the credentials' environment.
type audienceService struct{ id, url string }

// matches reports whether an RFC 8707 resource or an audience names the service: its ID, or
// its ServiceURL (a trailing slash aside).
func (a audienceService) matches(target string) bool {
	return target == a.id || a.url != "" && strings.TrimSuffix(target, "/") == strings.TrimSuffix(a.url, "/")
}

// IssueToken implements junction.TokenService. Without targets the token is valid for every
// service the application connects to, as a Choreo application's token is valid for every
// API it subscribes to; targets narrow it, so that a service cannot replay a token it
// received to another service of the same application.
func (s *ConnectionService) IssueToken(ctx context.Context, clientID, clientSecret string, targets []string) (*junction.AccessToken, error) {
	var appID int64
	var env, hash string
	var previousHash, previousUntil sql.NullString
	var services []audienceService
	err := s.db.inTx(ctx, false, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT app_id, environment, secret_hash, previous_secret_hash, previous_valid_until
			FROM oauth_credentials WHERE client_id = ?`, clientID).Scan(&appID, &env, &hash, &previousHash, &previousUntil)
		if errors.Is(err, sql.ErrNoRows) {
			return errInvalidClient
		} else if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT s.id, s.spec FROM connections c JOIN services s ON s.id = c.service_id
			WHERE c.oauth_app_id = ? ORDER BY s.id`, appID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, raw string
			if err := rows.Scan(&id, &raw); err != nil {
				return err
			}
			var spec serviceSpec
			if err := json.Unmarshal([]byte(raw), &spec); err != nil {
				return fmt.Errorf("service %s: %w", id, err)
			}
			services = append(services, audienceService{id: id, url: spec.URLs[env]})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	given := hashSecret(clientSecret)
	// During a rotation's grace the previous secret works too, until the grace ends by the
	// clock, whether or not the job that erases it has run yet.
	previousOK := previousHash.Valid && previousUntil.Valid && s.db.Now().Before(parseTime(previousUntil.String)) &&
		constantTimeEqual(previousHash.String, given)
	if !constantTimeEqual(hash, given) && !previousOK {
		return nil, errInvalidClient
	}
	audience := make([]string, 0, len(services))
	if len(targets) == 0 {
		for _, a := range services {
			audience = append(audience, a.id)
		}
	}
	for _, target := range targets {
		matched := false
		for _, a := range services {
			if a.matches(target) {
				matched = true
				if !slices.Contains(audience, a.id) {
					audience = append(audience, a.id)
				}
			}
		}
		if !matched {
			return nil, junction.Errorf(junction.EINVALID, "This client has no connection to %q: name a service it connects to by its ID or ServiceURL.", target)
		}
	}
	if len(audience) == 0 {
		// Every connection of the application is gone: it would have been deleted with them.
		return nil, errInvalidClient
	}
	slices.Sort(audience)
	key, err := s.db.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	now := s.db.Now().UTC()
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": keyID(&key.PublicKey)})
	claims, _ := json.Marshal(accessClaims{
		Issuer: s.Issuer(), Subject: clientID, ClientID: clientID, Audience: audience,
		IssuedAt: now.Unix(), NotBefore: now.Unix(), ExpiresAt: now.Add(AccessTokenLifetime).Unix(),
		ID: randomString(12), Environment: env,
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

// accessClaims are the claims of an access token (RFC 9068 names).
type accessClaims struct {
	Issuer      string   `json:"iss"`
	Subject     string   `json:"sub"`
	ClientID    string   `json:"client_id"`
	Audience    []string `json:"aud"`
	IssuedAt    int64    `json:"iat"`
	NotBefore   int64    `json:"nbf"`
	ExpiresAt   int64    `json:"exp"`
	ID          string   `json:"jti"`
	Environment string   `json:"environment"`
}

// verifyAccessToken checks that token is one of ours: signed by the signing key, issued by
// this console and within its validity period. It returns the claims, or nil.
func (s *ConnectionService) verifyAccessToken(ctx context.Context, token string) (*accessClaims, error) {
	key, err := s.db.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil
	}
	var header struct{ Alg, Kid string }
	raw, err := b64.DecodeString(parts[0])
	if err != nil || json.Unmarshal(raw, &header) != nil || header.Alg != "ES256" || header.Kid != keyID(&key.PublicKey) {
		return nil, nil
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return nil, nil
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(&key.PublicKey, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return nil, nil
	}
	var claims accessClaims
	if raw, err = b64.DecodeString(parts[1]); err != nil || json.Unmarshal(raw, &claims) != nil {
		return nil, nil
	}
	now := s.db.Now().Unix()
	if claims.Issuer != s.Issuer() || now >= claims.ExpiresAt || now < claims.NotBefore {
		return nil, nil
	}
	return &claims, nil
}

// introspector is who asks about a token: a user (by personal access token) or a component
// or project (by a runtime token or an API key of one of its connections).
type introspector struct {
	user                   *junction.User
	projectID, componentID int64
}

func (s *ConnectionService) findIntrospector(ctx context.Context, tx *Tx, credential string) (*introspector, error) {
	hash := hashSecret(credential)
	var who introspector
	var err error
	switch {
	case strings.HasPrefix(credential, TokenPrefix):
		who.user, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ?`, hash))
	case strings.HasPrefix(credential, junction.RuntimeTokenPrefix):
		err = tx.QueryRowContext(ctx, `SELECT k.project_id, k.id FROM runtime_tokens r JOIN components k ON k.id = r.component_id
			WHERE r.token_hash = ?`, hash).Scan(&who.projectID, &who.componentID)
	default:
		var component sql.NullInt64
		err = tx.QueryRowContext(ctx, `SELECT c.project_id, c.component_id FROM api_keys a JOIN connections c ON c.id = a.connection_id
			WHERE a.key_hash = ? OR (a.previous_key_hash = ? AND a.previous_valid_until > ?)`, hash, hash, formatTime(tx.now)).Scan(&who.projectID, &component)
		who.componentID = component.Int64
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, junction.Errorf(junction.EUNAUTHORIZED, "Authenticate with a personal access token, or a runtime token or API key of the provider's component.")
	}
	return &who, err
}

// mayIntrospect reports whether who may learn about tokens for a service: a service its
// component (or project) publishes, or, for a user, one of a project they belong to.
func (s *ConnectionService) mayIntrospect(ctx context.Context, tx *Tx, who *introspector, serviceID string) (bool, error) {
	if who.user != nil && who.user.IsAdmin {
		return true, nil
	}
	var projectID, componentID sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT project_id, component_id FROM services WHERE id = ?`, serviceID).Scan(&projectID, &componentID)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !projectID.Valid {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if who.user != nil {
		var member bool
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM project_members WHERE project_id = ? AND user_id = ?)`,
			projectID.Int64, who.user.ID).Scan(&member)
		return member, err
	}
	if who.componentID != 0 {
		return componentID.Int64 == who.componentID, nil
	}
	return projectID.Int64 == who.projectID, nil
}

// IntrospectToken implements junction.TokenService. A token is active while its signature,
// issuer and validity period hold and its client still exists; the audience it reports is
// cut to the services the caller may see.
func (s *ConnectionService) IntrospectToken(ctx context.Context, credential, token string) (info *junction.TokenInfo, err error) {
	claims, err := s.verifyAccessToken(ctx, token)
	if err != nil {
		return nil, err
	}
	info = &junction.TokenInfo{}
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		who, err := s.findIntrospector(ctx, tx, credential)
		if err != nil || claims == nil {
			return err
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM oauth_credentials WHERE client_id = ?)`, claims.ClientID).Scan(&exists); err != nil || !exists {
			return err
		}
		var audience []string
		for _, id := range claims.Audience {
			ok, err := s.mayIntrospect(ctx, tx, who, id)
			if err != nil {
				return err
			}
			if ok {
				audience = append(audience, id)
			}
		}
		if len(audience) > 0 {
			*info = junction.TokenInfo{Active: true, ClientID: claims.ClientID, Subject: claims.Subject, Audience: audience,
				Issuer: claims.Issuer, IssuedAt: claims.IssuedAt, ExpiresAt: claims.ExpiresAt, TokenType: "Bearer", Environment: claims.Environment}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return info, nil
}

// VerifyAPIKey tells what an API key belongs to, or EUNAUTHORIZED for an unknown key.
func (s *ConnectionService) VerifyAPIKey(ctx context.Context, key string) (*junction.APIKeyInfo, error) {
	var info junction.APIKeyInfo
	err := s.db.inTx(ctx, false, func(tx *Tx) error {
		return tx.QueryRowContext(ctx, `SELECT c.id, c.service_id, a.environment, p.handle, COALESCE(k.handle, '')
			FROM api_keys a JOIN connections c ON c.id = a.connection_id JOIN projects p ON p.id = c.project_id
			LEFT JOIN components k ON k.id = c.component_id
			WHERE a.key_hash = ? OR (a.previous_key_hash = ? AND a.previous_valid_until > ?)`, hashSecret(key), hashSecret(key), formatTime(tx.now)).
			Scan(&info.ConnectionID, &info.ServiceID, &info.Environment, &info.Project, &info.Component)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, junction.Errorf(junction.EUNAUTHORIZED, "Unknown or rotated API key.")
	} else if err != nil {
		return nil, err
	}
	return &info, nil
}
