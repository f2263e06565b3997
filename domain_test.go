package junction_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

func TestValidateHandle(t *testing.T) {
	const (
		msgEmpty   = "Enter a handle."
		msgLength  = "Use 3 to 63 characters."
		msgPattern = "Use lower-case letters, digits and hyphens (-), starting and ending with a letter or digit."
	)
	tests := []struct {
		name   string
		handle string
		want   string
	}{
		{"OK", "shop", ""},
		{"OKWithHyphens", "order-service", ""},
		{"OKDoubleHyphenInside", "a--b", ""},
		{"OKDigits", "123", ""},
		{"OKLettersAndDigits", "v2-api-3", ""},
		{"OKLength3", "abc", ""},
		{"OKLength63", strings.Repeat("a", 63), ""},
		{"ErrEmpty", "", msgEmpty},
		{"ErrLength1", "a", msgLength},
		{"ErrLength2", "ab", msgLength},
		{"ErrLength64", strings.Repeat("a", 64), msgLength},
		{"ErrLength64Valid", strings.Repeat("ab-", 21) + "a", msgLength},
		{"ErrLeadingHyphen", "-shop", msgPattern},
		{"ErrTrailingHyphen", "shop-", msgPattern},
		{"ErrOnlyHyphens", "---", msgPattern},
		{"ErrUpperCase", "Shop", msgPattern},
		{"ErrAllUpperCase", "SHOP", msgPattern},
		{"ErrUnderscore", "my_shop", msgPattern},
		{"ErrSpace", "my shop", msgPattern},
		{"ErrLeadingSpace", " shop", msgPattern},
		{"ErrDot", "my.shop", msgPattern},
		{"ErrSlash", "my/shop", msgPattern},
		{"ErrNewline", "shop\n", msgPattern},
		{"ErrUnicodeLetter", "café", msgPattern},
		{"ErrUnicodeOnly", "日本語", msgPattern},
		{"ErrUnicodeDigit", "shop٣", msgPattern},
		{"ErrEmoji", "shop🙂", msgPattern},
		// Two-byte characters: 2 runes but 4 bytes, which must not pass as a valid length.
		{"ErrUnicodeShortRunes", "éé", msgPattern},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, junction.ValidateHandle(tt.handle))
		})
	}
}

func TestHandleFromName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"Spaces", "Order Service", "order-service"},
		{"AlreadyAHandle", "shop", "shop"},
		{"UpperCase", "SHOP", "shop"},
		{"Digits", "API v2", "api-v2"},
		{"Punctuation", "Hello, World!", "hello-world"},
		{"CollapsesSeparators", "a  --  b__c", "a-b-c"},
		{"TrimsLeadingAndTrailing", "  --Shop--  ", "shop"},
		{"Underscores", "my_shop_api", "my-shop-api"},
		{"Unicode", "Café Menü", "caf-men"},
		{"UnicodeOnly", "日本語", ""},
		{"Empty", "", ""},
		{"OnlySeparators", " - _ . ", ""},
		{"Truncated", strings.Repeat("a", 100), strings.Repeat("a", 63)},
		{"TruncatedAtHyphen", strings.Repeat("a", 62) + " bcd", strings.Repeat("a", 62)},
		{"TruncatedWords", strings.Repeat("ab ", 40), strings.TrimSuffix(strings.Repeat("ab-", 21), "-")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := junction.HandleFromName(tt.in)
			require.Equal(t, tt.want, got)
			require.LessOrEqual(t, len(got), 63)
			require.False(t, strings.HasPrefix(got, "-") || strings.HasSuffix(got, "-"), "handle %q has an edge hyphen", got)
		})
	}

	t.Run("ResultIsValidForReasonableNames", func(t *testing.T) {
		for _, name := range []string{"Order Service", "Payments API v2", strings.Repeat("Long Name ", 20), "  x-y-z  "} {
			require.Empty(t, junction.ValidateHandle(junction.HandleFromName(name)), "name %q", name)
		}
	})
}

