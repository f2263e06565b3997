package db_test

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

func TestUserService_CreateUser(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		store := MustOpenDB(t)
		now := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
		store.Now = func() time.Time { return now }
		s := NewUserService(store)

		user := &junction.User{Email: "  Alice@Example.COM ", IsAdmin: true}
		require.NoError(t, s.CreateUser(t.Context(), user, TestPassword))
		require.NotZero(t, user.ID)
		require.Equal(t, "alice@example.com", user.Email, "e-mail is normalized")
		require.True(t, user.CreatedAt.Equal(now))

		got, err := s.FindUserByEmail(t.Context(), "ALICE@example.com")
		require.NoError(t, err)
		require.Equal(t, user.ID, got.ID)
		require.Equal(t, "alice@example.com", got.Email)
		require.True(t, got.IsAdmin)
		require.True(t, got.CreatedAt.Equal(now), "created_at %v", got.CreatedAt)

		n, err := s.CountUsers(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, n)

		// The password is stored as a bcrypt hash, never in clear.
		var hash string
		require.NoError(t, store.ReadPool().QueryRow(`SELECT password_hash FROM users WHERE id = ?`, user.ID).Scan(&hash))
		require.NotContains(t, hash, TestPassword)
		require.True(t, strings.HasPrefix(hash, "$2"), "bcrypt hash, got %q", hash)
	})

	t.Run("ErrEmailTaken", func(t *testing.T) {
		store := MustOpenDB(t)
		s := NewUserService(store)
		MustCreateUser(t, store, "alice@example.com", false)
		for _, email := range []string{"alice@example.com", "ALICE@example.com", " Alice@Example.Com "} {
			err := s.CreateUser(t.Context(), &junction.User{Email: email}, TestPassword)
			require.Equal(t, junction.ECONFLICT, junction.ErrorCode(err), "%q: %v", email, err)
			require.Contains(t, junction.ErrorFields(err), "email")
		}
		n, err := s.CountUsers(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})

	invalid := []struct {
		name     string
		email    string
		password string
		field    string
	}{
		{"ErrEmailEmpty", "", TestPassword, "email"},
		{"ErrEmailInvalid", "not-an-email", TestPassword, "email"},
		{"ErrEmailWithName", "Alice <alice@example.com>", TestPassword, "email"},
		{"ErrPasswordShort", "alice@example.com", "short", "password"},
		{"ErrPasswordTooLong", "alice@example.com", strings.Repeat("p", 73), "password"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			store := MustOpenDB(t)
			s := NewUserService(store)
			err := s.CreateUser(t.Context(), &junction.User{Email: tt.email}, tt.password)
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err), "%v", err)
			require.Contains(t, junction.ErrorFields(err), tt.field)
			n, err := s.CountUsers(t.Context())
			require.NoError(t, err)
			require.Zero(t, n)
		})
	}
}

func TestUserService_FindUserByEmail(t *testing.T) {
	store := MustOpenDB(t)
	s := NewUserService(store)
	MustCreateUser(t, store, "alice@example.com", false)

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.FindUserByEmail(t.Context(), "bob@example.com")
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
	})
}

func TestUserService_Authenticate(t *testing.T) {
	store := MustOpenDB(t)
	s := NewUserService(store)
	alice := MustCreateUser(t, store, "alice@example.com", false)

	t.Run("OK", func(t *testing.T) {
		for _, email := range []string{"alice@example.com", "ALICE@EXAMPLE.COM", "  alice@example.com  "} {
			user, err := s.Authenticate(t.Context(), email, TestPassword)
			require.NoError(t, err, email)
			require.Equal(t, alice.ID, user.ID)
			require.Equal(t, "alice@example.com", user.Email)
		}
	})

	var messages []string
	failures := []struct {
		name     string
		email    string
		password string
	}{
		{"ErrWrongPassword", "alice@example.com", "wrong password"},
		{"ErrPasswordCase", "alice@example.com", strings.ToUpper(TestPassword)},
		{"ErrEmptyPassword", "alice@example.com", ""},
		{"ErrUnknownUser", "bob@example.com", TestPassword},
		{"ErrEmptyEmail", "", TestPassword},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			user, err := s.Authenticate(t.Context(), tt.email, tt.password)
			require.Nil(t, user)
			require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
			require.Empty(t, junction.ErrorFields(err), "must not say which field was wrong")
			messages = append(messages, junction.ErrorMessage(err))
		})
	}
	t.Run("SameMessage", func(t *testing.T) {
		require.Len(t, messages, len(failures))
		for _, msg := range messages {
			require.Equal(t, messages[0], msg, "a wrong password and an unknown user must look the same")
		}
	})
}

