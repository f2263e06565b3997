package db_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

const testIssuer = "https://idp.example.com"

func identity(subject, email string, groups ...string) junction.ProviderIdentity {
	return junction.ProviderIdentity{Issuer: testIssuer, Subject: subject, Email: email, Name: "Name of " + subject, Groups: groups}
}

func lastSignIn(t *testing.T, store *db.DB, admin *junction.User) *junction.AuditEntry {
	t.Helper()
	entries, _, err := db.NewAuditService(store).FindAudit(ContextAs(t, admin), junction.AuditFilter{Action: "session.sign_in", Page: junction.NewPage(1, 1)})
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	return entries[0]
}

func TestSignInWithProvider(t *testing.T) {
	ctx := context.Background()
	none := junction.ProviderGrants{}

	t.Run("OKCreatesUser", func(t *testing.T) {
		store := MustOpenDB(t)
		admin := MustCreateUser(t, store, "root@example.com", true)
		users := NewUserService(store)
		user, err := users.SignInWithProvider(ctx, identity("s1", " Ada@Example.COM "), none)
		require.NoError(t, err)
		require.NotZero(t, user.ID)
		require.Equal(t, "ada@example.com", user.Email)
		require.Equal(t, "Name of s1", user.Name)
		require.False(t, user.IsAdmin)
		found, err := users.FindUserByEmail(ctx, "ada@example.com")
		require.NoError(t, err)
		require.Equal(t, user.ID, found.ID)
		require.Equal(t, "Name of s1", found.Name)

		entry := lastSignIn(t, store, admin)
		require.Equal(t, "ada@example.com", entry.Actor)
		require.Equal(t, "session.sign_in", entry.Action)
		require.Equal(t, junction.AuditTarget{Type: "session", ID: "ada@example.com", Name: "oidc issuer=" + testIssuer + " subject=s1"}, entry.Target)
		require.Equal(t, junction.OutcomeOK, entry.Outcome)
		require.Equal(t, map[string]any{"method": "oidc", "issuer": testIssuer, "subject": "s1"}, entry.Details, "the provider's subject is kept")

		_, err = users.Authenticate(ctx, "ada@example.com", "")
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err), "no password to sign in with")
		require.Equal(t, junction.OutcomeDenied, lastSignIn(t, store, admin).Outcome, "a refused password sign-in is recorded")

		again, err := users.SignInWithProvider(ctx, identity("s1", "ada@example.com"), none)
		require.NoError(t, err)
		require.Equal(t, user.ID, again.ID)
	})
	t.Run("OKLinksByEmail", func(t *testing.T) {
		store := MustOpenDB(t)
		existing := MustCreateUser(t, store, "ada@example.com", true)
		users := NewUserService(store)
		user, err := users.SignInWithProvider(ctx, identity("s1", "ADA@example.com"), none)
		require.NoError(t, err)
		require.Equal(t, existing.ID, user.ID)
		require.True(t, user.IsAdmin, "an admin made by hand stays admin")
		_, err = users.Authenticate(ctx, "ada@example.com", TestPassword)
		require.NoError(t, err, "the password still works")
		n, _ := users.CountUsers(ctx)
		require.Equal(t, 1, n)
	})
	t.Run("OKFollowsEmailChange", func(t *testing.T) {
		store := MustOpenDB(t)
		users := NewUserService(store)
		first, err := users.SignInWithProvider(ctx, identity("s1", "ada@example.com"), none)
		require.NoError(t, err)
		user, err := users.SignInWithProvider(ctx, identity("s1", "ada.lovelace@example.com"), none)
		require.NoError(t, err)
		require.Equal(t, first.ID, user.ID)
		require.Equal(t, "ada.lovelace@example.com", user.Email)
		_, err = users.FindUserByEmail(ctx, "ada@example.com")
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
	})
	t.Run("OKSameSubjectOtherIssuer", func(t *testing.T) {
		store := MustOpenDB(t)
		users := NewUserService(store)
		a, err := users.SignInWithProvider(ctx, identity("s1", "ada@example.com"), none)
		require.NoError(t, err)
		other := identity("s1", "bob@example.com")
		other.Issuer = "https://other.example.com"
		b, err := users.SignInWithProvider(ctx, other, none)
		require.NoError(t, err)
		require.NotEqual(t, a.ID, b.ID, "a subject is only unique within its issuer")
	})

	refused := []struct {
		name    string
		arrange func(t *testing.T, store *db.DB, users *db.UserService)
		id      junction.ProviderIdentity
		msg     string
	}{
		{"ErrUnverifiedEmail", nil, func() junction.ProviderIdentity {
			id, no := identity("s1", "ada@example.com"), false
			id.EmailVerified = &no
			return id
		}(), "is not verified"},
		{"ErrNoEmail", nil, identity("s1", ""), "did not give an e-mail address"},
		{"ErrEmailLinkedToOtherSubject", func(t *testing.T, store *db.DB, users *db.UserService) {
			_, err := users.SignInWithProvider(ctx, identity("s0", "ada@example.com"), none)
			require.NoError(t, err)
		}, identity("s1", "ada@example.com"), "linked to a different account at the identity provider"},
		{"ErrNewEmailTaken", func(t *testing.T, store *db.DB, users *db.UserService) {
			_, err := users.SignInWithProvider(ctx, identity("s1", "ada@example.com"), none)
			require.NoError(t, err)
			MustCreateUser(t, store, "bob@example.com", false)
		}, identity("s1", "bob@example.com"), "another Junction user already has that address"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			store := MustOpenDB(t)
			admin := MustCreateUser(t, store, "root@example.com", true)
			users := NewUserService(store)
			if tt.arrange != nil {
				tt.arrange(t, store, users)
			}
			before, _ := users.CountUsers(ctx)
			user, err := users.SignInWithProvider(ctx, tt.id, junction.ProviderGrants{Admin: true})
			require.Nil(t, user)
			require.Equal(t, junction.EFORBIDDEN, junction.ErrorCode(err))
			require.Contains(t, junction.ErrorMessage(err), tt.msg)
			after, _ := users.CountUsers(ctx)
			require.Equal(t, before, after, "no user created")
			entry := lastSignIn(t, store, admin)
			require.Equal(t, "denied", entry.Outcome)
			require.Equal(t, tt.id.AuditTarget(), entry.Target.Name)
			if tt.id.Email != "" {
				require.Equal(t, junction.NormalizeEmail(tt.id.Email), entry.Actor)
			} else {
				require.Equal(t, "anonymous", entry.Actor)
			}
		})
	}
}

