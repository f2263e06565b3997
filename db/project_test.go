package db_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

// projectFixture is a database with an admin, a developer and a viewer of project "shop",
// and a user who is a member of nothing.
type projectFixture struct {
	store *db.DB
	// path and key reopen the database, as another replica would.
	path                               string
	key                                []byte
	projects                           *db.ProjectService
	admin, developer, viewer, outsider *junction.User
}

func newProjectFixture(t *testing.T) *projectFixture {
	t.Helper()
	store, path, key := MustOpenDBWithKey(t)
	f := &projectFixture{
		store:     store,
		path:      path,
		key:       key,
		projects:  db.NewProjectService(store),
		admin:     MustCreateUser(t, store, "admin@example.com", true),
		developer: MustCreateUser(t, store, "dev@example.com", false),
		viewer:    MustCreateUser(t, store, "viewer@example.com", false),
		outsider:  MustCreateUser(t, store, "outsider@example.com", false),
	}
	MustCreateProject(t, store, f.admin, "shop", "Shop")
	MustSetMember(t, store, f.admin, "shop", f.developer.Email, junction.RoleDeveloper)
	MustSetMember(t, store, f.admin, "shop", f.viewer.Email, junction.RoleViewer)
	return f
}

func TestProjectService_CreateProject(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newProjectFixture(t)
		now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
		f.store.Now = func() time.Time { return now }

		p := &junction.Project{Name: "  Order Service ", Description: " Orders. "}
		require.NoError(t, f.projects.CreateProject(ContextAs(t, f.admin), p))
		require.NotZero(t, p.ID)
		require.Equal(t, "order-service", p.Handle, "handle derived from name")
		require.Equal(t, "Order Service", p.Name)
		require.Equal(t, junction.RoleAdmin, p.Role)
		require.True(t, p.CreatedAt.Equal(now))

		got, err := f.projects.FindProject(ContextAs(t, f.admin), "order-service")
		require.NoError(t, err)
		require.Equal(t, p.ID, got.ID)
		require.Equal(t, "Order Service", got.Name)
		require.Equal(t, "Orders.", got.Description)
		require.Equal(t, junction.RoleAdmin, got.Role)
		require.Zero(t, got.Components)
		require.True(t, got.CreatedAt.Equal(now), "created_at %v", got.CreatedAt)
		require.True(t, got.UpdatedAt.Equal(now))
	})

	t.Run("ErrNotAdmin", func(t *testing.T) {
		f := newProjectFixture(t)
		for _, user := range []*junction.User{f.developer, f.viewer, f.outsider} {
			err := f.projects.CreateProject(ContextAs(t, user), &junction.Project{Handle: "new", Name: "New"})
			require.Equal(t, junction.EFORBIDDEN, junction.ErrorCode(err), user.Email)
		}
		_, err := f.projects.FindProject(ContextAs(t, f.admin), "new")
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
	})

	t.Run("ErrAnonymous", func(t *testing.T) {
		f := newProjectFixture(t)
		err := f.projects.CreateProject(ContextAs(t, nil), &junction.Project{Handle: "new", Name: "New"})
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
	})

	t.Run("ErrHandleTaken", func(t *testing.T) {
		f := newProjectFixture(t)
		for _, p := range []*junction.Project{{Handle: "shop", Name: "Other"}, {Name: "Shop"}, {Handle: " shop ", Name: "Again"}} {
			err := f.projects.CreateProject(ContextAs(t, f.admin), p)
			require.Equal(t, junction.ECONFLICT, junction.ErrorCode(err), "%+v: %v", p, err)
			require.Contains(t, junction.ErrorFields(err), "handle")
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		f := newProjectFixture(t)
		tests := []struct {
			project junction.Project
			field   string
		}{
			{junction.Project{}, "name"},
			{junction.Project{Handle: "Bad_Handle", Name: "Bad"}, "handle"},
			{junction.Project{Name: "AB"}, "handle"},
			{junction.Project{Handle: "long-desc", Name: "Long", Description: strings.Repeat("d", 1001)}, "description"},
		}
		for _, tt := range tests {
			err := f.projects.CreateProject(ContextAs(t, f.admin), &tt.project)
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err), "%+v", tt.project)
			require.Contains(t, junction.ErrorFields(err), tt.field)
		}
	})
}