func TestProject_Validate(t *testing.T) {
	tests := []struct {
		name       string
		project    junction.Project
		wantFields []string // nil means valid
		wantHandle string
	}{
		{"OK", junction.Project{Handle: "shop", Name: "Shop"}, nil, "shop"},
		{"OKHandleFromName", junction.Project{Name: "Order Service"}, nil, "order-service"},
		{"OKHandleTrimmed", junction.Project{Handle: "  shop  ", Name: "Shop"}, nil, "shop"},
		{"OKBlankHandleFromName", junction.Project{Handle: "   ", Name: "My Shop"}, nil, "my-shop"},
		{"OKExplicitHandleWins", junction.Project{Handle: "other", Name: "Order Service"}, nil, "other"},
		{"OKName100Runes", junction.Project{Handle: "shop", Name: strings.Repeat("é", 100)}, nil, "shop"},
		{"OKDescription1000Runes", junction.Project{Handle: "shop", Name: "Shop", Description: strings.Repeat("é", 1000)}, nil, "shop"},
		{"ErrNameEmpty", junction.Project{Handle: "shop"}, []string{"name"}, "shop"},
		{"ErrNameBlank", junction.Project{Handle: "shop", Name: "   "}, []string{"name"}, "shop"},
		{"ErrNameTooLong", junction.Project{Handle: "shop", Name: strings.Repeat("a", 101)}, []string{"name"}, "shop"},
		{"ErrEverythingEmpty", junction.Project{}, []string{"handle", "name"}, ""},
		{"ErrHandleFromShortName", junction.Project{Name: "AB"}, []string{"handle"}, "ab"},
		{"ErrHandleFromUnicodeName", junction.Project{Name: "日本語"}, []string{"handle"}, ""},
		{"ErrHandleInvalid", junction.Project{Handle: "My_Shop", Name: "Shop"}, []string{"handle"}, "My_Shop"},
		{"ErrDescriptionTooLong", junction.Project{Handle: "shop", Name: "Shop", Description: strings.Repeat("a", 1001)}, []string{"description"}, "shop"},
		{"ErrAllFields", junction.Project{Handle: "-x", Name: strings.Repeat("n", 101), Description: strings.Repeat("d", 1001)},
			[]string{"description", "handle", "name"}, "-x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.project
			err := p.Validate()
			require.Equal(t, tt.wantHandle, p.Handle)
			if tt.wantFields == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
			fields := junction.ErrorFields(err)
			require.ElementsMatch(t, tt.wantFields, keys(fields))
			for k, msg := range fields {
				require.NotEmpty(t, msg, "field %s", k)
			}
		})
	}

	t.Run("TrimsFields", func(t *testing.T) {
		p := junction.Project{Name: "  Shop  ", Description: "\n about \t"}
		require.NoError(t, p.Validate())
		require.Equal(t, "Shop", p.Name)
		require.Equal(t, "about", p.Description)
		require.Equal(t, "shop", p.Handle)
	})
}

func TestProjectUpdate_Apply(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		p := junction.Project{Handle: "shop", Name: "Shop", Description: "old"}
		name, desc := " New Name ", "new"
		require.NoError(t, junction.ProjectUpdate{Name: &name, Description: &desc}.Apply(&p))
		require.Equal(t, "New Name", p.Name)
		require.Equal(t, "new", p.Description)
		require.Equal(t, "shop", p.Handle, "renaming must not change the handle")
	})
	t.Run("NilMeansUnchanged", func(t *testing.T) {
		p := junction.Project{Handle: "shop", Name: "Shop", Description: "old"}
		require.NoError(t, junction.ProjectUpdate{}.Apply(&p))
		require.Equal(t, "Shop", p.Name)
		require.Equal(t, "old", p.Description)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		p := junction.Project{Handle: "shop", Name: "Shop"}
		empty := ""
		err := junction.ProjectUpdate{Name: &empty}.Apply(&p)
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorFields(err), "name")
	})
}