func TestSignInWithProviderGrants(t *testing.T) {
	ctx := context.Background()
	store := MustOpenDB(t)
	admin := MustCreateUser(t, store, "root@example.com", true)
	for _, h := range []string{"shop", "blog", "docs"} {
		MustCreateProject(t, store, admin, h, h)
	}
	users := NewUserService(store)
	projects := db.NewProjectService(store)
	signIn := func(grants junction.ProviderGrants) *junction.User {
		t.Helper()
		user, err := users.SignInWithProvider(ctx, identity("s1", "dev@example.com"), grants)
		require.NoError(t, err)
		return user
	}
	roles := func() map[string]junction.Role {
		t.Helper()
		out := map[string]junction.Role{}
		for _, h := range []string{"shop", "blog", "docs"} {
			members, err := projects.FindMembers(ContextAs(t, admin), h)
			require.NoError(t, err)
			for _, m := range members {
				if m.Email == "dev@example.com" {
					out[h] = m.Role
				}
			}
		}
		return out
	}
	dev, viewer := junction.RoleDeveloper, junction.RoleViewer

	user := signIn(junction.ProviderGrants{Admin: true, Projects: map[string]junction.Role{"shop": dev, "blog": viewer, "nope": dev}})
	require.True(t, user.IsAdmin)
	require.Equal(t, map[string]junction.Role{"shop": dev, "blog": viewer}, roles(), "an unknown project is skipped")
	found, err := users.FindUserByEmail(ctx, "dev@example.com")
	require.NoError(t, err)
	require.True(t, found.IsAdmin)

	MustSetMember(t, store, admin, "docs", "dev@example.com", viewer)
	user = signIn(junction.ProviderGrants{Projects: map[string]junction.Role{"shop": viewer, "docs": dev}})
	require.False(t, user.IsAdmin, "admin granted by the provider goes with the group")
	require.Equal(t, map[string]junction.Role{"shop": viewer, "docs": viewer}, roles(),
		"provider roles change and go; the role set by hand in docs stays as it was")

	MustSetMember(t, store, admin, "shop", "dev@example.com", dev)
	signIn(junction.ProviderGrants{})
	require.Equal(t, map[string]junction.Role{"shop": dev, "docs": viewer}, roles(), "a role an admin changed by hand is no longer the provider's")

	require.NoError(t, projects.RemoveMember(ContextAs(t, admin), "docs", "dev@example.com"))
	signIn(junction.ProviderGrants{Projects: map[string]junction.Role{"docs": dev}})
	require.Equal(t, dev, roles()["docs"], "removed by hand, granted again by the groups")
}

func TestSessionIDToken(t *testing.T) {
	ctx := context.Background()
	store := MustOpenDB(t)
	user := MustCreateUser(t, store, "ada@example.com", false)
	users := NewUserService(store)
	const idToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzMSJ9.c2lnbmF0dXJl"

	sid, err := users.CreateSession(ctx, user.ID)
	require.NoError(t, err)
	got, err := users.SessionIDToken(ctx, sid)
	require.NoError(t, err)
	require.Empty(t, got, "a password session has none")

	require.NoError(t, users.SetSessionIDToken(ctx, sid, idToken))
	got, err = users.SessionIDToken(ctx, sid)
	require.NoError(t, err)
	require.Equal(t, idToken, got)

	var stored string
	require.NoError(t, store.ReadPool().QueryRowContext(ctx, `SELECT id_token FROM sessions`).Scan(&stored))
	require.NotContains(t, stored, "eyJ", "sealed at rest")

	require.NoError(t, users.DeleteSession(ctx, sid))
	got, err = users.SessionIDToken(ctx, sid)
	require.NoError(t, err)
	require.Empty(t, got)
	require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(users.SetSessionIDToken(ctx, sid, idToken)))
}