func TestProjectService_Visibility(t *testing.T) {
	f := newProjectFixture(t)
	MustCreateProject(t, f.store, f.admin, "billing", "Billing")
	MustCreateProject(t, f.store, f.admin, "admin-only", "Admin Only")
	MustSetMember(t, f.store, f.admin, "billing", f.viewer.Email, junction.RoleDeveloper)

	t.Run("FindProjectsShowsOnlyMemberships", func(t *testing.T) {
		tests := []struct {
			user  *junction.User
			roles map[string]junction.Role
		}{
			{f.admin, map[string]junction.Role{"admin-only": junction.RoleAdmin, "billing": junction.RoleAdmin, "shop": junction.RoleAdmin}},
			{f.developer, map[string]junction.Role{"shop": junction.RoleDeveloper}},
			{f.viewer, map[string]junction.Role{"billing": junction.RoleDeveloper, "shop": junction.RoleViewer}},
			{f.outsider, map[string]junction.Role{}},
		}
		for _, tt := range tests {
			t.Run(tt.user.Email, func(t *testing.T) {
				projects, total, err := f.projects.FindProjects(ContextAs(t, tt.user), junction.ProjectFilter{Page: junction.NewPage(1, 50)})
				require.NoError(t, err)
				require.Equal(t, len(tt.roles), total)
				got := map[string]junction.Role{}
				for _, p := range projects {
					got[p.Handle] = p.Role
				}
				require.Equal(t, tt.roles, got)
			})
		}
	})

	t.Run("FindProjectRole", func(t *testing.T) {
		for user, want := range map[*junction.User]junction.Role{f.admin: junction.RoleAdmin, f.developer: junction.RoleDeveloper, f.viewer: junction.RoleViewer} {
			p, err := f.projects.FindProject(ContextAs(t, user), "shop")
			require.NoError(t, err)
			require.Equal(t, want, p.Role, user.Email)
		}
	})

	t.Run("ErrNonMemberNotFound", func(t *testing.T) {
		ctx := ContextAs(t, f.outsider)
		_, err := f.projects.FindProject(ctx, "shop")
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
		name := "Hacked"
		_, err = f.projects.UpdateProject(ctx, "shop", junction.ProjectUpdate{Name: &name})
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
		_, err = f.projects.FindMembers(ctx, "shop")
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
		err = f.projects.DeleteProject(ctx, "shop", true)
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))

		// The error for a hidden project is the same as for a missing one.
		_, hidden := f.projects.FindProject(ctx, "shop")
		_, missing := f.projects.FindProject(ctx, "no-such-project")
		require.Equal(t, junction.ErrorCode(missing), junction.ErrorCode(hidden))
		require.Equal(t, strings.Replace(junction.ErrorMessage(missing), "no-such-project", "shop", 1), junction.ErrorMessage(hidden))

		p, err := f.projects.FindProject(ContextAs(t, f.admin), "shop")
		require.NoError(t, err)
		require.Equal(t, "Shop", p.Name, "the outsider's update must not have happened")
	})

	t.Run("ErrAnonymous", func(t *testing.T) {
		ctx := ContextAs(t, nil)
		_, _, err := f.projects.FindProjects(ctx, junction.ProjectFilter{Page: junction.NewPage(1, 10)})
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
		_, err = f.projects.FindProject(ctx, "shop")
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
		name := "x"
		_, err = f.projects.UpdateProject(ctx, "shop", junction.ProjectUpdate{Name: &name})
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
		err = f.projects.DeleteProject(ctx, "shop", false)
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
		_, err = f.projects.FindMembers(ctx, "shop")
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
		_, err = f.projects.SetMember(ctx, "shop", f.outsider.Email, junction.RoleViewer)
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
		err = f.projects.RemoveMember(ctx, "shop", f.viewer.Email)
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
	})
}

