package db_test

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
	"github.com/junction-dev/junction/internal/pgtest"
)

// TestMain removes the benchmark catalogs and stops the PostgreSQL server that the tests
// started, if any.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, removeBenchCatalogs)) }

// testEngine is the engine MustOpenDB opens: JUNCTION_TEST_DB=postgres runs the whole store
// suite on PostgreSQL (make test runs it on both engines).
func testEngine() string {
	if os.Getenv("JUNCTION_TEST_DB") == "postgres" {
		return "postgres"
	}
	return "sqlite"
}

// TestPassword is the password MustCreateUser gives every user.
const TestPassword = "correct horse battery"

// MustOpenDB opens a new database of the test engine with a random key and closes it when the
// test ends: a file under tb.TempDir() (not :memory:, which gives each pooled connection its
// own empty database) or a fresh PostgreSQL database.
func MustOpenDB(tb testing.TB) *db.DB {
	tb.Helper()
	store, _, _ := MustOpenDBWithKey(tb)
	return store
}

// MustOpenDBWithKey is MustOpenDB that also returns the file's path (or the database's URL)
// and the key, for tests that reopen the database.
func MustOpenDBWithKey(tb testing.TB) (store *db.DB, path string, key []byte) {
	tb.Helper()
	if testEngine() == "postgres" {
		path = pgtest.NewDatabase(tb)
	} else {
		path = filepath.Join(tb.TempDir(), "junction.db")
	}
	key = RandomKey(tb)
	store = MustReopenDB(tb, path, key)
	return store, path, key
}

// MustOpenSQLite is MustOpenDBWithKey on SQLite whatever the test engine, for tests of what
// only SQLite has: files, pragmas, FTS5, VACUUM INTO backups.
func MustOpenSQLite(tb testing.TB) (store *db.DB, path string, key []byte) {
	tb.Helper()
	path = filepath.Join(tb.TempDir(), "junction.db")
	key = RandomKey(tb)
	return MustReopenDB(tb, path, key), path, key
}

// MustOpenPostgres is MustOpenDBWithKey on PostgreSQL whatever the test engine, for tests of
// what only PostgreSQL does: many processes on one database.
func MustOpenPostgres(tb testing.TB) (store *db.DB, url string, key []byte) {
	tb.Helper()
	url = pgtest.NewDatabase(tb)
	key = RandomKey(tb)
	return MustReopenDB(tb, url, key), url, key
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

// storedBytes returns what the database holds, for tests that search it for secrets: on
// SQLite the bytes of the file and its WAL after closing the store; on PostgreSQL every cell of
// every table.
func storedBytes(tb testing.TB, store *db.DB, path string) []byte {
	tb.Helper()
	if testEngine() == "sqlite" {
		if err := store.Close(); err != nil {
			tb.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		wal, err := os.ReadFile(path + "-wal")
		if err != nil && !os.IsNotExist(err) {
			tb.Fatal(err)
		}
		return append(data, wal...)
	}
	tables, err := store.TableNames(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	var all []byte
	for _, table := range tables {
		rows, err := store.ReadPool().QueryContext(tb.Context(), `SELECT * FROM "`+table+`"`)
		if err != nil {
			tb.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatal(err)
			}
			for _, v := range vals {
				switch v := v.(type) {
				case string:
					all = append(append(all, v...), 0)
				case []byte:
					all = append(append(all, v...), 0)
				}
			}
		}
		rows.Close()
	}
	return all
}
