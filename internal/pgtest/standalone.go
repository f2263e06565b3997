package pgtest

import "fmt"

// StartStandalone starts a throwaway cluster outside of a test binary, as the benchmarks
// need one (or connects to JUNCTION_TEST_POSTGRES); Shutdown stops it.
func StartStandalone() (*Cluster, error) { return start() }

// CreateDatabase creates an empty database called name and returns its URL.
func (c *Cluster) CreateDatabase(name string) (string, error) {
	if _, err := c.admin.Exec(`CREATE DATABASE "` + name + `"`); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return c.URL(name), nil
}

// Shutdown stops a cluster that StartStandalone started and removes its files; an external
// one (JUNCTION_TEST_POSTGRES) is left running.
func (c *Cluster) Shutdown() error {
	if c.external {
		return c.admin.Close()
	}
	return c.stop()
}
