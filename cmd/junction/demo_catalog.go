package main

import "github.com/junction-dev/junction"

// thirdParty builds a demo third-party service with a sandbox endpoint for development and a
// live one for production.
func thirdParty(name, version, description string, tags []string, params []junction.ServiceParameter, sandboxURL, liveURL string) junction.Service {
	values := func(env string) map[string]string {
		v := map[string]string{}
		for _, p := range params {
			v[p.Name] = "demo-" + env + "-" + p.Name
		}
		return v
	}
	return junction.Service{
		Kind: junction.KindThirdParty, Name: name, Version: version, Description: description, Tags: tags, Parameters: params,
		Endpoints: []junction.Endpoint{
			{Name: "sandbox", URL: sandboxURL, Environments: []string{"development"}, Values: values("sandbox")},
			{Name: "live", URL: liveURL, Environments: []string{"production"}, Values: values("live")},
		},
	}
}

func secret(name string) junction.ServiceParameter {
	return junction.ServiceParameter{Name: name, Secret: true}
}
func plain(name string) junction.ServiceParameter { return junction.ServiceParameter{Name: name} }

func database(name, engine, description string, tags []string, host, port, dbname, user string) junction.Service {
	values := func(env string) map[string]string {
		return map[string]string{
			junction.ParamHostName: env + "-" + host, junction.ParamPort: port, junction.ParamDatabaseName: dbname,
			junction.ParamUsername: user, junction.ParamPassword: "demo-" + env + "-password",
		}
	}
	return junction.Service{Kind: junction.KindDatabase, Name: name, Engine: engine, Description: description, Tags: tags,
		Values: map[string]map[string]string{"development": values("dev"), "production": values("prod")}}
}

// withReadonly adds a readonly credential to a demo database in every environment, for
// consumers that only read, such as reports.
func withReadonly(s junction.Service, user string) junction.Service {
	s.Credentials = map[string][]junction.DatabaseCredential{}
	for env := range s.Values {
		s.Credentials[env] = []junction.DatabaseCredential{{Name: "readonly", Username: user, Password: "demo-" + env + "-readonly-password"}}
	}
	return s
}

func internal(project, component, name, version, description string, tags []string, vis junction.Visibility, sec junction.Security) junction.Service {
	return junction.Service{Kind: junction.KindInternal, Project: project, Component: component, Name: name, Version: version,
		Description: description, Tags: tags, Visibility: vis, Security: sec,
		URLs: map[string]string{
			"development": "http://" + component + "." + project + ".dev.internal:8080/" + version,
			"production":  "https://" + component + "." + project + ".example.com/" + version,
		}}
}