func TestProjectService_UpdateProject(t *testing.T) {
	tests := []struct {
		name     string
		user     func(*projectFixture) *junction.User
		wantCode string
	}{
		{"OKAdmin", func(f *projectFixture) *junction.User { return f.admin }, ""},
		{"OKDeveloper", func(f *projectFixture) *junction.User { return f.developer }, ""},
		{"ErrViewer", func(f *projectFixture) *junction.User { return f.viewer }, junction.EFORBIDDEN},
		{"ErrOutsider", func(f *projectFixture) *junction.User { return f.outsider }, junction.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newProjectFixture(t)
			created, err := f.projects.FindProject(ContextAs(t, f.admin), "shop")
			require.NoError(t, err)
			later := time.Now().Add(time.Hour).UTC()
			f.store.Now = func() time.Time { return later }

			name, desc := " Shop 2 ", "New description"
			p, err := f.projects.UpdateProject(ContextAs(t, tt.user(f)), "shop", junction.ProjectUpdate{Name: &name, Description: &desc})
			got, findErr := f.projects.FindProject(ContextAs(t, f.admin), "shop")
			require.NoError(t, findErr)
			if tt.wantCode != "" {
				require.Equal(t, tt.wantCode, junction.ErrorCode(err))
				require.Equal(t, "Shop", got.Name, "a refused update must change nothing")
				require.True(t, got.UpdatedAt.Equal(created.UpdatedAt))
				return
			}
			require.NoError(t, err)
			require.Equal(t, "Shop 2", p.Name)
			require.Equal(t, "shop", p.Handle, "the handle does not change")
			require.Equal(t, "Shop 2", got.Name)
			require.Equal(t, "New description", got.Description)
			require.True(t, got.UpdatedAt.After(created.UpdatedAt))
			require.True(t, got.CreatedAt.Equal(created.CreatedAt))
		})
	}

	t.Run("ErrInvalid", func(t *testing.T) {
		f := newProjectFixture(t)
		empty := ""
		_, err := f.projects.UpdateProject(ContextAs(t, f.admin), "shop", junction.ProjectUpdate{Name: &empty})
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorFields(err), "name")
		got, err := f.projects.FindProject(ContextAs(t, f.admin), "shop")
		require.NoError(t, err)
		require.Equal(t, "Shop", got.Name)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		f := newProjectFixture(t)
		name := "x"
		_, err := f.projects.UpdateProject(ContextAs(t, f.admin), "nope", junction.ProjectUpdate{Name: &name})
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
	})
}

