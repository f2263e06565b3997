package junction

// ProjectGraph is what a project's dependency diagram shows: its components, the connections
// they use (a project connection once, however many components map it) and the services
// behind those connections.
type ProjectGraph struct {
	Project     *Project
	Components  []*Component
	Connections []*GraphConnection
	Services    []*GraphService
}

// GraphConnection is a connection in a dependency diagram.
type GraphConnection struct {
	ID    string
	Name  string
	Scope Scope
	// Component owns a component-scope connection.
	Component string
	ServiceID string
	// MappedBy are the handles of the project's components that map the connection.
	MappedBy []string
}

// GraphService is a service in a dependency diagram.
type GraphService struct {
	ID      string
	Name    string // as the catalog shows it
	Kind    ServiceKind
	Version string
	Engine  string
	// Project and Component publish an internal service.
	Project   string
	Component string
	Unlisted  bool
}

// Service returns the graph's service with the given ID, or nil.
func (g *ProjectGraph) Service(id string) *GraphService {
	for _, s := range g.Services {
		if s.ID == id {
			return s
		}
	}
	return nil
}
