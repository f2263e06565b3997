package db_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

func TestEnvironmentService(t *testing.T) {
	names := func(envs []*junction.Environment) []string {
		var out []string
		for _, e := range envs {
			out = append(out, e.Name)
		}
		return out
	}

	t.Run("Seeded", func(t *testing.T) {
		store := MustOpenDB(t)
		user := MustCreateUser(t, store, "dev@example.com", false)
		envs, err := db.NewEnvironmentService(store).FindEnvironments(ContextAs(t, user))
		require.NoError(t, err)
		require.Equal(t, []string{"development", "production"}, names(envs))
	})

	t.Run("ErrAnonymous", func(t *testing.T) {
		store := MustOpenDB(t)
		envs := db.NewEnvironmentService(store)
		_, err := envs.FindEnvironments(ContextAs(t, nil))
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
		err = envs.CreateEnvironment(ContextAs(t, nil), &junction.Environment{Name: "staging"})
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
	})

	t.Run("CreateOK", func(t *testing.T) {
		store := MustOpenDB(t)
		admin := MustCreateUser(t, store, "admin@example.com", true)
		user := MustCreateUser(t, store, "dev@example.com", false)
		envs := db.NewEnvironmentService(store)

		env := &junction.Environment{Name: "  staging "}
		require.NoError(t, envs.CreateEnvironment(ContextAs(t, admin), env))
		require.Equal(t, "staging", env.Name)
		require.NoError(t, envs.CreateEnvironment(ContextAs(t, admin), &junction.Environment{Name: "qa-eu"}))

		list, err := envs.FindEnvironments(ContextAs(t, user))
		require.NoError(t, err)
		require.Equal(t, []string{"development", "production", "staging", "qa-eu"}, names(list), "listed in the order added")
	})

	tests := []struct {
		name     string
		admin    bool
		env      string
		wantCode string
	}{
		{"ErrDuplicateSeeded", true, "development", junction.ECONFLICT},
		{"ErrDuplicateProduction", true, "production", junction.ECONFLICT},
		{"ErrDuplicateTrimmed", true, " production ", junction.ECONFLICT},
		{"ErrNotAdmin", false, "staging", junction.EFORBIDDEN},
		{"ErrNotAdminDuplicate", false, "development", junction.EFORBIDDEN},
		{"ErrEmpty", true, "", junction.EINVALID},
		{"ErrTooShort", true, "qa", junction.EINVALID},
		{"ErrUpperCase", true, "Staging", junction.EINVALID},
		{"ErrStartsWithDigit", true, "1-stage", junction.EINVALID},
		{"ErrUnderscore", true, "pre_prod", junction.EINVALID},
		{"ErrTooLong", true, "a123456789012345678901234567890123", junction.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := MustOpenDB(t)
			user := MustCreateUser(t, store, "user@example.com", tt.admin)
			envs := db.NewEnvironmentService(store)

			err := envs.CreateEnvironment(ContextAs(t, user), &junction.Environment{Name: tt.env})
			require.Equal(t, tt.wantCode, junction.ErrorCode(err), "%v", err)
			if tt.wantCode == junction.ECONFLICT || tt.wantCode == junction.EINVALID {
				require.Contains(t, junction.ErrorFields(err), "name")
			}
			list, err := envs.FindEnvironments(ContextAs(t, user))
			require.NoError(t, err)
			require.Equal(t, []string{"development", "production"}, names(list), "a refused create adds nothing")
		})
	}

	t.Run("ErrDuplicateAdded", func(t *testing.T) {
		store := MustOpenDB(t)
		admin := MustCreateUser(t, store, "admin@example.com", true)
		envs := db.NewEnvironmentService(store)
		require.NoError(t, envs.CreateEnvironment(ContextAs(t, admin), &junction.Environment{Name: "staging"}))
		err := envs.CreateEnvironment(ContextAs(t, admin), &junction.Environment{Name: "staging"})
		require.Equal(t, junction.ECONFLICT, junction.ErrorCode(err))
	})
}
