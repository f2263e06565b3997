package junction

import (
	"fmt"
	"strings"
)

// ProviderIdentity is the person an OpenID Connect provider signed in, taken from a verified
// ID token (and the provider's userinfo endpoint for claims the token leaves out).
type ProviderIdentity struct {
	// Issuer and Subject identify the person at the provider for good: the link to a Junction
	// user is kept by them, so a later change of e-mail at the provider still finds the user.
	Issuer  string
	Subject string
	Email   string
	// EmailVerified is the email_verified claim; nil when the provider does not send it.
	EmailVerified *bool
	Name          string
	Groups        []string
}

// AuditTarget names the identity in the audit log: the sign-in method and the provider's
// subject, never a token.
func (id ProviderIdentity) AuditTarget() string {
	target := "oidc issuer=" + id.Issuer
	if id.Subject != "" {
		target += " subject=" + id.Subject
	}
	return target
}

// Validate checks that the identity can sign in: a subject and a plain e-mail address that
// the provider does not call unverified. Failures are EFORBIDDEN with a message for the
// person signing in.
func (id ProviderIdentity) Validate() error {
	switch {
	case id.Issuer == "" || id.Subject == "":
		return Errorf(EFORBIDDEN, "The identity provider did not say who signed in (no subject).")
	case strings.TrimSpace(id.Email) == "":
		return Errorf(EFORBIDDEN, "The identity provider did not give an e-mail address for your account, and Junction needs one. Ask your administrator to release the email claim to Junction.")
	case ValidateEmail(NormalizeEmail(id.Email)) != "":
		return Errorf(EFORBIDDEN, "The identity provider gave %q, which is not a plain e-mail address.", id.Email)
	case id.EmailVerified != nil && !*id.EmailVerified:
		return Errorf(EFORBIDDEN, "Your e-mail address %s is not verified at the identity provider. Verify it there, then sign in again.", NormalizeEmail(id.Email))
	}
	return nil
}

// ProviderRoles says which roles members of the provider's groups get. The provider is the
// source of truth for the roles it grants: they are granted, changed and taken away at each
// sign-in as the groups change. Roles granted by hand are never touched.
type ProviderRoles struct {
	// AdminGroup makes members of this group organization admins; empty grants no one.
	AdminGroup string
	// Projects grant project roles to groups.
	Projects []ProjectGroupRole
}

// ProjectGroupRole gives members of Group the Role in Project.
type ProjectGroupRole struct {
	Project string
	Role    Role
	Group   string
}

// ParseProjectRoles reads a mapping such as "shop:developer=team-shop,shop:viewer=support":
// comma-separated project:role=group entries, where role is developer or viewer.
func ParseProjectRoles(s string) ([]ProjectGroupRole, error) {
	var out []ProjectGroupRole
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		bad := func(why string) error {
			return fmt.Errorf("entry %d %q: %s; use project:role=group entries separated by commas, e.g. shop:developer=team-shop,shop:viewer=support", i+1, entry, why)
		}
		if entry == "" {
			return nil, bad("empty entry")
		}
		target, group, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, bad("no =group")
		}
		project, role, ok := strings.Cut(strings.TrimSpace(target), ":")
		if !ok {
			return nil, bad("no :role after the project")
		}
		r := ProjectGroupRole{Project: strings.TrimSpace(project), Role: Role(strings.TrimSpace(role)), Group: strings.TrimSpace(group)}
		if msg := ValidateHandle(r.Project); msg != "" {
			return nil, bad("project handle: " + strings.TrimSuffix(msg, "."))
		}
		if !r.Role.Valid() {
			return nil, bad(fmt.Sprintf("role %q is not developer or viewer", r.Role))
		}
		if r.Group == "" {
			return nil, bad("empty group")
		}
		out = append(out, r)
	}
	return out, nil
}

// ProviderGrants are the roles that one sign-in's groups grant.
type ProviderGrants struct {
	Admin bool
	// Projects maps project handles to the role granted there.
	Projects map[string]Role
}

// Grants returns the roles that members of groups get: admin for the admin group, and in
// each project the highest role among the groups that match.
func (r ProviderRoles) Grants(groups []string) ProviderGrants {
	member := make(map[string]bool, len(groups))
	for _, g := range groups {
		member[g] = true
	}
	grants := ProviderGrants{Admin: r.AdminGroup != "" && member[r.AdminGroup], Projects: map[string]Role{}}
	for _, pr := range r.Projects {
		if member[pr.Group] && pr.Role.rank() > grants.Projects[pr.Project].rank() {
			grants.Projects[pr.Project] = pr.Role
		}
	}
	return grants
}

// rank orders the member roles: developer above viewer above none.
func (r Role) rank() int {
	switch r {
	case RoleDeveloper:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}
