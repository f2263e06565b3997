package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/junction-dev/junction"
)

// SessionLifetime is how long a sign-in session lasts.
const SessionLifetime = 7 * 24 * time.Hour

// TokenPrefix starts every personal access token so that leaked tokens are easy to spot.
const TokenPrefix = "jct_"

// tokenLastUsedGranularity limits how often a token's last-used time is written.
const tokenLastUsedGranularity = time.Minute

var errBadCredentials = &junction.Error{Code: junction.EUNAUTHORIZED, Message: "Incorrect e-mail or password."}

// UserService implements junction.UserService.
type UserService struct {
	db *DB
	// PasswordCost is the bcrypt cost; tests lower it.
	PasswordCost int
	// dummyHash is compared against when the e-mail is unknown, so that sign-in takes as long
	// for unknown users as for wrong passwords. It is made on first use, at PasswordCost.
	dummyOnce sync.Once
	dummyHash []byte
}

var _ junction.UserService = (*UserService)(nil)

// NewUserService returns a UserService over db.
func NewUserService(db *DB) *UserService {
	return &UserService{db: db, PasswordCost: bcrypt.DefaultCost}
}

// CreateUser implements junction.UserService.
func (s *UserService) CreateUser(ctx context.Context, user *junction.User, password string) error {
	user.Email = junction.NormalizeEmail(user.Email)
	if err := junction.ValidateNewUser(user.Email, password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.PasswordCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv()
		id, err := tx.insertID(ctx, `INSERT INTO users (email, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?)`,
			user.Email, string(hash), user.IsAdmin, formatTime(tx.now))
		if isConflict(err) {
			return &junction.Error{Code: junction.ECONFLICT, Message: "A user with this e-mail already exists.",
				Fields: map[string]string{"email": "A user with this e-mail already exists."}}
		} else if err != nil {
			return fmt.Errorf("create user %q: %w", user.Email, err)
		}
		user.ID = id
		user.CreatedAt = tx.now
		return tx.audit(ctx, junction.AuditEntry{Action: "user.create", Target: junction.AuditTarget{Type: "user", ID: user.Email, Name: user.Email},
			Details: map[string]any{"after": map[string]any{"email": user.Email, "admin": user.IsAdmin}}})
	})
}

const userColumns = `u.id, u.email, u.name, u.is_admin, u.created_at`

func scanUser(row interface{ Scan(...any) error }, extra ...any) (*junction.User, error) {
	var u junction.User
	var created string
	if err := row.Scan(append([]any{&u.ID, &u.Email, &u.Name, &u.IsAdmin, &created}, extra...)...); err != nil {
		return nil, err
	}
	u.CreatedAt = parseTime(created)
	return &u, nil
}