func TestUserService_Tokens(t *testing.T) {
	store := MustOpenDB(t)
	s := NewUserService(store)
	alice := MustCreateUser(t, store, "alice@example.com", false)
	bob := MustCreateUser(t, store, "bob@example.com", true)

	t.Run("OK", func(t *testing.T) {
		token, secret, err := s.CreateToken(t.Context(), alice.ID, " ci ")
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(secret, db.TokenPrefix), secret)
		require.True(t, strings.HasPrefix(secret, "jct_"), secret)
		require.GreaterOrEqual(t, len(secret), len("jct_")+32, "token has enough entropy")
		require.NotZero(t, token.ID)
		require.Equal(t, alice.ID, token.UserID)
		require.Equal(t, "ci", token.Name)

		user, err := s.FindUserByToken(t.Context(), secret)
		require.NoError(t, err)
		require.Equal(t, alice.ID, user.ID)
		require.Equal(t, alice.Email, user.Email)
	})

	t.Run("DefaultName", func(t *testing.T) {
		token, secret, err := s.CreateToken(t.Context(), alice.ID, "  ")
		require.NoError(t, err)
		require.Regexp(t, `^token \d{4}-\d{2}-\d{2} \d{2}:\d{2}$`, token.Name, "named after when it was made")
		require.Equal(t, secret[:8], token.Prefix)
		require.Empty(t, token.CreatedBy, "no user in ctx: the command line")
	})

	t.Run("ErrNameTooLong", func(t *testing.T) {
		_, _, err := s.CreateToken(t.Context(), alice.ID, strings.Repeat("n", 101))
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorFields(err), "name")
	})

	t.Run("TokensAreDistinctPerUser", func(t *testing.T) {
		_, a, err := s.CreateToken(t.Context(), alice.ID, "a")
		require.NoError(t, err)
		_, b, err := s.CreateToken(t.Context(), bob.ID, "b")
		require.NoError(t, err)
		require.NotEqual(t, a, b)
		user, err := s.FindUserByToken(t.Context(), b)
		require.NoError(t, err)
		require.Equal(t, bob.ID, user.ID)
		require.True(t, user.IsAdmin)
	})

	t.Run("ErrUnknownToken", func(t *testing.T) {
		_, secret, err := s.CreateToken(t.Context(), alice.ID, "x")
		require.NoError(t, err)
		for _, bad := range []string{"", "jct_", "jct_nope", secret + "x", secret[:len(secret)-1], strings.ToUpper(secret), hashHex(secret)} {
			user, err := s.FindUserByToken(t.Context(), bad)
			require.Nil(t, user)
			require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err), "%q", bad)
		}
	})

	t.Run("OnlyHashStored", func(t *testing.T) {
		token, secret, err := s.CreateToken(t.Context(), alice.ID, "hashed")
		require.NoError(t, err)

		var name, secretHash, created string
		var lastUsed sql.NullString
		require.NoError(t, store.ReadPool().QueryRow(`SELECT name, secret_hash, created_at, last_used_at FROM tokens WHERE id = ?`, token.ID).
			Scan(&name, &secretHash, &created, &lastUsed))
		require.Equal(t, hashHex(secret), secretHash)
		for _, col := range []string{name, secretHash, created, lastUsed.String} {
			require.NotContains(t, col, secret)
			require.NotContains(t, col, strings.TrimPrefix(secret, "jct_"))
		}
		// No column of any token row holds the secret.
		var n int
		require.NoError(t, store.ReadPool().QueryRow(`SELECT COUNT(*) FROM tokens WHERE (name || secret_hash || created_at || COALESCE(last_used_at, '')) LIKE ?`,
			"%"+strings.TrimPrefix(secret, "jct_")+"%").Scan(&n))
		require.Zero(t, n)
	})

	t.Run("LastUsedRecorded", func(t *testing.T) {
		now := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
		store.Now = func() time.Time { return now }
		defer func() { store.Now = time.Now }()
		token, secret, err := s.CreateToken(t.Context(), alice.ID, "used")
		require.NoError(t, err)
		_, err = s.FindUserByToken(t.Context(), secret)
		require.NoError(t, err)
		var lastUsed sql.NullString
		require.NoError(t, store.ReadPool().QueryRow(`SELECT last_used_at FROM tokens WHERE id = ?`, token.ID).Scan(&lastUsed))
		require.True(t, lastUsed.Valid)
		got, err := time.Parse(time.RFC3339Nano, lastUsed.String)
		require.NoError(t, err)
		require.True(t, got.Equal(now), "last_used_at %s", lastUsed.String)
	})
}