func TestProjectService_DeleteProject(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newProjectFixture(t)
		require.NoError(t, f.projects.DeleteProject(ContextAs(t, f.admin), "shop", false))
		_, err := f.projects.FindProject(ContextAs(t, f.admin), "shop")
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))

		// Memberships went with it.
		var n int
		require.NoError(t, f.store.ReadPool().QueryRow(`SELECT COUNT(*) FROM project_members`).Scan(&n))
		require.Zero(t, n)

		// The handle can be used again.
		MustCreateProject(t, f.store, f.admin, "shop", "Shop Again")
	})

	t.Run("ErrHasComponents", func(t *testing.T) {
		f := newProjectFixture(t)
		MustCreateComponent(t, f.store, f.developer, "shop", "orders")
		err := f.projects.DeleteProject(ContextAs(t, f.admin), "shop", false)
		require.Equal(t, junction.ECONFLICT, junction.ErrorCode(err))
		_, err = f.projects.FindProject(ContextAs(t, f.admin), "shop")
		require.NoError(t, err, "the project must still exist")
	})

	t.Run("ForceDeletesComponents", func(t *testing.T) {
		f := newProjectFixture(t)
		MustCreateComponent(t, f.store, f.developer, "shop", "orders")
		MustCreateComponent(t, f.store, f.developer, "shop", "payments")
		require.NoError(t, f.projects.DeleteProject(ContextAs(t, f.admin), "shop", true))
		var n int
		require.NoError(t, f.store.ReadPool().QueryRow(`SELECT COUNT(*) FROM components`).Scan(&n))
		require.Zero(t, n)
	})

	t.Run("ErrNotAdmin", func(t *testing.T) {
		f := newProjectFixture(t)
		for _, user := range []*junction.User{f.developer, f.viewer} {
			err := f.projects.DeleteProject(ContextAs(t, user), "shop", true)
			require.Equal(t, junction.EFORBIDDEN, junction.ErrorCode(err), user.Email)
		}
		err := f.projects.DeleteProject(ContextAs(t, f.outsider), "shop", true)
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
		_, err = f.projects.FindProject(ContextAs(t, f.admin), "shop")
		require.NoError(t, err)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		f := newProjectFixture(t)
		err := f.projects.DeleteProject(ContextAs(t, f.admin), "nope", false)
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
	})
}

