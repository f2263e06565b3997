package junction

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what a user may do in a project.
type Role string

// Roles. Admins are organization-wide; developers and viewers are per-project members.
const (
	RoleAdmin     Role = "admin"
	RoleDeveloper Role = "developer"
	RoleViewer    Role = "viewer"
)

// MemberRoles are the roles a project member can be given.
var MemberRoles = []Role{RoleDeveloper, RoleViewer}

// Valid reports whether r is a role a project member can be given.
func (r Role) Valid() bool { return r == RoleDeveloper || r == RoleViewer }

// CanWrite reports whether the role may change a project's contents.
func (r Role) CanWrite() bool { return r == RoleAdmin || r == RoleDeveloper }

// CanSeeSecrets reports whether the role may reveal secret values. Viewers never see secrets.
func (r Role) CanSeeSecrets() bool { return r == RoleAdmin || r == RoleDeveloper }

// CanManage reports whether the role may manage the project itself: its members and its
// deletion.
func (r Role) CanManage() bool { return r == RoleAdmin }

// Project groups components and the connections they share.
type Project struct {
	ID          int64     `json:"-"`
	Handle      string    `json:"handle"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Components  int       `json:"components"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`

	// Role is the caller's effective role in this project (admin for organization admins).
	Role Role `json:"role"`
	// Can is what the caller may do in the project, as the store loaded it: pages read it
	// rather than apply rules of their own.
	Can ProjectCan `json:"-"`
}

// ProjectCan is what the caller may do in a project.
type ProjectCan struct {
	// Write: add components, connections, mappings, runtime tokens; change settings.
	Write bool
	// Manage: members, and deleting the project.
	Manage bool
}

// ProjectCanFor is what a role allows in a project.
func ProjectCanFor(r Role) ProjectCan { return ProjectCan{Write: r.CanWrite(), Manage: r.CanManage()} }

// Validate checks a project's fields. An empty handle is derived from the name first.
func (p *Project) Validate() error {
	p.Name = strings.TrimSpace(p.Name)
	p.Description = strings.TrimSpace(p.Description)
	p.Handle = strings.TrimSpace(p.Handle)
	if p.Handle == "" {
		p.Handle = HandleFromName(p.Name)
	}
	fields := FieldErrors{}
	if msg := ValidateHandle(p.Handle); msg != "" {
		fields.Add("handle", msg)
	}
	if msg := validateName(p.Name); msg != "" {
		fields.Add("name", msg)
	}
	if utf8.RuneCountInString(p.Description) > MaxDescriptionLength {
		fields.Add("description", "Use at most 1000 characters.")
	}
	return fields.Err()
}

// ProjectUpdate holds the fields of a project that may change. Nil means unchanged.
type ProjectUpdate struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

// Apply validates the update and applies it to p.
func (u ProjectUpdate) Apply(p *Project) error {
	if u.Name != nil {
		p.Name = *u.Name
	}
	if u.Description != nil {
		p.Description = *u.Description
	}
	return p.Validate()
}

// Member is a user's membership of a project.
type Member struct {
	Email string `json:"email"`
	Role  Role   `json:"role"`
}

// ProjectService manages projects and their members. Every method acts as the user in ctx:
// a project the user may not see is ENOTFOUND, a change the user may not make is EFORBIDDEN.
type ProjectService interface {
	FindProjects(ctx context.Context, filter ProjectFilter) ([]*Project, int, error)
	FindProject(ctx context.Context, handle string) (*Project, error)
	// CreateProject is for admins.
	CreateProject(ctx context.Context, p *Project) error
	// UpdateProject is for admins and the project's developers.
	UpdateProject(ctx context.Context, handle string, upd ProjectUpdate) (*Project, error)
	// DeleteProject is for admins. A project that still has components is ECONFLICT unless
	// force is set, which deletes the components too.
	DeleteProject(ctx context.Context, handle string, force bool) error

	FindMembers(ctx context.Context, handle string) ([]*Member, error)
	// SetMember adds a member or changes a member's role; for admins.
	SetMember(ctx context.Context, handle, email string, role Role) (*Member, error)
	// RemoveMember removes a member; for admins. ENOTFOUND if the user is not a member.
	RemoveMember(ctx context.Context, handle, email string) error

	// FindProjectGraph reads what the project's dependency diagram shows, in one snapshot.
	FindProjectGraph(ctx context.Context, handle string) (*ProjectGraph, error)
}

// ProjectFilter selects and pages projects.
type ProjectFilter struct {
	Query string
	Page  Page
}

// Page selects one page of a list.
type Page struct {
	Page    int
	PerPage int
}

// Page sizes.
const (
	DefaultPerPage = 50
	MaxPerPage     = 200
	MaxPage        = 1_000_000
)

// NewPage returns a page with defaults applied and out-of-range values clamped.
func NewPage(page, perPage int) Page {
	if page < 1 {
		page = 1
	} else if page > MaxPage {
		page = MaxPage // keeps Offset far from overflowing
	}
	if perPage < 1 {
		perPage = DefaultPerPage
	} else if perPage > MaxPerPage {
		perPage = MaxPerPage
	}
	return Page{Page: page, PerPage: perPage}
}

// Offset is the number of rows before this page.
func (p Page) Offset() int { return (p.Page - 1) * p.PerPage }

// Limit is the number of rows on this page.
func (p Page) Limit() int { return p.PerPage }

// MaxDescriptionLength is the longest description accepted, in characters.
const MaxDescriptionLength = 1000

var handlePattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)

// ValidateHandle returns a message describing what is wrong with handle, or "" if it is fine.
// Handles are 3 to 63 lower-case letters, digits and hyphens, not starting or ending with a
// hyphen, so they fit in URLs and DNS labels.
func ValidateHandle(handle string) string {
	switch {
	case handle == "":
		return "Enter a handle."
	case len(handle) < 3 || len(handle) > 63:
		return "Use 3 to 63 characters."
	case !handlePattern.MatchString(handle):
		return "Use lower-case letters, digits and hyphens (-), starting and ending with a letter or digit."
	}
	return ""
}

// HandleFromName suggests a handle for a display name: "Order Service" becomes
// "order-service". The result may still be invalid (too short, for example).
func HandleFromName(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 63 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

func validateName(name string) string {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "Enter a name."
	case n > 100:
		return "Use at most 100 characters."
	}
	return ""
}
