package db_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/db"
)

func mustSealer(tb testing.TB, key []byte) *db.Sealer {
	tb.Helper()
	s, err := db.NewSealer(key)
	require.NoError(tb, err)
	return s
}

func TestSealer(t *testing.T) {
	key := RandomKey(t)
	s := mustSealer(t, key)

	t.Run("RoundTrip", func(t *testing.T) {
		for _, plain := range [][]byte{[]byte("s3cr3t"), {}, bytes.Repeat([]byte{0, 1, 2, 255}, 1000)} {
			sealed := s.Seal(plain, "connection.secret")
			require.False(t, len(plain) > 0 && bytes.Contains(sealed, plain), "sealed value contains the plaintext")
			got, err := s.Open(sealed, "connection.secret")
			require.NoError(t, err)
			require.Equal(t, len(plain), len(got))
			require.True(t, bytes.Equal(plain, got))
		}
	})

	t.Run("FreshNonce", func(t *testing.T) {
		a := s.Seal([]byte("same"), "ctx")
		b := s.Seal([]byte("same"), "ctx")
		require.NotEqual(t, a, b, "sealing twice must not give the same bytes")
		require.Equal(t, byte(1), a[0], "version prefix")
	})

	t.Run("SameKeyOtherSealer", func(t *testing.T) {
		other := mustSealer(t, bytes.Clone(key))
		got, err := other.Open(s.Seal([]byte("portable"), "ctx"), "ctx")
		require.NoError(t, err)
		require.Equal(t, "portable", string(got))
	})

	sealed := s.Seal([]byte("tamper me"), "ctx")
	tamper := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		name    string
		sealed  []byte
		context string
		sealer  *db.Sealer
	}{
		{"ErrVersionByte", tamper(0), "ctx", s},
		{"ErrNonceByte", tamper(1), "ctx", s},
		{"ErrCiphertextByte", tamper(14), "ctx", s},
		{"ErrTagByte", tamper(len(sealed) - 1), "ctx", s},
		{"ErrTruncated", sealed[:len(sealed)-1], "ctx", s},
		{"ErrTooShort", sealed[:10], "ctx", s},
		{"ErrEmpty", nil, "ctx", s},
		{"ErrExtraByte", append(bytes.Clone(sealed), 0), "ctx", s},
		{"ErrWrongContext", sealed, "other", s},
		{"ErrEmptyContext", sealed, "", s},
		{"ErrWrongKey", sealed, "ctx", mustSealer(t, RandomKey(t))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.sealer.Open(tt.sealed, tt.context)
			require.Error(t, err)
			require.Nil(t, got)
			require.NotContains(t, err.Error(), "tamper me")
		})
	}

	t.Run("ErrKeyLength", func(t *testing.T) {
		for _, n := range []int{0, 16, 24, 31, 33, 64} {
			_, err := db.NewSealer(make([]byte, n))
			require.Error(t, err, "key of %d bytes", n)
		}
	})
}

func TestDeriveKey(t *testing.T) {
	master := RandomKey(t)
	a := db.DeriveKey(master, "junction seal v1")
	require.Len(t, a, 32)
	require.Equal(t, a, db.DeriveKey(master, "junction seal v1"), "deterministic")
	require.NotEqual(t, a, db.DeriveKey(master, "junction session v1"), "independent per purpose")
	require.NotEqual(t, a, db.DeriveKey(RandomKey(t), "junction seal v1"), "independent per master key")
	require.NotEqual(t, master, a)
}

