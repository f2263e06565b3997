package junction

import (
	"context"
	"strings"
	"time"
)

// ComponentType says what kind of workload a component is.
type ComponentType string

// Component types.
const (
	ComponentTypeService       ComponentType = "service"
	ComponentTypeWebApp        ComponentType = "web-app"
	ComponentTypeScheduledTask ComponentType = "scheduled-task"
	ComponentTypeManualTask    ComponentType = "manual-task"
	ComponentTypeWebhook       ComponentType = "webhook"
	ComponentTypeAPIProxy      ComponentType = "api-proxy"
)

// ComponentTypes lists every component type in display order.
var ComponentTypes = []ComponentType{
	ComponentTypeService, ComponentTypeWebApp, ComponentTypeScheduledTask,
	ComponentTypeManualTask, ComponentTypeWebhook, ComponentTypeAPIProxy,
}

// Valid reports whether t is a known component type.
func (t ComponentType) Valid() bool {
	for _, known := range ComponentTypes {
		if t == known {
			return true
		}
	}
	return false
}

// Component is a deployable part of a project: a service, a web app, a task.
type Component struct {
	ID        int64         `json:"-"`
	ProjectID int64         `json:"-"`
	Project   string        `json:"project"`
	Handle    string        `json:"handle"`
	Name      string        `json:"name"`
	Type      ComponentType `json:"type"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
}

// Validate checks a component's fields. An empty handle is derived from the name and an empty
// type defaults to service.
func (c *Component) Validate() error {
	c.Name = strings.TrimSpace(c.Name)
	c.Handle = strings.TrimSpace(c.Handle)
	if c.Handle == "" {
		c.Handle = HandleFromName(c.Name)
	}
	if c.Type == "" {
		c.Type = ComponentTypeService
	}
	fields := FieldErrors{}
	if msg := ValidateHandle(c.Handle); msg != "" {
		fields.Add("handle", msg)
	}
	if msg := validateName(c.Name); msg != "" {
		fields.Add("name", msg)
	}
	if !c.Type.Valid() {
		fields.Add("type", "Choose one of: service, web-app, scheduled-task, manual-task, webhook, api-proxy.")
	}
	return fields.Err()
}

// ComponentUpdate holds the fields of a component that may change. Nil means unchanged.
type ComponentUpdate struct {
	Name *string        `json:"name"`
	Type *ComponentType `json:"type"`
}

// Apply validates the update and applies it to c.
func (u ComponentUpdate) Apply(c *Component) error {
	if u.Name != nil {
		c.Name = *u.Name
	}
	if u.Type != nil {
		c.Type = *u.Type
	}
	return c.Validate()
}

// ComponentService manages the components of a project, acting as the user in ctx with the
// same visibility rules as ProjectService.
type ComponentService interface {
	FindComponents(ctx context.Context, project string, page Page) ([]*Component, int, error)
	FindComponent(ctx context.Context, project, handle string) (*Component, error)
	CreateComponent(ctx context.Context, project string, c *Component) error
	UpdateComponent(ctx context.Context, project, handle string, upd ComponentUpdate) (*Component, error)
	DeleteComponent(ctx context.Context, project, handle string) error
}
