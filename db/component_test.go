package db_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

func TestComponentService_CreateComponent(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newProjectFixture(t)
		components := db.NewComponentService(f.store)
		now := time.Date(2030, 3, 4, 5, 6, 7, 0, time.UTC)
		f.store.Now = func() time.Time { return now }

		for _, user := range []*junction.User{f.admin, f.developer} {
			c := &junction.Component{Name: "Order Worker " + user.Email[:3]}
			require.NoError(t, components.CreateComponent(ContextAs(t, user), "shop", c), user.Email)
			require.NotZero(t, c.ID)
			require.Equal(t, "order-worker-"+user.Email[:3], c.Handle)
			require.Equal(t, junction.ComponentTypeService, c.Type, "type defaults to service")
			require.Equal(t, "shop", c.Project)
			require.True(t, c.CreatedAt.Equal(now))

			got, err := components.FindComponent(ContextAs(t, f.viewer), "shop", c.Handle)
			require.NoError(t, err)
			require.Equal(t, c.ID, got.ID)
			require.Equal(t, c.Name, got.Name)
			require.Equal(t, junction.ComponentTypeService, got.Type)
			require.Equal(t, "shop", got.Project)
			require.True(t, got.CreatedAt.Equal(now))
		}

		p, err := f.projects.FindProject(ContextAs(t, f.admin), "shop")
		require.NoError(t, err)
		require.Equal(t, 2, p.Components)
	})

	t.Run("ErrHandleTaken", func(t *testing.T) {
		f := newProjectFixture(t)
		components := db.NewComponentService(f.store)
		MustCreateProject(t, f.store, f.admin, "billing", "Billing")
		MustCreateComponent(t, f.store, f.developer, "shop", "orders")

		err := components.CreateComponent(ContextAs(t, f.developer), "shop", &junction.Component{Handle: "orders", Name: "Other"})
		require.Equal(t, junction.ECONFLICT, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorFields(err), "handle")

		// The same handle is fine in another project.
		other := &junction.Component{Handle: "orders", Name: "Orders", Type: junction.ComponentTypeWebhook}
		require.NoError(t, components.CreateComponent(ContextAs(t, f.admin), "billing", other))
		got, err := components.FindComponent(ContextAs(t, f.admin), "billing", "orders")
		require.NoError(t, err)
		require.Equal(t, junction.ComponentTypeWebhook, got.Type)
		require.Equal(t, "billing", got.Project)
	})

	tests := []struct {
		name      string
		user      func(*projectFixture) *junction.User
		project   string
		component junction.Component
		wantCode  string
		field     string
	}{
		{"ErrViewer", func(f *projectFixture) *junction.User { return f.viewer }, "shop", junction.Component{Handle: "x-api", Name: "X"}, junction.EFORBIDDEN, ""},
		{"ErrOutsider", func(f *projectFixture) *junction.User { return f.outsider }, "shop", junction.Component{Handle: "x-api", Name: "X"}, junction.ENOTFOUND, ""},
		{"ErrAnonymous", func(*projectFixture) *junction.User { return nil }, "shop", junction.Component{Handle: "x-api", Name: "X"}, junction.EUNAUTHORIZED, ""},
		{"ErrProjectNotFound", func(f *projectFixture) *junction.User { return f.admin }, "nope", junction.Component{Handle: "x-api", Name: "X"}, junction.ENOTFOUND, ""},
		{"ErrInvalidType", func(f *projectFixture) *junction.User { return f.admin }, "shop", junction.Component{Handle: "x-api", Name: "X", Type: "lambda"}, junction.EINVALID, "type"},
		{"ErrInvalidHandle", func(f *projectFixture) *junction.User { return f.admin }, "shop", junction.Component{Handle: "X_API", Name: "X"}, junction.EINVALID, "handle"},
		{"ErrNoName", func(f *projectFixture) *junction.User { return f.admin }, "shop", junction.Component{Handle: "x-api"}, junction.EINVALID, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newProjectFixture(t)
			components := db.NewComponentService(f.store)
			c := tt.component
			err := components.CreateComponent(ContextAs(t, tt.user(f)), tt.project, &c)
			require.Equal(t, tt.wantCode, junction.ErrorCode(err), "%v", err)
			if tt.field != "" {
				require.Contains(t, junction.ErrorFields(err), tt.field)
			}
			var n int
			require.NoError(t, f.store.ReadPool().QueryRow(`SELECT COUNT(*) FROM components`).Scan(&n))
			require.Zero(t, n)
		})
	}
}