// FindUserByEmail implements junction.UserService.
func (s *UserService) FindUserByEmail(ctx context.Context, email string) (*junction.User, error) {
	var user *junction.User
	err := s.db.inTx(ctx, false, func(tx *Tx) (err error) {
		user, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.email = ?`, junction.NormalizeEmail(email)))
		return err
	})
	if err != nil {
		return nil, notFound(err, "No user with this e-mail.")
	}
	return user, nil
}

// CountUsers implements junction.UserService.
func (s *UserService) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.inTx(ctx, false, func(tx *Tx) error {
		return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	})
	return n, err
}

// FindUsers implements junction.UserService.
func (s *UserService) FindUsers(ctx context.Context, page junction.Page) (users []*junction.User, total int, err error) {
	if err := requireAdmin(ctx, "list users"); err != nil {
		return nil, 0, err
	}
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+userColumns+` FROM users u ORDER BY u.email LIMIT ? OFFSET ?`, page.Limit(), page.Offset())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			users = append(users, u)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("find users: %w", err)
	}
	return users, total, nil
}

// Authenticate implements junction.UserService.
func (s *UserService) Authenticate(ctx context.Context, email, password string) (*junction.User, error) {
	var hash string
	var user *junction.User
	err := s.db.inTx(ctx, false, func(tx *Tx) (err error) {
		user, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+`, u.password_hash FROM users u WHERE u.email = ?`, junction.NormalizeEmail(email)), &hash)
		return err
	})
	email = junction.NormalizeEmail(email)
	if errors.Is(err, sql.ErrNoRows) || err == nil && hash == "" {
		// An unknown e-mail, or a user who signs in only through the identity provider and
		// has no password: both take as long as a wrong password.
		s.dummyOnce.Do(func() {
			s.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("junction dummy password"), s.PasswordCost)
		})
		bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password))
		return nil, s.signInDenied(ctx, email)
	} else if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return nil, s.signInDenied(ctx, email)
	}
	if err := s.db.recordOnly(ctx, junction.AuditEntry{Actor: user.Email, Action: "session.sign_in",
		Target: junction.AuditTarget{Type: "session", ID: user.Email, Name: "password"}, Details: map[string]any{"method": "password"}}); err != nil {
		return nil, err
	}
	return user, nil
}

// signInDenied records a refused password sign-in and returns the error for it.
func (s *UserService) signInDenied(ctx context.Context, email string) error {
	if len(email) > 320 {
		email = email[:320]
	}
	if err := s.db.recordOnly(ctx, junction.AuditEntry{Actor: email, Action: "session.sign_in", Outcome: junction.OutcomeDenied,
		Target: junction.AuditTarget{Type: "session", ID: email, Name: "password"}, Details: map[string]any{"method": "password"}}); err != nil {
		return errors.Join(errBadCredentials, err)
	}
	return errBadCredentials
}

// CreateToken implements junction.UserService.
func (s *UserService) CreateToken(ctx context.Context, userID int64, name string) (*junction.Token, string, error) {
	name = strings.TrimSpace(name)
	if len(name) > junction.MaxTokenName {
		return nil, "", &junction.Error{Code: junction.EINVALID, Message: "Token name is too long.",
			Fields: map[string]string{"name": fmt.Sprintf("Use at most %d characters.", junction.MaxTokenName)}}
	}
	secret := TokenPrefix + randomString(20)
	token := &junction.Token{UserID: userID, Name: name, Prefix: junction.SecretPrefix(TokenPrefix, secret)}
	// The console's user created it; without one in ctx it comes from the command line.
	var createdBy any
	if user := junction.UserFromContext(ctx); user != nil {
		createdBy, token.CreatedBy = user.ID, user.Email
	}
	err := s.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv()
		if token.Name == "" {
			token.Name = "token " + tx.now.UTC().Format("2006-01-02 15:04")
		}
		id, err := tx.insertID(ctx, `INSERT INTO tokens (user_id, name, secret_hash, created_at, prefix, created_by) VALUES (?, ?, ?, ?, ?, ?)`,
			userID, token.Name, hashSecret(secret), formatTime(tx.now), token.Prefix, createdBy)
		if err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		token.ID = id
		token.CreatedAt = tx.now
		owner, err := userEmail(ctx, tx, userID)
		if err != nil {
			return err
		}
		return tx.audit(ctx, junction.AuditEntry{Action: "token.create", Target: tokenTarget(id, name),
			Details: map[string]any{"after": map[string]any{"name": name, "user": owner}}})
	})
	if err != nil {
		return nil, "", err
	}
	return token, secret, nil
}

// FindUserByToken implements junction.UserService.
func (s *UserService) FindUserByToken(ctx context.Context, secret string) (*junction.User, error) {
	var tokenID int64
	var lastUsed sql.NullString
	var user *junction.User
	err := s.db.inTx(ctx, false, func(tx *Tx) (err error) {
		user, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+`, t.id, t.last_used_at
			FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ?`, hashSecret(secret)), &tokenID, &lastUsed)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, junction.Errorf(junction.EUNAUTHORIZED, "Invalid or revoked token.")
	} else if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	// Recording every use would turn each API read into a write; a minute's precision is enough.
	now := s.db.Now().UTC()
	if last := parseNullTime(lastUsed); last == nil || now.Sub(*last) >= tokenLastUsedGranularity {
		if err := s.db.inTx(ctx, true, func(tx *Tx) error {
			tx.keepEnv()
			_, err := tx.ExecContext(ctx, `UPDATE tokens SET last_used_at = ? WHERE id = ?`, formatTime(now), tokenID)
			return err
		}); err != nil {
			return nil, fmt.Errorf("record token use: %w", err)
		}
	}
	return user, nil
}

// FindTokens implements junction.UserService.
func (s *UserService) FindTokens(ctx context.Context) ([]*junction.Token, error) {
	user, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var tokens []*junction.Token
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		tokens = nil
		return queryEach(ctx, tx, `SELECT t.id, t.name, t.created_at, t.last_used_at, t.prefix, COALESCE(u.email, '')
			FROM tokens t LEFT JOIN users u ON u.id = t.created_by
			WHERE t.user_id = ? ORDER BY t.created_at DESC, t.id DESC`, []any{user.ID}, func(rows *sql.Rows) error {
			t := junction.Token{UserID: user.ID}
			var created string
			var lastUsed sql.NullString
			if err := rows.Scan(&t.ID, &t.Name, &created, &lastUsed, &t.Prefix, &t.CreatedBy); err != nil {
				return err
			}
			t.CreatedAt, t.LastUsedAt = parseTime(created), parseNullTime(lastUsed)
			tokens = append(tokens, &t)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("find tokens: %w", err)
	}
	return tokens, nil
}

// DeleteToken implements junction.UserService.
func (s *UserService) DeleteToken(ctx context.Context, id int64) error {
	user, err := caller(ctx)
	if err != nil {
		return err
	}
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv()
		var name string
		err := tx.QueryRowContext(ctx, `SELECT name FROM tokens WHERE id = ? AND user_id = ?`, id, user.ID).Scan(&name)
		if err != nil {
			return notFound(err, "Token not found.")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE id = ? AND user_id = ?`, id, user.ID); err != nil {
			return fmt.Errorf("delete token: %w", err)
		}
		return tx.audit(ctx, junction.AuditEntry{Action: "token.revoke", Target: tokenTarget(id, name),
			Details: map[string]any{"before": map[string]any{"name": name, "user": user.Email}}})
	})
}

