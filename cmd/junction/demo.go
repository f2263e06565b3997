package main

import (
	"context"
	"fmt"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/web"
)

// Demo sign-ins printed by `junction serve --demo`.
const (
	DemoAdminEmail     = "admin@example.com"
	DemoDeveloperEmail = "dev@example.com"
	DemoViewerEmail    = "viewer@example.com"
	DemoPassword       = "junction-demo"
)

type demoProject struct {
	project    junction.Project
	components []junction.Component
	members    map[string]junction.Role
}

var demoProjects = []demoProject{
	{
		project: junction.Project{Handle: "shop", Name: "Online Shop", Description: "The storefront, checkout and order processing."},
		components: []junction.Component{
			{Handle: "storefront", Name: "Storefront", Type: junction.ComponentTypeWebApp},
			{Handle: "orders", Name: "Orders API", Type: junction.ComponentTypeService},
			{Handle: "payments", Name: "Payments", Type: junction.ComponentTypeService},
			{Handle: "nightly-report", Name: "Nightly sales report", Type: junction.ComponentTypeScheduledTask},
		},
		members: map[string]junction.Role{DemoDeveloperEmail: junction.RoleDeveloper, DemoViewerEmail: junction.RoleViewer},
	},
	{
		project: junction.Project{Handle: "platform", Name: "Platform", Description: "Shared identity, notification and gateway services."},
		components: []junction.Component{
			{Handle: "identity", Name: "Identity", Type: junction.ComponentTypeService},
			{Handle: "notifications", Name: "Notifications", Type: junction.ComponentTypeService},
			{Handle: "api-gateway", Name: "API gateway", Type: junction.ComponentTypeAPIProxy},
		},
		members: map[string]junction.Role{DemoDeveloperEmail: junction.RoleViewer},
	},
	{
		project: junction.Project{Handle: "analytics", Name: "Analytics", Description: "Event ingestion and reporting dashboards."},
		components: []junction.Component{
			{Handle: "ingest", Name: "Event ingest", Type: junction.ComponentTypeWebhook},
			{Handle: "warehouse-sync", Name: "Warehouse sync", Type: junction.ComponentTypeScheduledTask},
			{Handle: "dashboard", Name: "Dashboard", Type: junction.ComponentTypeWebApp},
			{Handle: "backfill", Name: "Backfill", Type: junction.ComponentTypeManualTask},
		},
	},
}

// SeedDemo creates the demo organization: an admin, a developer and a viewer, three projects
// with components, and a catalog of third-party APIs, databases and internal endpoints. It adds only what is missing, so it is safe on every start, and
// reports whether it added the demo admin (that is, whether this was the first seeding).
func SeedDemo(ctx context.Context, svc web.Services) (bool, error) {
	admin, added, err := ensureUser(ctx, svc.Users, DemoAdminEmail, true)
	if err != nil {
		return false, err
	}
	for _, email := range []string{DemoDeveloperEmail, DemoViewerEmail} {
		if _, _, err := ensureUser(ctx, svc.Users, email, false); err != nil {
			return false, err
		}
	}
	ctx = junction.NewContextWithUser(ctx, admin)
	for _, d := range demoProjects {
		p := d.project
		if err := svc.Projects.CreateProject(ctx, &p); err != nil && junction.ErrorCode(err) != junction.ECONFLICT {
			return false, fmt.Errorf("project %s: %w", p.Handle, err)
		}
		for _, c := range d.components {
			if err := svc.Components.CreateComponent(ctx, p.Handle, &c); err != nil && junction.ErrorCode(err) != junction.ECONFLICT {
				return false, fmt.Errorf("component %s/%s: %w", p.Handle, c.Handle, err)
			}
		}
		for email, role := range d.members {
			if _, err := svc.Projects.SetMember(ctx, p.Handle, email, role); err != nil {
				return false, fmt.Errorf("member %s of %s: %w", email, p.Handle, err)
			}
		}
	}
	ids := map[string]string{}
	for _, service := range demoCatalog() {
		err := svc.Services.CreateService(ctx, &service)
		if err != nil && junction.ErrorCode(err) != junction.ECONFLICT {
			return false, fmt.Errorf("service %s: %w", service.Name, err)
		}
		if err == nil {
			ids[service.Name] = service.ID
		}
	}
	// Connections only on the first seeding: later starts find the services taken.
	for _, c := range demoConnections {
		id, ok := ids[c.service]
		if !ok {
			continue
		}
		conn := &junction.Connection{Name: c.name, Description: c.description, Project: c.project, Component: c.component,
			Service: junction.ServiceRef{ID: id}}
		if c.credential != "" {
			conn.Credentials = map[string]string{"development": c.credential, "production": c.credential}
		}
		if err := svc.Connections.CreateConnection(ctx, conn); err != nil && junction.ErrorCode(err) != junction.ECONFLICT {
			return false, fmt.Errorf("connection %s: %w", c.name, err)
		}
		for _, component := range c.mappedBy {
			names := map[string]string{}
			for _, p := range conn.Parameters {
				names[p.Name] = junction.SuggestEnvName(conn.Name, p.Name)
			}
			if _, err := svc.Mappings.SetMappings(ctx, c.project, component, conn.ID, names); err != nil {
				return false, fmt.Errorf("map connection %s in %s: %w", c.name, component, err)
			}
		}
	}
	return added, nil
}

func ensureUser(ctx context.Context, users junction.UserService, email string, admin bool) (*junction.User, bool, error) {
	user, err := users.FindUserByEmail(ctx, email)
	if err == nil {
		return user, false, nil
	} else if junction.ErrorCode(err) != junction.ENOTFOUND {
		return nil, false, err
	}
	user = &junction.User{Email: email, IsAdmin: admin}
	if err := users.CreateUser(ctx, user, DemoPassword); err != nil {
		return nil, false, fmt.Errorf("user %s: %w", email, err)
	}
	return user, true, nil
}

// demoConnections include two project connections of the shop to OAuth services, which share
// one OAuth application, component connections of several kinds, and the analytics project's
// read-only connection to the shop's orders database (credential readonly).
var demoConnections = []struct {
	project, component, service, name, description, credential string
	// mappedBy are the components that map every parameter to its suggested name.
	mappedBy []string
}{
	{"shop", "", "Identity API", "identity", "Sign-in for every shop component.", "", []string{"orders", "payments"}},
	{"shop", "", "Reports API", "reports", "Sales figures.", "", []string{"nightly-report"}},
	{"shop", "", "SendGrid", "mail", "Order confirmations.", "", []string{"orders"}},
	{"shop", "orders", "orders-db", "orders-db", "The orders database.", "", nil},
	{"shop", "orders", "Twilio", "twilio", "Delivery text messages.", "", nil},
	{"shop", "payments", "Stripe", "stripe", "Card payments.", "", []string{"payments"}},
	{"shop", "payments", "Payments API", "payments-api", "Refunds from the back office.", "", nil},
	{"analytics", "dashboard", "Orders API", "orders", "Order statistics.", "", []string{"dashboard"}},
	{"analytics", "", "orders-db", "orders-readonly", "Read-only access to the shop's orders, for reports and the warehouse sync.", "readonly", []string{"dashboard"}},
}