func TestComponent_Validate(t *testing.T) {
	tests := []struct {
		name       string
		component  junction.Component
		wantFields []string
		wantHandle string
		wantType   junction.ComponentType
	}{
		{"OKTypeDefaultsToService", junction.Component{Handle: "orders", Name: "Orders"}, nil, "orders", junction.ComponentTypeService},
		{"OKHandleFromName", junction.Component{Name: "Order Worker", Type: junction.ComponentTypeScheduledTask}, nil, "order-worker", junction.ComponentTypeScheduledTask},
		{"ErrInvalidType", junction.Component{Handle: "orders", Name: "Orders", Type: "lambda"}, []string{"type"}, "orders", "lambda"},
		{"ErrTypeWrongCase", junction.Component{Handle: "orders", Name: "Orders", Type: "Service"}, []string{"type"}, "orders", "Service"},
		{"ErrNameEmpty", junction.Component{Handle: "orders"}, []string{"name"}, "orders", junction.ComponentTypeService},
		{"ErrHandleInvalid", junction.Component{Handle: "Orders", Name: "Orders"}, []string{"handle"}, "Orders", junction.ComponentTypeService},
		{"ErrAll", junction.Component{Type: "nope"}, []string{"handle", "name", "type"}, "", "nope"},
	}
	for _, typ := range junction.ComponentTypes {
		tests = append(tests, struct {
			name       string
			component  junction.Component
			wantFields []string
			wantHandle string
			wantType   junction.ComponentType
		}{"OKType_" + string(typ), junction.Component{Handle: "orders", Name: "Orders", Type: typ}, nil, "orders", typ})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.component
			err := c.Validate()
			require.Equal(t, tt.wantHandle, c.Handle)
			require.Equal(t, tt.wantType, c.Type)
			if tt.wantFields == nil {
				require.NoError(t, err)
				return
			}
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
			require.ElementsMatch(t, tt.wantFields, keys(junction.ErrorFields(err)))
		})
	}
}

func TestComponentType_Valid(t *testing.T) {
	require.Len(t, junction.ComponentTypes, 6)
	for _, typ := range []string{"service", "web-app", "scheduled-task", "manual-task", "webhook", "api-proxy"} {
		require.True(t, junction.ComponentType(typ).Valid(), typ)
	}
	for _, typ := range []string{"", "Service", "web_app", "cron", " service"} {
		require.False(t, junction.ComponentType(typ).Valid(), typ)
	}
}

func TestComponentUpdate_Apply(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		c := junction.Component{Handle: "orders", Name: "Orders", Type: junction.ComponentTypeService}
		name, typ := "Order Jobs", junction.ComponentTypeManualTask
		require.NoError(t, junction.ComponentUpdate{Name: &name, Type: &typ}.Apply(&c))
		require.Equal(t, "Order Jobs", c.Name)
		require.Equal(t, junction.ComponentTypeManualTask, c.Type)
		require.Equal(t, "orders", c.Handle)
	})
	t.Run("ErrInvalidType", func(t *testing.T) {
		c := junction.Component{Handle: "orders", Name: "Orders", Type: junction.ComponentTypeService}
		typ := junction.ComponentType("mainframe")
		err := junction.ComponentUpdate{Type: &typ}.Apply(&c)
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorFields(err), "type")
	})
}

func TestEnvironment_Validate(t *testing.T) {
	tests := []struct {
		name     string
		env      string
		wantErr  bool
		wantName string
	}{
		{"OK", "staging", false, "staging"},
		{"OKTrimmed", "  qa-eu  ", false, "qa-eu"},
		{"OKDigits", "env2", false, "env2"},
		{"OKLength3", "dev", false, "dev"},
		{"OKLength32", strings.Repeat("a", 32), false, strings.Repeat("a", 32)},
		{"ErrEmpty", "", true, ""},
		{"ErrBlank", "   ", true, ""},
		{"ErrLength2", "qa", true, "qa"},
		{"ErrLength33", strings.Repeat("a", 33), true, strings.Repeat("a", 33)},
		{"ErrStartsWithDigit", "1st", true, "1st"},
		{"ErrStartsWithHyphen", "-dev", true, "-dev"},
		{"ErrEndsWithHyphen", "dev-", true, "dev-"},
		{"ErrUpperCase", "Staging", true, "Staging"},
		{"ErrUnderscore", "pre_prod", true, "pre_prod"},
		{"ErrSpace", "pre prod", true, "pre prod"},
		{"ErrUnicode", "prödüction", true, "prödüction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := junction.Environment{Name: tt.env}
			err := e.Validate()
			require.Equal(t, tt.wantName, e.Name)
			if !tt.wantErr {
				require.NoError(t, err)
				return
			}
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
			require.Equal(t, []string{"name"}, keys(junction.ErrorFields(err)))
		})
	}
}