func TestComponentService_Find(t *testing.T) {
	f := newProjectFixture(t)
	components := db.NewComponentService(f.store)
	for _, h := range []string{"delta", "alpha", "charlie", "bravo"} {
		MustCreateComponent(t, f.store, f.developer, "shop", h)
	}

	t.Run("List", func(t *testing.T) {
		for _, user := range []*junction.User{f.admin, f.developer, f.viewer} {
			list, total, err := components.FindComponents(ContextAs(t, user), "shop", junction.NewPage(1, 50))
			require.NoError(t, err, user.Email)
			require.Equal(t, 4, total)
			require.Equal(t, []string{"alpha", "bravo", "charlie", "delta"}, componentHandles(list), "ordered by name")
		}
	})

	t.Run("Paging", func(t *testing.T) {
		tests := []struct {
			page, perPage int
			want          []string
		}{
			{1, 3, []string{"alpha", "bravo", "charlie"}},
			{2, 3, []string{"delta"}},
			{3, 3, nil},
		}
		for _, tt := range tests {
			list, total, err := components.FindComponents(ContextAs(t, f.viewer), "shop", junction.NewPage(tt.page, tt.perPage))
			require.NoError(t, err)
			require.Equal(t, 4, total)
			require.Equal(t, tt.want, componentHandles(list))
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := components.FindComponent(ContextAs(t, f.admin), "shop", "nope")
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
		_, err = components.FindComponent(ContextAs(t, f.admin), "nope", "alpha")
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
		_, _, err = components.FindComponents(ContextAs(t, f.admin), "nope", junction.NewPage(1, 10))
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
	})

	t.Run("ErrOutsiderNotFound", func(t *testing.T) {
		ctx := ContextAs(t, f.outsider)
		_, err := components.FindComponent(ctx, "shop", "alpha")
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
		list, _, err := components.FindComponents(ctx, "shop", junction.NewPage(1, 10))
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
		require.Empty(t, list)
	})

	t.Run("ErrAnonymous", func(t *testing.T) {
		_, err := components.FindComponent(ContextAs(t, nil), "shop", "alpha")
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
		_, _, err = components.FindComponents(ContextAs(t, nil), "shop", junction.NewPage(1, 10))
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
	})
}

func TestComponentService_UpdateComponent(t *testing.T) {
	tests := []struct {
		name     string
		user     func(*projectFixture) *junction.User
		wantCode string
	}{
		{"OKAdmin", func(f *projectFixture) *junction.User { return f.admin }, ""},
		{"OKDeveloper", func(f *projectFixture) *junction.User { return f.developer }, ""},
		{"ErrViewer", func(f *projectFixture) *junction.User { return f.viewer }, junction.EFORBIDDEN},
		{"ErrOutsider", func(f *projectFixture) *junction.User { return f.outsider }, junction.ENOTFOUND},
		{"ErrAnonymous", func(*projectFixture) *junction.User { return nil }, junction.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newProjectFixture(t)
			components := db.NewComponentService(f.store)
			created := MustCreateComponent(t, f.store, f.developer, "shop", "orders")
			f.store.Now = func() time.Time { return time.Now().Add(time.Hour) }

			name, typ := "Order Jobs", junction.ComponentTypeScheduledTask
			c, err := components.UpdateComponent(ContextAs(t, tt.user(f)), "shop", "orders", junction.ComponentUpdate{Name: &name, Type: &typ})
			got, findErr := components.FindComponent(ContextAs(t, f.admin), "shop", "orders")
			require.NoError(t, findErr)
			if tt.wantCode != "" {
				require.Equal(t, tt.wantCode, junction.ErrorCode(err))
				require.Equal(t, "orders", got.Name, "a refused update must change nothing")
				require.Equal(t, junction.ComponentTypeService, got.Type)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "Order Jobs", c.Name)
			require.Equal(t, "Order Jobs", got.Name)
			require.Equal(t, junction.ComponentTypeScheduledTask, got.Type)
			require.Equal(t, "orders", got.Handle)
			require.True(t, got.UpdatedAt.After(created.UpdatedAt))
			require.True(t, got.CreatedAt.Equal(created.CreatedAt))
		})
	}

	t.Run("ErrInvalidType", func(t *testing.T) {
		f := newProjectFixture(t)
		components := db.NewComponentService(f.store)
		MustCreateComponent(t, f.store, f.developer, "shop", "orders")
		typ := junction.ComponentType("mainframe")
		_, err := components.UpdateComponent(ContextAs(t, f.developer), "shop", "orders", junction.ComponentUpdate{Type: &typ})
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorFields(err), "type")
		got, err := components.FindComponent(ContextAs(t, f.developer), "shop", "orders")
		require.NoError(t, err)
		require.Equal(t, junction.ComponentTypeService, got.Type)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		f := newProjectFixture(t)
		components := db.NewComponentService(f.store)
		name := "x"
		_, err := components.UpdateComponent(ContextAs(t, f.developer), "shop", "nope", junction.ComponentUpdate{Name: &name})
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
	})
}

