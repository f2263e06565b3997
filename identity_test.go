package junction_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

func TestParseProjectRoles(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []junction.ProjectGroupRole
		err  string
	}{
		{"OKEmpty", "", nil, ""},
		{"OKBlank", "  ", nil, ""},
		{"OK", "shop:developer=team-shop,shop:viewer=support", []junction.ProjectGroupRole{
			{Project: "shop", Role: junction.RoleDeveloper, Group: "team-shop"},
			{Project: "shop", Role: junction.RoleViewer, Group: "support"},
		}, ""},
		{"OKSpacesAndPathGroups", " blog : viewer = /org/Support Team ", []junction.ProjectGroupRole{
			{Project: "blog", Role: junction.RoleViewer, Group: "/org/Support Team"},
		}, ""},
		{"OKEqualsInGroup", "shop:viewer=cn=support", []junction.ProjectGroupRole{
			{Project: "shop", Role: junction.RoleViewer, Group: "cn=support"},
		}, ""},
		{"ErrCommaInGroup", "shop:viewer=cn=support,ou=groups", nil, `entry 2 "ou=groups": no :role after the project`},
		{"ErrNoGroup", "shop:developer", nil, `entry 1 "shop:developer": no =group`},
		{"ErrNoRole", "shop=team", nil, `entry 1 "shop=team": no :role after the project`},
		{"ErrAdminRole", "shop:admin=team", nil, `role "admin" is not developer or viewer`},
		{"ErrUnknownRole", "shop:owner=team", nil, `role "owner" is not developer or viewer`},
		{"ErrBadHandle", "Shop:viewer=team", nil, `entry 1 "Shop:viewer=team": project handle: Use lower-case letters`},
		{"ErrEmptyGroup", "shop:viewer=", nil, "empty group"},
		{"ErrEmptyEntry", "shop:viewer=a,,blog:viewer=b", nil, "entry 2 \"\": empty entry"},
		{"ErrTrailingComma", "shop:viewer=a,", nil, "entry 2 \"\": empty entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := junction.ParseProjectRoles(tt.in)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				require.ErrorContains(t, err, "e.g. shop:developer=team-shop", "the message shows the syntax")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestProviderRolesGrants(t *testing.T) {
	projects, err := junction.ParseProjectRoles("shop:viewer=support,shop:developer=team-shop,blog:viewer=support,blog:viewer=team-shop")
	require.NoError(t, err)
	roles := junction.ProviderRoles{AdminGroup: "admins", Projects: projects}
	tests := []struct {
		name   string
		groups []string
		want   junction.ProviderGrants
	}{
		{"NoGroups", nil, junction.ProviderGrants{Projects: map[string]junction.Role{}}},
		{"Admin", []string{"admins"}, junction.ProviderGrants{Admin: true, Projects: map[string]junction.Role{}}},
		{"Viewer", []string{"support"}, junction.ProviderGrants{Projects: map[string]junction.Role{"shop": junction.RoleViewer, "blog": junction.RoleViewer}}},
		{"HighestWins", []string{"support", "team-shop"}, junction.ProviderGrants{Projects: map[string]junction.Role{"shop": junction.RoleDeveloper, "blog": junction.RoleViewer}}},
		{"HighestWinsWhateverTheOrder", []string{"team-shop", "support"}, junction.ProviderGrants{Projects: map[string]junction.Role{"shop": junction.RoleDeveloper, "blog": junction.RoleViewer}}},
		{"CaseMatters", []string{"Admins", "SUPPORT"}, junction.ProviderGrants{Projects: map[string]junction.Role{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, roles.Grants(tt.groups))
		})
	}
	t.Run("NoAdminGroupGrantsNoAdmin", func(t *testing.T) {
		require.False(t, junction.ProviderRoles{}.Grants([]string{""}).Admin)
	})
}

func TestProviderIdentityValidate(t *testing.T) {
	yes, no := true, false
	ok := junction.ProviderIdentity{Issuer: "https://idp.example.com", Subject: "s1", Email: "Ada@Example.com"}
	with := func(change func(*junction.ProviderIdentity)) junction.ProviderIdentity {
		id := ok
		change(&id)
		return id
	}
	tests := []struct {
		name string
		id   junction.ProviderIdentity
		msg  string
	}{
		{"OKNoVerifiedClaim", ok, ""},
		{"OKVerified", with(func(id *junction.ProviderIdentity) { id.EmailVerified = &yes }), ""},
		{"ErrUnverified", with(func(id *junction.ProviderIdentity) { id.EmailVerified = &no }), "Your e-mail address ada@example.com is not verified"},
		{"ErrNoEmail", with(func(id *junction.ProviderIdentity) { id.Email = " " }), "did not give an e-mail address"},
		{"ErrNotAnEmail", with(func(id *junction.ProviderIdentity) { id.Email = "Ada <ada@example.com>" }), "not a plain e-mail address"},
		{"ErrNoSubject", with(func(id *junction.ProviderIdentity) { id.Subject = "" }), "no subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.id.Validate()
			if tt.msg == "" {
				require.NoError(t, err)
				return
			}
			require.Equal(t, junction.EFORBIDDEN, junction.ErrorCode(err))
			require.Contains(t, junction.ErrorMessage(err), tt.msg)
		})
	}
	require.Equal(t, "oidc issuer=https://idp.example.com subject=s1", ok.AuditTarget())
}
