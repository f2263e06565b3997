package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// TestDemoFollowsChoreoRules: the demo catalog and connections pass the rules that keep
// every exported component.yaml valid for Choreo (versions like v1, connection names).
func TestDemoFollowsChoreoRules(t *testing.T) {
	for _, s := range demoCatalog() {
		t.Run(s.Name, func(t *testing.T) {
			err := s.Validate([]string{"development", "production"})
			require.NoError(t, err, "%v", junction.ErrorFields(err))
			if s.Kind != junction.KindDatabase {
				require.Empty(t, junction.ValidateVersion(s.Version))
			}
		})
	}
	for _, c := range demoConnections {
		require.Empty(t, junction.ValidateConnectionName(c.name), c.name)
	}
	for _, s := range demoCatalog() {
		if s.Name == "Twilio" {
			require.Equal(t, "v1", s.Version)
			require.True(t, strings.Contains(s.Description, "2010-04-01"), "the API date is in the description")
		}
	}
}
