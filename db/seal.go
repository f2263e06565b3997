package db

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// sealVersion prefixes every sealed value so that the format can change later.
const sealVersion byte = 1

// Sealer encrypts secret values at rest with AES-256-GCM. Each value gets a fresh random
// nonce and is bound to a context string (such as "connection.secret") so that a sealed value
// copied into another column does not open there.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("sealer key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext and returns version || nonce || ciphertext.
func (s *Sealer) Seal(plaintext []byte, context string) []byte {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // never happens on supported systems
	}
	return s.aead.Seal(out, out[1:], plaintext, []byte(context))
}

// Open decrypts a value made by Seal with the same context.
func (s *Sealer) Open(sealed []byte, context string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, errors.New("open sealed value: malformed")
	}
	plain, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(context))
	if err != nil {
		return nil, errors.New("open sealed value: wrong key or tampered value")
	}
	return plain, nil
}

// DeriveKey derives an independent 32-byte key for one purpose from the master key, so the
// same configured key can seal secrets and sign sessions without reusing key material.
func DeriveKey(master []byte, purpose string) []byte {
	mac := hmac.New(sha256.New, master)
	mac.Write([]byte(purpose))
	return mac.Sum(nil)
}

// LoadKey returns the installation's 32-byte master key. configured is the value of
// JUNCTION_SECRET_KEY (hex or base64); when it is empty the key is read from dbPath+".key",
// which is created with a new random key and mode 0600 on first start. A PostgreSQL database
// has no file to put a key next to: its replicas share the configured key, which is required.
func LoadKey(configured, dbPath string) ([]byte, error) {
	if configured = strings.TrimSpace(configured); configured != "" {
		key, err := ParseKey(configured)
		if err != nil {
			return nil, fmt.Errorf("JUNCTION_SECRET_KEY: %w", err)
		}
		return key, nil
	}
	if IsPostgresURL(dbPath) {
		return nil, errors.New("set JUNCTION_SECRET_KEY (64 hex digits, the same for every replica): a PostgreSQL database has no <db>.key file to keep a generated key in")
	}
	path := dbPath + ".key"
	if data, err := os.ReadFile(path); err == nil {
		key, err := ParseKey(string(data))
		if err != nil {
			return nil, fmt.Errorf("key file %s: %w", path, err)
		}
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read key file: %w", err)
	}

	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	// Write the key to a temporary file and link it into place, so that a concurrent first
	// start never reads a half-written key file: the loser of the race uses the winner's key.
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("create key file: %w", err)
	}
	if _, err := tmp.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return LoadKey("", dbPath)
	} else if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	return key, nil
}

// ParseKey decodes a 32-byte key written as 64 hex digits or as base64.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if key, err := hex.DecodeString(s); err == nil && len(key) == 32 {
		return key, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil && len(key) == 32 {
			return key, nil
		}
	}
	return nil, errors.New("want 32 bytes as 64 hex digits or base64")
}
