package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseRetention(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "400d": 400 * 24 * time.Hour, "36h": 36 * time.Hour, " 7d ": 7 * 24 * time.Hour} {
		got, err := ParseRetention(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"400", "d", "-1d", "0d", "1.5d", "3w", "1y", "10m", "forever"} {
		_, err := ParseRetention(in)
		require.Error(t, err, in)
		require.Contains(t, err.Error(), "JUNCTION_AUDIT_RETENTION", in)
	}
}

// TestServeRefusesABadRetention: one clear line at start, exit code 2, nothing served.
func TestServeRefusesABadRetention(t *testing.T) {
	res := runCLI(t, map[string]string{"JUNCTION_AUDIT_RETENTION": "a year", "JUNCTION_SECRET_KEY": crashKey},
		"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "junction.db"))
	require.Equal(t, 2, res.code)
	require.Equal(t, 1, strings.Count(strings.TrimSpace(res.stderr), "\n")+1, res.stderr)
	require.Contains(t, res.stderr, `JUNCTION_AUDIT_RETENTION must be a number of days or hours such as 400d or 36h, not "a year"`)
}