func TestValidateNewUser(t *testing.T) {
	tests := []struct {
		name       string
		email      string
		password   string
		wantFields []string
	}{
		{"OK", "alice@example.com", "correct horse", nil},
		{"OKPassword8", "alice@example.com", "12345678", nil},
		{"OKPassword72Bytes", "alice@example.com", strings.Repeat("p", 72), nil},
		{"OKPlusAddress", "alice+test@example.co.uk", "correct horse", nil},
		{"ErrEmailEmpty", "", "correct horse", []string{"email"}},
		{"ErrEmailNoAt", "alice.example.com", "correct horse", []string{"email"}},
		{"ErrEmailWithName", "Alice <alice@example.com>", "correct horse", []string{"email"}},
		{"ErrEmailSpaces", " alice@example.com ", "correct horse", []string{"email"}},
		{"ErrEmailTooLong", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + ".com", "correct horse", []string{"email"}},
		{"ErrPasswordEmpty", "alice@example.com", "", []string{"password"}},
		{"ErrPassword7", "alice@example.com", "1234567", []string{"password"}},
		{"ErrPassword73Bytes", "alice@example.com", strings.Repeat("p", 73), []string{"password"}},
		// 37 two-byte runes: 37 characters but 74 bytes, beyond what bcrypt uses.
		{"ErrPasswordMultibyteOver72Bytes", "alice@example.com", strings.Repeat("é", 37), []string{"password"}},
		{"ErrBoth", "nope", "short", []string{"email", "password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := junction.ValidateNewUser(tt.email, tt.password)
			if tt.wantFields == nil {
				require.NoError(t, err)
				return
			}
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
			require.ElementsMatch(t, tt.wantFields, keys(junction.ErrorFields(err)))
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	require.Equal(t, "alice@example.com", junction.NormalizeEmail("  Alice@Example.COM \n"))
	require.Equal(t, "", junction.NormalizeEmail("   "))
}

func TestNewPage(t *testing.T) {
	tests := []struct {
		name          string
		page, perPage int
		want          junction.Page
		offset        int
	}{
		{"Defaults", 0, 0, junction.Page{Page: 1, PerPage: junction.DefaultPerPage}, 0},
		{"Negative", -3, -10, junction.Page{Page: 1, PerPage: junction.DefaultPerPage}, 0},
		{"OK", 3, 20, junction.Page{Page: 3, PerPage: 20}, 40},
		{"PerPage1", 2, 1, junction.Page{Page: 2, PerPage: 1}, 1},
		{"PerPageMax", 1, junction.MaxPerPage, junction.Page{Page: 1, PerPage: junction.MaxPerPage}, 0},
		{"PerPageClampedToMax", 2, junction.MaxPerPage + 1, junction.Page{Page: 2, PerPage: junction.MaxPerPage}, junction.MaxPerPage},
		{"PerPageHuge", 1, 1 << 30, junction.Page{Page: 1, PerPage: junction.MaxPerPage}, 0},
		{"PageZeroPerPageSet", 0, 10, junction.Page{Page: 1, PerPage: 10}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := junction.NewPage(tt.page, tt.perPage)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.offset, got.Offset())
			require.Equal(t, tt.want.PerPage, got.Limit())
		})
	}
	require.Equal(t, 50, junction.DefaultPerPage)
	require.Equal(t, 200, junction.MaxPerPage)
}

func TestErrorHelpers(t *testing.T) {
	appErr := &junction.Error{Code: junction.ECONFLICT, Message: "Name taken.", Fields: map[string]string{"name": "Name taken."}}
	tests := []struct {
		name        string
		err         error
		wantCode    string
		wantMessage string
		wantFields  map[string]string
	}{
		{"Nil", nil, "", "", nil},
		{"AppError", appErr, junction.ECONFLICT, "Name taken.", map[string]string{"name": "Name taken."}},
		{"Wrapped", fmt.Errorf("create thing: %w", appErr), junction.ECONFLICT, "Name taken.", map[string]string{"name": "Name taken."}},
		{"DoubleWrapped", fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", appErr)), junction.ECONFLICT, "Name taken.", map[string]string{"name": "Name taken."}},
		{"Joined", errors.Join(errors.New("other"), appErr), junction.ECONFLICT, "Name taken.", map[string]string{"name": "Name taken."}},
		{"Errorf", junction.Errorf(junction.ENOTFOUND, "Project %q not found.", "shop"), junction.ENOTFOUND, `Project "shop" not found.`, nil},
		{"Internal", errors.New("disk I/O error at /var/lib/secret.db"), junction.EINTERNAL, "Internal error.", nil},
		{"WrappedInternal", fmt.Errorf("query: %w", errors.New("SQL logic error")), junction.EINTERNAL, "Internal error.", nil},
		{"ExplicitInternal", junction.Errorf(junction.EINTERNAL, "Something broke."), junction.EINTERNAL, "Something broke.", nil},
		{"FieldErrors", junction.FieldErrors{"email": "Bad."}.Err(), junction.EINVALID, "Please correct the highlighted fields.", map[string]string{"email": "Bad."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.wantCode, junction.ErrorCode(tt.err))
			require.Equal(t, tt.wantMessage, junction.ErrorMessage(tt.err))
			if tt.wantFields == nil {
				require.Empty(t, junction.ErrorFields(tt.err))
			} else {
				require.Equal(t, tt.wantFields, junction.ErrorFields(tt.err))
			}
		})
	}

	t.Run("InternalMessageDoesNotLeakCause", func(t *testing.T) {
		err := fmt.Errorf("open /etc/junction/secret: %w", errors.New("permission denied"))
		require.NotContains(t, junction.ErrorMessage(err), "secret")
		require.NotContains(t, junction.ErrorMessage(err), "permission")
	})
	t.Run("ErrorString", func(t *testing.T) {
		err := junction.Errorf(junction.EINVALID, "Bad %s.", "input")
		require.Contains(t, err.Error(), junction.EINVALID)
		require.Contains(t, err.Error(), "Bad input.")
	})
}

func TestFieldErrors(t *testing.T) {
	t.Run("NoneIsNil", func(t *testing.T) {
		require.NoError(t, junction.FieldErrors{}.Err())
		require.Nil(t, junction.FieldErrors{}.Err(), "must be an untyped nil, not a nil *Error in an interface")
	})
	t.Run("FirstMessageWins", func(t *testing.T) {
		f := junction.FieldErrors{}
		f.Add("name", "first")
		f.Add("name", "second")
		f.Add("handle", "other")
		err := f.Err()
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Equal(t, map[string]string{"name": "first", "handle": "other"}, junction.ErrorFields(err))
	})
}

func TestRole(t *testing.T) {
	tests := []struct {
		role                                      junction.Role
		valid, canWrite, canSeeSecrets, canManage bool
	}{
		{junction.RoleAdmin, false, true, true, true},
		{junction.RoleDeveloper, true, true, true, false},
		{junction.RoleViewer, true, false, false, false},
		{"", false, false, false, false},
		{"owner", false, false, false, false},
		{"Developer", false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.role), func(t *testing.T) {
			require.Equal(t, tt.valid, tt.role.Valid(), "Valid")
			require.Equal(t, tt.canWrite, tt.role.CanWrite(), "CanWrite")
			require.Equal(t, tt.canSeeSecrets, tt.role.CanSeeSecrets(), "CanSeeSecrets")
			require.Equal(t, tt.canManage, tt.role.CanManage(), "CanManage")
		})
	}
	require.Equal(t, []junction.Role{junction.RoleDeveloper, junction.RoleViewer}, junction.MemberRoles)
	for _, r := range junction.MemberRoles {
		require.True(t, r.Valid(), r)
	}
}

func TestUserContext(t *testing.T) {
	ctx := t.Context()
	require.Nil(t, junction.UserFromContext(ctx))

	user := &junction.User{ID: 42, Email: "alice@example.com"}
	ctx = junction.NewContextWithUser(ctx, user)
	require.Same(t, user, junction.UserFromContext(ctx))
}

// keys returns the keys of m.
func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
