package db_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

// TestPassword is the password MustCreateUser gives every user.
const TestPassword = "correct horse battery"

// MustOpenDB opens a new database in a file under tb.TempDir() with a random key and closes
// it when the test ends. It is a real file, not :memory:, because each pooled connection to
// :memory: would get its own empty database.
func MustOpenDB(tb testing.TB) *db.DB {
	tb.Helper()
	store, _, _ := MustOpenDBWithKey(tb)
	return store
}

// MustOpenDBWithKey is MustOpenDB that also returns the file's path and the key, for tests
// that reopen the database.
func MustOpenDBWithKey(tb testing.TB) (store *db.DB, path string, key []byte) {
	tb.Helper()
	path = filepath.Join(tb.TempDir(), "junction.db")
	key = RandomKey(tb)
	store = MustReopenDB(tb, path, key)
	return store, path, key
}

// MustReopenDB opens the database at path with key and closes it when the test ends.
func MustReopenDB(tb testing.TB, path string, key []byte) *db.DB {
	tb.Helper()
	store, err := db.Open(context.Background(), path, key)
	if err != nil {
		tb.Fatalf("open database: %v", err)
	}
	tb.Cleanup(func() {
		if err := store.Close(); err != nil {
			tb.Errorf("close database: %v", err)
		}
	})
	return store
}

// RandomKey returns a new random 32-byte key.
func RandomKey(tb testing.TB) []byte {
	tb.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		tb.Fatal(err)
	}
	return key
}

// NewUserService returns a UserService with the cheapest bcrypt cost, to keep tests fast.
func NewUserService(store *db.DB) *db.UserService {
	s := db.NewUserService(store)
	s.PasswordCost = bcrypt.MinCost
	return s
}

// MustCreateUser creates a user with TestPassword.
func MustCreateUser(tb testing.TB, store *db.DB, email string, admin bool) *junction.User {
	tb.Helper()
	user := &junction.User{Email: email, IsAdmin: admin}
	if err := NewUserService(store).CreateUser(context.Background(), user, TestPassword); err != nil {
		tb.Fatalf("create user %s: %v", email, err)
	}
	return user
}

// ContextAs returns a context in which user is signed in. A nil user gives an anonymous
// context.
func ContextAs(tb testing.TB, user *junction.User) context.Context {
	tb.Helper()
	if user == nil {
		return tb.Context()
	}
	return junction.NewContextWithUser(tb.Context(), user)
}

// MustCreateProject creates a project as admin.
func MustCreateProject(tb testing.TB, store *db.DB, admin *junction.User, handle, name string) *junction.Project {
	tb.Helper()
	p := &junction.Project{Handle: handle, Name: name}
	if err := db.NewProjectService(store).CreateProject(ContextAs(tb, admin), p); err != nil {
		tb.Fatalf("create project %s: %v", handle, err)
	}
	return p
}

// MustSetMember makes the user with email a member of project with role, acting as admin.
func MustSetMember(tb testing.TB, store *db.DB, admin *junction.User, project, email string, role junction.Role) {
	tb.Helper()
	if _, err := db.NewProjectService(store).SetMember(ContextAs(tb, admin), project, email, role); err != nil {
		tb.Fatalf("set member %s of %s: %v", email, project, err)
	}
}

// MustCreateComponent creates a component as user.
func MustCreateComponent(tb testing.TB, store *db.DB, user *junction.User, project, handle string) *junction.Component {
	tb.Helper()
	c := &junction.Component{Handle: handle, Name: handle}
	if err := db.NewComponentService(store).CreateComponent(ContextAs(tb, user), project, c); err != nil {
		tb.Fatalf("create component %s/%s: %v", project, handle, err)
	}
	return c
}
