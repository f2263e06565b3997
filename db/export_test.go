package db

import (
	"context"
	"database/sql"

	"github.com/junction-dev/junction"
)

// WritePool returns the single-connection writer pool, for tests that inspect pragmas or the
// raw tables.
func (db *DB) WritePool() *sql.DB { return db.write }

// ReadPool returns the pool of query-only readers.
func (db *DB) ReadPool() *sql.DB { return db.read }

// Sealer returns the sealer the database uses for secrets at rest.
func (db *DB) Sealer() *Sealer { return db.sealer }

// CreateServices registers many services in one transaction, to seed large catalogs for
// benchmarks quickly; each goes through the same rules as CreateService.
func (s *ServiceService) CreateServices(ctx context.Context, services []*junction.Service) error {
	user, err := caller(ctx)
	if err != nil {
		return err
	}
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		for _, svc := range services {
			if err := s.createService(ctx, tx, user, svc); err != nil {
				return err
			}
		}
		return nil
	})
}
