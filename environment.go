package junction

import (
	"context"
	"regexp"
	"strings"
)

// Environment is a stage that connections have values for, such as development.
type Environment struct {
	Name string `json:"name"`
}

var environmentPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,30}[a-z0-9]$`)

// Validate checks an environment's name: 3 to 32 lower-case letters, digits and hyphens,
// starting with a letter.
func (e *Environment) Validate() error {
	e.Name = strings.TrimSpace(e.Name)
	fields := FieldErrors{}
	switch {
	case e.Name == "":
		fields.Add("name", "Enter a name.")
	case !environmentPattern.MatchString(e.Name):
		fields.Add("name", "Use 3 to 32 lower-case letters, digits and hyphens, starting with a letter.")
	}
	return fields.Err()
}

// EnvironmentService lists environments and lets admins add more.
type EnvironmentService interface {
	FindEnvironments(ctx context.Context) ([]*Environment, error)
	CreateEnvironment(ctx context.Context, env *Environment) error
}