// CreateSession implements junction.UserService.
func (s *UserService) CreateSession(ctx context.Context, userID int64) (string, error) {
	id := randomString(32)
	err := s.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv()
		// Drop this user's expired sessions so the table does not grow without bound.
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND expires_at <= ?`, userID, formatTime(tx.now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			hashSecret(id), userID, formatTime(tx.now), formatTime(tx.now.Add(SessionLifetime)))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return id, nil
}

// FindUserBySession implements junction.UserService.
func (s *UserService) FindUserBySession(ctx context.Context, sessionID string) (*junction.User, error) {
	var user *junction.User
	err := s.db.inTx(ctx, false, func(tx *Tx) (err error) {
		user, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM sessions s JOIN users u ON u.id = s.user_id
			WHERE s.id_hash = ? AND s.expires_at > ?`, hashSecret(sessionID), formatTime(tx.now)))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, junction.Errorf(junction.EUNAUTHORIZED, "Your session has ended. Please sign in again.")
	} else if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	return user, nil
}

// DeleteSession implements junction.UserService.
func (s *UserService) DeleteSession(ctx context.Context, sessionID string) error {
	if err := s.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv()
		var email string
		err := tx.QueryRowContext(ctx, `SELECT u.email FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`,
			hashSecret(sessionID)).Scan(&email)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // gone already: nothing ends
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, hashSecret(sessionID)); err != nil {
			return err
		}
		return tx.audit(ctx, junction.AuditEntry{Actor: email, Action: "session.sign_out", Target: junction.AuditTarget{Type: "session", ID: email, Name: email}})
	}); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// hashSecret returns the hex SHA-256 of a high-entropy secret. A plain hash is right here
// (unlike passwords): the secrets are random, so there is nothing to brute-force.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

var base32Lower = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// randomString returns n random bytes from crypto/rand as lower-case base32.
func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return base32Lower.EncodeToString(b)
}

// tokenTarget names a personal access token in the audit log.
func tokenTarget(id int64, name string) junction.AuditTarget {
	return junction.AuditTarget{Type: "token", ID: strconv.FormatInt(id, 10), Name: name}
}

func userEmail(ctx context.Context, tx *Tx, id int64) (email string, err error) {
	err = tx.QueryRowContext(ctx, `SELECT email FROM users WHERE id = ?`, id).Scan(&email)
	return email, notFound(err, "User not found.")
}