// demoCatalog returns the demo organization's catalog: third-party APIs, databases and
// internal endpoints with every visibility and security scheme. It builds new values on every
// call because creating a service masks its secrets in place.
func demoCatalog() []junction.Service {
	return []junction.Service{
		thirdParty("Twilio", "v1", "SMS, voice and WhatsApp messaging (REST API version 2010-04-01).", []string{"sms", "voice", "messaging"},
			[]junction.ServiceParameter{plain("AccountSID"), secret("AuthToken")}, "https://api.twilio.com", "https://api.twilio.com"),
		thirdParty("Stripe", "v1", "Card payments, subscriptions and invoices.", []string{"payments", "billing"},
			[]junction.ServiceParameter{plain("PublishableKey"), secret("SecretKey")}, "https://api.stripe.com", "https://api.stripe.com"),
		thirdParty("SendGrid", "v3", "Transactional and marketing e-mail.", []string{"email"},
			[]junction.ServiceParameter{secret("APIKey")}, "https://api.sendgrid.com", "https://api.sendgrid.com"),
		thirdParty("Slack", "v1", "Post messages and alerts to Slack channels.", []string{"chat", "alerts"},
			[]junction.ServiceParameter{secret("BotToken"), secret("SigningSecret")}, "https://slack.com/api", "https://slack.com/api"),
		thirdParty("GitHub", "v3", "Repositories, issues and deployments (REST API version 2022-11-28).", []string{"git", "ci"},
			[]junction.ServiceParameter{secret("Token")}, "https://api.github.com", "https://api.github.com"),
		thirdParty("Google Maps", "v1", "Geocoding, directions and places.", []string{"maps", "geo"},
			[]junction.ServiceParameter{secret("APIKey")}, "https://maps.googleapis.com", "https://maps.googleapis.com"),
		thirdParty("Mailgun", "v3", "E-mail sending and inbound routing.", []string{"email"},
			[]junction.ServiceParameter{plain("Domain"), secret("APIKey")}, "https://api.eu.mailgun.net", "https://api.mailgun.net"),
		thirdParty("PagerDuty", "v2", "Incident alerts and on-call escalation.", []string{"alerts", "on-call"},
			[]junction.ServiceParameter{secret("RoutingKey")}, "https://events.pagerduty.com", "https://events.pagerduty.com"),
		thirdParty("Sentry", "v0", "Error tracking and performance monitoring.", []string{"errors", "monitoring"},
			[]junction.ServiceParameter{secret("DSN")}, "https://sentry.io/api", "https://sentry.io/api"),
		thirdParty("Auth0", "v2", "Hosted sign-in and user management.", []string{"identity", "oauth"},
			[]junction.ServiceParameter{plain("Domain"), plain("ClientID"), secret("ClientSecret")}, "https://demo-dev.eu.auth0.com", "https://demo.eu.auth0.com"),
		thirdParty("OpenWeather", "v2.5", "Current weather and forecasts.", []string{"weather"},
			[]junction.ServiceParameter{secret("APIKey")}, "https://api.openweathermap.org/data/2.5", "https://api.openweathermap.org/data/2.5"),

		withReadonly(database("orders-db", "postgres", "Orders and order lines of the online shop.", []string{"orders"}, "orders-db.internal", "5432", "orders", "orders_app"), "orders_readonly"),
		database("sessions-cache", "redis", "Session and rate-limit cache.", []string{"cache"}, "redis.internal", "6379", "0", "default"),
		database("analytics-warehouse", "postgres", "Reporting warehouse fed by the nightly sync.", []string{"analytics", "warehouse"}, "warehouse.internal", "5432", "warehouse", "reporter"),
		database("catalog-mongo", "mongodb", "Product catalog documents.", []string{"catalog"}, "mongo.internal", "27017", "catalog", "catalog_app"),
		database("legacy-erp", "mssql", "The ERP's SQL Server database, read-only.", []string{"erp"}, "erp.internal", "1433", "ERP", "readonly"),

		internal("shop", "orders", "Orders API", "v1", "Create and track orders.", []string{"orders"}, junction.VisibilityOrganization, junction.SecurityOAuth),
		internal("shop", "payments", "Payments API", "v1", "Charge and refund orders; used only inside the shop.", []string{"payments"}, junction.VisibilityProject, junction.SecurityAPIKey),
		internal("platform", "identity", "Identity API", "v2", "Users, groups and sign-in tokens.", []string{"identity", "users"}, junction.VisibilityPublic, junction.SecurityOAuth),
		internal("platform", "notifications", "Notifications API", "v1", "Send e-mail, SMS and push notifications through one API.", []string{"email", "sms", "push"}, junction.VisibilityOrganization, junction.SecurityAPIKey),
		internal("platform", "api-gateway", "Public Gateway", "v1", "Entry point for partners.", []string{"gateway"}, junction.VisibilityPublic, junction.SecurityNone),
		internal("analytics", "ingest", "Events Webhook", "v1", "Receives tracking events.", []string{"events"}, junction.VisibilityProject, junction.SecurityNone),
		internal("analytics", "dashboard", "Reports API", "v1", "Sales and traffic reports.", []string{"reports"}, junction.VisibilityOrganization, junction.SecurityOAuth),
	}
}
