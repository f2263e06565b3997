package views

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDetailItems(t *testing.T) {
	got := detailItems(map[string]any{
		"before":      map[string]any{"name": "stock", "visibility": "project"},
		"after":       map[string]any{"name": "stock", "visibility": "organization", "secret": "changed"},
		"environment": "development",
		"deleted":     float64(3),
	})
	require.Equal(t, []detailItem{
		{Key: "secret", After: "changed", Changed: true},
		{Key: "visibility", Before: "project", After: "organization", Changed: true},
		{Key: "deleted", Value: "3"},
		{Key: "environment", Value: "development"},
	}, got, "changed fields (an unchanged one left out) first, then the other details by key")
	require.Empty(t, detailItems(nil))
}