func TestUserService_Sessions(t *testing.T) {
	store := MustOpenDB(t)
	s := NewUserService(store)
	alice := MustCreateUser(t, store, "alice@example.com", false)

	t.Run("OK", func(t *testing.T) {
		id, err := s.CreateSession(t.Context(), alice.ID)
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(id), 32)

		user, err := s.FindUserBySession(t.Context(), id)
		require.NoError(t, err)
		require.Equal(t, alice.ID, user.ID)

		// Only the hash of the session ID is stored.
		var n int
		require.NoError(t, store.ReadPool().QueryRow(`SELECT COUNT(*) FROM sessions WHERE id_hash = ?`, hashHex(id)).Scan(&n))
		require.Equal(t, 1, n)
		require.NoError(t, store.ReadPool().QueryRow(`SELECT COUNT(*) FROM sessions WHERE id_hash = ?`, id).Scan(&n))
		require.Zero(t, n)

		require.NoError(t, s.DeleteSession(t.Context(), id))
		_, err = s.FindUserBySession(t.Context(), id)
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
	})

	t.Run("DistinctSessions", func(t *testing.T) {
		a, err := s.CreateSession(t.Context(), alice.ID)
		require.NoError(t, err)
		b, err := s.CreateSession(t.Context(), alice.ID)
		require.NoError(t, err)
		require.NotEqual(t, a, b)
		require.NoError(t, s.DeleteSession(t.Context(), a))
		_, err = s.FindUserBySession(t.Context(), b)
		require.NoError(t, err, "ending one session must not end the others")
	})

	t.Run("DeleteUnknownIsNotAnError", func(t *testing.T) {
		require.NoError(t, s.DeleteSession(t.Context(), "no-such-session"))
		require.NoError(t, s.DeleteSession(t.Context(), ""))
	})

	t.Run("ErrUnknown", func(t *testing.T) {
		for _, id := range []string{"", "nope"} {
			user, err := s.FindUserBySession(t.Context(), id)
			require.Nil(t, user)
			require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
		}
	})

	t.Run("ErrExpired", func(t *testing.T) {
		start := time.Now().UTC()
		now := start
		store.Now = func() time.Time { return now }
		defer func() { store.Now = time.Now }()

		id, err := s.CreateSession(t.Context(), alice.ID)
		require.NoError(t, err)

		now = start.Add(db.SessionLifetime - time.Second)
		_, err = s.FindUserBySession(t.Context(), id)
		require.NoError(t, err, "a session is live until it expires")

		now = start.Add(db.SessionLifetime)
		_, err = s.FindUserBySession(t.Context(), id)
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err), "a session ends at its expiry time")

		now = start.Add(db.SessionLifetime + time.Hour)
		user, err := s.FindUserBySession(t.Context(), id)
		require.Nil(t, user)
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
	})

	t.Run("ExpiredSessionsPurgedOnCreate", func(t *testing.T) {
		bob := MustCreateUser(t, store, "bob@example.com", false)
		start := time.Now().UTC()
		now := start
		store.Now = func() time.Time { return now }
		defer func() { store.Now = time.Now }()

		_, err := s.CreateSession(t.Context(), bob.ID)
		require.NoError(t, err)
		now = start.Add(db.SessionLifetime + time.Minute)
		_, err = s.CreateSession(t.Context(), bob.ID)
		require.NoError(t, err)

		var n int
		require.NoError(t, store.ReadPool().QueryRow(`SELECT COUNT(*) FROM sessions WHERE user_id = ?`, bob.ID).Scan(&n))
		require.Equal(t, 1, n)
	})
}

// hashHex is the hex SHA-256 of secret, computed here independently of the store.
func hashHex(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func TestTokenListAndRevoke(t *testing.T) {
	store := MustOpenDB(t)
	users := db.NewUserService(store)
	ada := MustCreateUser(t, store, "ada@example.com", false)
	bob := MustCreateUser(t, store, "bob@example.com", false)
	_, adaSecret, err := users.CreateToken(t.Context(), ada.ID, "laptop")
	require.NoError(t, err)
	bobToken, _, err := users.CreateToken(t.Context(), bob.ID, "ci")
	require.NoError(t, err)

	tokens, err := users.FindTokens(ContextAs(t, ada))
	require.NoError(t, err)
	require.Len(t, tokens, 1)
	require.Equal(t, "laptop", tokens[0].Name)

	t.Run("ErrOthersToken", func(t *testing.T) {
		err := users.DeleteToken(ContextAs(t, ada), bobToken.ID)
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
	})
	t.Run("ErrAnonymous", func(t *testing.T) {
		_, err := users.FindTokens(t.Context())
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
	})
	t.Run("OK", func(t *testing.T) {
		require.NoError(t, users.DeleteToken(ContextAs(t, ada), tokens[0].ID))
		_, err := users.FindUserByToken(t.Context(), adaSecret)
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
	})
}

func TestFindUsers(t *testing.T) {
	store := MustOpenDB(t)
	users := db.NewUserService(store)
	admin := MustCreateUser(t, store, "admin@example.com", true)
	bob := MustCreateUser(t, store, "bob@example.com", false)
	list, total, err := users.FindUsers(ContextAs(t, admin), junction.NewPage(1, 1))
	require.NoError(t, err)
	require.Equal(t, 2, total)
	require.Len(t, list, 1)
	require.Equal(t, "admin@example.com", list[0].Email)
	_, _, err = users.FindUsers(ContextAs(t, bob), junction.NewPage(1, 10))
	require.Equal(t, junction.EFORBIDDEN, junction.ErrorCode(err))
}