func TestLoadKey(t *testing.T) {
	t.Run("GeneratesKeyFile", func(t *testing.T) {
		dbPath := filepath.Join(t.TempDir(), "junction.db")
		key, err := db.LoadKey("", dbPath)
		require.NoError(t, err)
		require.Len(t, key, 32)
		require.NotEqual(t, make([]byte, 32), key)

		info, err := os.Stat(dbPath + ".key")
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

		data, err := os.ReadFile(dbPath + ".key")
		require.NoError(t, err)
		require.Equal(t, hex.EncodeToString(key), strings.TrimSpace(string(data)))

		again, err := db.LoadKey("", dbPath)
		require.NoError(t, err)
		require.Equal(t, key, again, "the key file must be reused")

		// Another database in the same directory gets its own key.
		other, err := db.LoadKey("", filepath.Join(filepath.Dir(dbPath), "other.db"))
		require.NoError(t, err)
		require.NotEqual(t, key, other)
	})

	t.Run("ReadsExistingKeyFile", func(t *testing.T) {
		dbPath := filepath.Join(t.TempDir(), "junction.db")
		want := RandomKey(t)
		require.NoError(t, os.WriteFile(dbPath+".key", []byte(base64.StdEncoding.EncodeToString(want)+"\n"), 0o600))
		key, err := db.LoadKey("", dbPath)
		require.NoError(t, err)
		require.Equal(t, want, key)
	})

	t.Run("ErrCorruptKeyFile", func(t *testing.T) {
		dbPath := filepath.Join(t.TempDir(), "junction.db")
		require.NoError(t, os.WriteFile(dbPath+".key", []byte("not a key\n"), 0o600))
		_, err := db.LoadKey("", dbPath)
		require.ErrorContains(t, err, dbPath+".key")
	})

	want := RandomKey(t)
	valid := []struct {
		name       string
		configured string
	}{
		{"Hex", hex.EncodeToString(want)},
		{"HexUpperCase", strings.ToUpper(hex.EncodeToString(want))},
		{"HexWithWhitespace", "  " + hex.EncodeToString(want) + "\n"},
		{"Base64", base64.StdEncoding.EncodeToString(want)},
		{"Base64Raw", base64.RawStdEncoding.EncodeToString(want)},
		{"Base64URL", base64.URLEncoding.EncodeToString(want)},
		{"Base64RawURL", base64.RawURLEncoding.EncodeToString(want)},
	}
	for _, tt := range valid {
		t.Run("Configured"+tt.name, func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "junction.db")
			key, err := db.LoadKey(tt.configured, dbPath)
			require.NoError(t, err)
			require.Equal(t, want, key)
			require.NoFileExists(t, dbPath+".key", "a configured key must not write a key file")
		})
	}

	invalid := []struct {
		name       string
		configured string
	}{
		{"ErrShortHex", hex.EncodeToString(want[:31])},
		{"ErrLongHex", hex.EncodeToString(append(bytes.Clone(want), 1))},
		{"ErrOddHex", hex.EncodeToString(want)[:63]},
		{"ErrNotHexNorBase64", strings.Repeat("z", 64) + "!"},
		{"ErrShortBase64", base64.StdEncoding.EncodeToString(want[:31])},
		{"ErrLongBase64", base64.StdEncoding.EncodeToString(append(bytes.Clone(want), 1))},
		{"ErrPassphrase", "correct horse battery staple"},
	}
	for _, tt := range invalid {
		t.Run("Configured"+tt.name, func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "junction.db")
			key, err := db.LoadKey(tt.configured, dbPath)
			require.Error(t, err)
			require.Nil(t, key)
			require.ErrorContains(t, err, "JUNCTION_SECRET_KEY")
			require.NotContains(t, err.Error(), tt.configured, "the error must not echo the key")
			require.NoFileExists(t, dbPath+".key", "an invalid configured key must not fall back to a key file")
		})
	}

	t.Run("ConcurrentFirstStart", func(t *testing.T) {
		// Concurrent first starts must all get the same key, never a half-written file.
		for range 50 {
			dbPath := filepath.Join(t.TempDir(), "junction.db")
			const callers = 16
			keys := make([][]byte, callers)
			errs := make([]error, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() { keys[i], errs[i] = db.LoadKey("", dbPath) })
			}
			wg.Wait()
			for i := range callers {
				require.NoError(t, errs[i])
				require.Equal(t, keys[0], keys[i], "every caller must get the same key")
			}
		}
	})

	t.Run("BlankConfiguredUsesKeyFile", func(t *testing.T) {
		dbPath := filepath.Join(t.TempDir(), "junction.db")
		key, err := db.LoadKey("   ", dbPath)
		require.NoError(t, err)
		require.Len(t, key, 32)
		require.FileExists(t, dbPath+".key")
	})
}