func TestProjectService_Members(t *testing.T) {
	t.Run("FindMembers", func(t *testing.T) {
		f := newProjectFixture(t)
		for _, user := range []*junction.User{f.admin, f.developer, f.viewer} {
			members, err := f.projects.FindMembers(ContextAs(t, user), "shop")
			require.NoError(t, err, user.Email)
			require.Equal(t, []*junction.Member{
				{Email: "dev@example.com", Role: junction.RoleDeveloper},
				{Email: "viewer@example.com", Role: junction.RoleViewer},
			}, members)
		}
	})

	t.Run("SetMemberOK", func(t *testing.T) {
		f := newProjectFixture(t)
		m, err := f.projects.SetMember(ContextAs(t, f.admin), "shop", " OUTSIDER@example.com ", junction.RoleViewer)
		require.NoError(t, err)
		require.Equal(t, &junction.Member{Email: "outsider@example.com", Role: junction.RoleViewer}, m)
		p, err := f.projects.FindProject(ContextAs(t, f.outsider), "shop")
		require.NoError(t, err)
		require.Equal(t, junction.RoleViewer, p.Role)
	})

	t.Run("ChangeRole", func(t *testing.T) {
		f := newProjectFixture(t)
		name := "Renamed"
		_, err := f.projects.UpdateProject(ContextAs(t, f.viewer), "shop", junction.ProjectUpdate{Name: &name})
		require.Equal(t, junction.EFORBIDDEN, junction.ErrorCode(err))

		_, err = f.projects.SetMember(ContextAs(t, f.admin), "shop", f.viewer.Email, junction.RoleDeveloper)
		require.NoError(t, err)
		p, err := f.projects.FindProject(ContextAs(t, f.viewer), "shop")
		require.NoError(t, err)
		require.Equal(t, junction.RoleDeveloper, p.Role)
		_, err = f.projects.UpdateProject(ContextAs(t, f.viewer), "shop", junction.ProjectUpdate{Name: &name})
		require.NoError(t, err, "the promoted viewer may now write")

		members, err := f.projects.FindMembers(ContextAs(t, f.admin), "shop")
		require.NoError(t, err)
		require.Len(t, members, 2, "changing a role must not add a second membership")

		_, err = f.projects.SetMember(ContextAs(t, f.admin), "shop", f.developer.Email, junction.RoleViewer)
		require.NoError(t, err)
		_, err = f.projects.UpdateProject(ContextAs(t, f.developer), "shop", junction.ProjectUpdate{Name: &name})
		require.Equal(t, junction.EFORBIDDEN, junction.ErrorCode(err), "the demoted developer may no longer write")
	})

	t.Run("ErrSetMember", func(t *testing.T) {
		f := newProjectFixture(t)
		tests := []struct {
			name     string
			user     *junction.User
			project  string
			email    string
			role     junction.Role
			wantCode string
			field    string
		}{
			{"ErrUnknownEmail", f.admin, "shop", "nobody@example.com", junction.RoleViewer, junction.EINVALID, "email"},
			{"ErrInvalidEmail", f.admin, "shop", "not-an-email", junction.RoleViewer, junction.EINVALID, "email"},
			{"ErrRoleAdmin", f.admin, "shop", f.outsider.Email, junction.RoleAdmin, junction.EINVALID, "role"},
			{"ErrRoleUnknown", f.admin, "shop", f.outsider.Email, "owner", junction.EINVALID, "role"},
			{"ErrRoleEmpty", f.admin, "shop", f.outsider.Email, "", junction.EINVALID, "role"},
			{"ErrProjectNotFound", f.admin, "nope", f.outsider.Email, junction.RoleViewer, junction.ENOTFOUND, ""},
			{"ErrDeveloper", f.developer, "shop", f.outsider.Email, junction.RoleViewer, junction.EFORBIDDEN, ""},
			{"ErrViewer", f.viewer, "shop", f.outsider.Email, junction.RoleViewer, junction.EFORBIDDEN, ""},
			// A user who cannot see the project learns nothing about it: 404, not 403.
			{"ErrOutsider", f.outsider, "shop", f.outsider.Email, junction.RoleDeveloper, junction.ENOTFOUND, ""},
			{"ErrOutsiderBadInput", f.outsider, "shop", "not-an-email", "owner", junction.ENOTFOUND, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				m, err := f.projects.SetMember(ContextAs(t, tt.user), tt.project, tt.email, tt.role)
				require.Nil(t, m)
				require.Equal(t, tt.wantCode, junction.ErrorCode(err), "%v", err)
				if tt.field != "" {
					require.Contains(t, junction.ErrorFields(err), tt.field)
				}
			})
		}
		members, err := f.projects.FindMembers(ContextAs(t, f.admin), "shop")
		require.NoError(t, err)
		require.Len(t, members, 2, "failed calls must not add members")
	})

	t.Run("RemoveMember", func(t *testing.T) {
		f := newProjectFixture(t)
		require.NoError(t, f.projects.RemoveMember(ContextAs(t, f.admin), "shop", "VIEWER@example.com"))
		_, err := f.projects.FindProject(ContextAs(t, f.viewer), "shop")
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err), "a removed member no longer sees the project")
		members, err := f.projects.FindMembers(ContextAs(t, f.admin), "shop")
		require.NoError(t, err)
		require.Equal(t, []*junction.Member{{Email: "dev@example.com", Role: junction.RoleDeveloper}}, members)

		err = f.projects.RemoveMember(ContextAs(t, f.admin), "shop", f.viewer.Email)
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err), "removing twice")
		err = f.projects.RemoveMember(ContextAs(t, f.admin), "shop", f.outsider.Email)
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err), "never a member")
		err = f.projects.RemoveMember(ContextAs(t, f.admin), "shop", "nobody@example.com")
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err), "unknown user")
		err = f.projects.RemoveMember(ContextAs(t, f.admin), "nope", f.developer.Email)
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err), "unknown project")
	})

	t.Run("ErrRemoveMemberNotAdmin", func(t *testing.T) {
		f := newProjectFixture(t)
		for _, user := range []*junction.User{f.developer, f.viewer} {
			err := f.projects.RemoveMember(ContextAs(t, user), "shop", f.viewer.Email)
			require.Equal(t, junction.EFORBIDDEN, junction.ErrorCode(err), user.Email)
		}
		err := f.projects.RemoveMember(ContextAs(t, f.outsider), "shop", f.viewer.Email)
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err), "outsiders get 404")
		members, err := f.projects.FindMembers(ContextAs(t, f.admin), "shop")
		require.NoError(t, err)
		require.Len(t, members, 2)
	})
}

