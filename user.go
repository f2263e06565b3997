package junction

import (
	"context"
	"net/mail"
	"strings"
	"time"
)

// MinPasswordLength is the shortest password accepted for a new user.
const MinPasswordLength = 8

// User is a person who signs in to the console. Admins manage the whole organization;
// everyone else sees only the projects they are a member of.
type User struct {
	ID    int64  `json:"-"`
	Email string `json:"email"`
	// Name is the display name an identity provider gave; empty for users added by hand.
	Name      string    `json:"name,omitempty"`
	IsAdmin   bool      `json:"admin"`
	CreatedAt time.Time `json:"created_at"`
}

// CanManageUsers reports whether the user may list and add users: admins only.
func (u *User) CanManageUsers() bool { return u != nil && u.IsAdmin }

// CanCreateProjects reports whether the user may create projects: admins.
func (u *User) CanCreateProjects() bool { return u != nil && u.IsAdmin }

// CanAddEnvironments reports whether the user may add environments: admins.
func (u *User) CanAddEnvironments() bool { return u != nil && u.IsAdmin }

// NormalizeEmail trims and lower-cases an e-mail address so that lookups are
// case-insensitive.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// ValidateEmail reports whether email is a plain address such as a@example.com.
func ValidateEmail(email string) string {
	if email == "" {
		return "Enter an e-mail address."
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 254 {
		return "Enter a valid e-mail address, such as name@example.com."
	}
	return ""
}

// ValidateNewUser checks the fields of a user about to be created.
func ValidateNewUser(email, password string) error {
	fields := FieldErrors{}
	if msg := ValidateEmail(email); msg != "" {
		fields.Add("email", msg)
	}
	if len(password) < MinPasswordLength {
		fields.Add("password", "Use at least 8 characters.")
	} else if len(password) > 72 {
		// bcrypt ignores everything after 72 bytes; refuse rather than silently truncate.
		fields.Add("password", "Use at most 72 bytes.")
	}
	return fields.Err()
}

// Token is a personal access token. Only its SHA-256 hash is stored; the secret is shown once.
type Token struct {
	ID     int64  `json:"id"`
	UserID int64  `json:"-"`
	Name   string `json:"name"`
	// Prefix is the start of the secret (e.g. "jct_ab12"); empty for older tokens.
	Prefix string `json:"prefix"`
	// CreatedBy is the e-mail of who created the token in the console; "" when it was
	// created on the command line (junction token create).
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// UserService manages users, their credentials and sign-in sessions.
type UserService interface {
	// CreateUser adds a user with a bcrypt hash of password. ECONFLICT if the e-mail is taken.
	CreateUser(ctx context.Context, user *User, password string) error
	// FindUserByEmail returns the user or ENOTFOUND.
	FindUserByEmail(ctx context.Context, email string) (*User, error)
	// CountUsers returns how many users exist.
	CountUsers(ctx context.Context) (int, error)
	// FindUsers lists users by e-mail; for admins.
	FindUsers(ctx context.Context, page Page) ([]*User, int, error)
	// Authenticate checks an e-mail and password. Any mismatch is EUNAUTHORIZED with one
	// generic message that does not tell which part was wrong.
	Authenticate(ctx context.Context, email, password string) (*User, error)

	// CreateToken creates a personal access token for the user and returns its secret,
	// which is not stored and cannot be shown again.
	CreateToken(ctx context.Context, userID int64, name string) (*Token, string, error)
	// FindUserByToken returns the owner of a personal access token, or EUNAUTHORIZED.
	FindUserByToken(ctx context.Context, secret string) (*User, error)
	// FindTokens lists the personal access tokens of the user in ctx, newest first.
	FindTokens(ctx context.Context) ([]*Token, error)
	// DeleteToken revokes one of the ctx user's tokens; ENOTFOUND for anyone else's.
	DeleteToken(ctx context.Context, id int64) error

	// CreateSession starts a sign-in session and returns its secret identifier.
	CreateSession(ctx context.Context, userID int64) (string, error)
	// FindUserBySession returns the user of a live session, or EUNAUTHORIZED.
	FindUserBySession(ctx context.Context, sessionID string) (*User, error)
	// DeleteSession ends a session; ending an unknown session is not an error.
	DeleteSession(ctx context.Context, sessionID string) error

	// SignInWithProvider finds or creates the user of an identity verified by an OpenID
	// Connect provider and applies the roles its groups grant, all in one transaction that
	// also records the sign-in (session.sign_in) in the audit log. The user is found by the
	// provider's subject, else linked by e-mail to an existing user, else created. A refused
	// sign-in is EFORBIDDEN and recorded as denied.
	SignInWithProvider(ctx context.Context, id ProviderIdentity, grants ProviderGrants) (*User, error)
	// SetSessionIDToken keeps the provider's ID token with a session (encrypted), for
	// signing out at the provider later.
	SetSessionIDToken(ctx context.Context, sessionID, idToken string) error
	// SessionIDToken returns the ID token kept with a session, or "" when there is none.
	SessionIDToken(ctx context.Context, sessionID string) (string, error)
}