func TestParseKey(t *testing.T) {
	want := RandomKey(t)
	for _, s := range []string{hex.EncodeToString(want), base64.StdEncoding.EncodeToString(want), " " + base64.RawURLEncoding.EncodeToString(want) + " "} {
		key, err := db.ParseKey(s)
		require.NoError(t, err)
		require.Equal(t, want, key)
	}
	for _, s := range []string{"", "abc", hex.EncodeToString(want[:16])} {
		_, err := db.ParseKey(s)
		require.Error(t, err, "%q", s)
	}
}

// TestSealedValuesNotInDatabaseFile writes sealed copies of a distinctive plaintext into the
// database and then searches the raw files for it. The control writes the plaintext unsealed
// and must find it, which proves the search can fail.
func TestSealedValuesNotInDatabaseFile(t *testing.T) {
	const plaintext = "JUNCTION-CANARY-9f41c2e7-do-not-store-in-clear"

	// writeAndClose stores the values in a scratch table, closes the database (which
	// checkpoints the WAL) and returns the bytes of the database file and any WAL left.
	writeAndClose := func(t *testing.T, values func(*db.DB) [][]byte) ([]byte, []byte) {
		t.Helper()
		store, path, key := MustOpenSQLite(t)
		_, err := store.WritePool().ExecContext(t.Context(), `CREATE TABLE scratch (id INTEGER PRIMARY KEY, value BLOB NOT NULL)`)
		require.NoError(t, err)
		for _, v := range values(store) {
			_, err := store.WritePool().ExecContext(t.Context(), `INSERT INTO scratch (value) VALUES (?)`, v)
			require.NoError(t, err)
		}
		require.NoError(t, store.Close())

		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NotEmpty(t, data)
		wal, err := os.ReadFile(path + "-wal")
		if !os.IsNotExist(err) {
			require.NoError(t, err)
		}
		// The master key must never be in the database either.
		all := append(bytes.Clone(data), wal...)
		require.False(t, bytes.Contains(all, key), "raw master key found in the database")
		require.False(t, bytes.Contains(all, []byte(hex.EncodeToString(key))), "hex master key found in the database")
		return data, wal
	}
	contains := func(data, wal []byte) bool {
		return bytes.Contains(data, []byte(plaintext)) || bytes.Contains(wal, []byte(plaintext))
	}

	t.Run("Sealed", func(t *testing.T) {
		data, wal := writeAndClose(t, func(s *db.DB) [][]byte {
			var out [][]byte
			for i := range 50 {
				out = append(out, s.Sealer().Seal([]byte(plaintext), "scratch.value"))
				// Also as part of a larger secret.
				out = append(out, s.Sealer().Seal([]byte(strings.Repeat("x", i)+plaintext+strings.Repeat("y", i)), "scratch.value"))
			}
			return out
		})
		require.False(t, contains(data, wal), "sealed plaintext found in the raw database file")
	})

	t.Run("ControlUnsealedIsFound", func(t *testing.T) {
		data, wal := writeAndClose(t, func(*db.DB) [][]byte {
			return [][]byte{[]byte(plaintext)}
		})
		require.True(t, contains(data, wal), "the search must find a plaintext stored in clear")
	})

	t.Run("SealedValuesStillOpen", func(t *testing.T) {
		store, path, key := MustOpenSQLite(t)
		_, err := store.WritePool().ExecContext(t.Context(), `CREATE TABLE scratch (id INTEGER PRIMARY KEY, value BLOB NOT NULL)`)
		require.NoError(t, err)
		_, err = store.WritePool().ExecContext(t.Context(), `INSERT INTO scratch (value) VALUES (?)`, store.Sealer().Seal([]byte(plaintext), "scratch.value"))
		require.NoError(t, err)
		require.NoError(t, store.Close())

		store = MustReopenDB(t, path, key)
		var sealed []byte
		require.NoError(t, store.ReadPool().QueryRow(`SELECT value FROM scratch`).Scan(&sealed))
		plain, err := store.Sealer().Open(sealed, "scratch.value")
		require.NoError(t, err)
		require.Equal(t, plaintext, string(plain))
	})
}