func TestComponentService_DeleteComponent(t *testing.T) {
	tests := []struct {
		name     string
		user     func(*projectFixture) *junction.User
		wantCode string
	}{
		{"OKAdmin", func(f *projectFixture) *junction.User { return f.admin }, ""},
		{"OKDeveloper", func(f *projectFixture) *junction.User { return f.developer }, ""},
		{"ErrViewer", func(f *projectFixture) *junction.User { return f.viewer }, junction.EFORBIDDEN},
		{"ErrOutsider", func(f *projectFixture) *junction.User { return f.outsider }, junction.ENOTFOUND},
		{"ErrAnonymous", func(*projectFixture) *junction.User { return nil }, junction.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newProjectFixture(t)
			components := db.NewComponentService(f.store)
			MustCreateComponent(t, f.store, f.developer, "shop", "orders")
			MustCreateComponent(t, f.store, f.developer, "shop", "payments")

			err := components.DeleteComponent(ContextAs(t, tt.user(f)), "shop", "orders")
			_, findErr := components.FindComponent(ContextAs(t, f.admin), "shop", "orders")
			if tt.wantCode != "" {
				require.Equal(t, tt.wantCode, junction.ErrorCode(err))
				require.NoError(t, findErr, "a refused delete must keep the component")
				return
			}
			require.NoError(t, err)
			require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(findErr))
			_, err = components.FindComponent(ContextAs(t, f.admin), "shop", "payments")
			require.NoError(t, err, "only the named component is deleted")

			err = components.DeleteComponent(ContextAs(t, tt.user(f)), "shop", "orders")
			require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err), "deleting twice")
		})
	}
}

func TestComponentService_ProjectDeleteCascades(t *testing.T) {
	f := newProjectFixture(t)
	components := db.NewComponentService(f.store)
	MustCreateProject(t, f.store, f.admin, "billing", "Billing")
	MustCreateComponent(t, f.store, f.developer, "shop", "orders")
	MustCreateComponent(t, f.store, f.developer, "shop", "payments")
	MustCreateComponent(t, f.store, f.admin, "billing", "orders")

	require.NoError(t, f.projects.DeleteProject(ContextAs(t, f.admin), "shop", true))

	var n int
	require.NoError(t, f.store.ReadPool().QueryRow(`SELECT COUNT(*) FROM components WHERE project_id NOT IN (SELECT id FROM projects)`).Scan(&n))
	require.Zero(t, n, "no orphaned components")

	// Recreating the project does not bring the old components back.
	MustCreateProject(t, f.store, f.admin, "shop", "Shop")
	list, total, err := components.FindComponents(ContextAs(t, f.admin), "shop", junction.NewPage(1, 10))
	require.NoError(t, err)
	require.Zero(t, total)
	require.Empty(t, list)

	// The other project's component is untouched.
	_, err = components.FindComponent(ContextAs(t, f.admin), "billing", "orders")
	require.NoError(t, err)
}

func componentHandles(components []*junction.Component) []string {
	var out []string
	for _, c := range components {
		out = append(out, c.Handle)
	}
	return out
}