func TestProjectService_FindProjects(t *testing.T) {
	store := MustOpenDB(t)
	admin := MustCreateUser(t, store, "admin@example.com", true)
	projects := db.NewProjectService(store)
	for i := range 7 {
		MustCreateProject(t, store, admin, fmt.Sprintf("p%02d", i), fmt.Sprintf("Project %02d", i))
	}
	MustCreateProject(t, store, admin, "sale-50-pct", "Sale 50% off")
	MustCreateProject(t, store, admin, "sale-50", "Sale 50 off")
	MustCreateProject(t, store, admin, "a-b", "a_b tools")
	MustCreateProject(t, store, admin, "axb", "axb tools")
	MustCreateProject(t, store, admin, "backslash", `back\slash`)
	ctx := ContextAs(t, admin)

	t.Run("Paging", func(t *testing.T) {
		tests := []struct {
			page, perPage int
			want          []string
		}{
			{1, 3, []string{"p00", "p01", "p02"}},
			{2, 3, []string{"p03", "p04", "p05"}},
			{3, 3, []string{"p06"}},
			{4, 3, nil},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("Page%dOf%d", tt.page, tt.perPage), func(t *testing.T) {
				list, total, err := projects.FindProjects(ctx, junction.ProjectFilter{Query: "Project", Page: junction.NewPage(tt.page, tt.perPage)})
				require.NoError(t, err)
				require.Equal(t, 7, total, "total counts every match, not only this page")
				require.Equal(t, tt.want, handles(list))
			})
		}
	})

	t.Run("OrderedByName", func(t *testing.T) {
		list, total, err := projects.FindProjects(ctx, junction.ProjectFilter{Page: junction.NewPage(1, 50)})
		require.NoError(t, err)
		require.Equal(t, 12, total)
		require.Len(t, list, 12)
		for i := 1; i < len(list); i++ {
			require.LessOrEqual(t, strings.ToLower(list[i-1].Name), strings.ToLower(list[i].Name))
		}
	})

	t.Run("Query", func(t *testing.T) {
		tests := []struct {
			name  string
			query string
			want  []string
		}{
			{"ByName", "project 0", []string{"p00", "p01", "p02", "p03", "p04", "p05", "p06"}},
			{"ByHandle", "p03", []string{"p03"}},
			{"CaseInsensitive", "SALE", []string{"sale-50", "sale-50-pct"}},
			{"Trimmed", "  axb  ", []string{"axb"}},
			{"PercentIsLiteral", "50%", []string{"sale-50-pct"}},
			{"OnlyPercent", "%", []string{"sale-50-pct"}},
			{"UnderscoreIsLiteral", "a_b", []string{"a-b"}},
			{"OnlyUnderscore", "_", []string{"a-b"}},
			{"BackslashIsLiteral", `k\s`, []string{"backslash"}},
			{"NoMatch", "zzz", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				list, total, err := projects.FindProjects(ctx, junction.ProjectFilter{Query: tt.query, Page: junction.NewPage(1, 50)})
				require.NoError(t, err)
				require.Equal(t, len(tt.want), total)
				require.ElementsMatch(t, tt.want, handles(list))
			})
		}
	})

	t.Run("ComponentCount", func(t *testing.T) {
		MustCreateComponent(t, store, admin, "p00", "one")
		MustCreateComponent(t, store, admin, "p00", "two")
		list, _, err := projects.FindProjects(ctx, junction.ProjectFilter{Query: "p00", Page: junction.NewPage(1, 50)})
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, 2, list[0].Components)
	})
}

func handles(projects []*junction.Project) []string {
	var out []string
	for _, p := range projects {
		out = append(out, p.Handle)
	}
	return out
}
