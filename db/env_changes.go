package db

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/jackc/pgx/v5"
)

// Changes of the runtime environments. Every write transaction may change some component's
// variables (a mapping, a connection, a rotation, a service's values, a revoked token) unless
// it says otherwise with keepEnv: sign-ins, sessions, users, members, audit entries and the
// record of a token's use cannot. A committed change bumps the generation that the runtime
// cache checks, and wakes the long polls waiting on EnvChanged.
//
// On PostgreSQL the change is also announced, in the same transaction, with
// pg_notify('junction_env'), which PostgreSQL delivers when (and only if) the transaction
// commits; every replica LISTENs on a connection of its own and bumps its generation when
// another replica's change arrives. While that connection is down a replica does not trust
// its cache (every fetch reads the database), and it bumps its generation when it is back, so
// a change made meanwhile is never missed.

// envChannel is the PostgreSQL notification channel of environment changes.
const envChannel = "junction_env"

// keepEnv marks the transaction as one that cannot change any component's variables, so
// that committing it keeps the runtime cache.
func (tx *Tx) keepEnv() { tx.envKept = true }

// changesEnv reports whether committing tx may change a runtime environment.
func (tx *Tx) changesEnv() bool { return tx.write && !tx.envKept }

// announceEnvChange tells the other replicas, inside the transaction, that it changes the
// runtime environments. On SQLite there are no other processes.
func (tx *Tx) announceEnvChange(ctx context.Context) error {
	if tx.db.dialect != postgresDialect {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_notify('`+envChannel+`', ?)`, tx.db.replicaID)
	return err
}

// envChanged records a committed change: caches recompute and long polls wake up.
func (db *DB) envChanged() {
	db.generation.Add(1)
	db.envMu.Lock()
	close(db.envWake)
	db.envWake = make(chan struct{})
	db.envMu.Unlock()
}

// EnvChanged returns a channel that is closed at the next committed change of any runtime
// environment, here or on another replica. Take it before reading what it guards.
func (db *DB) EnvChanged() <-chan struct{} {
	db.envMu.Lock()
	defer db.envMu.Unlock()
	return db.envWake
}

// envCacheUsable reports whether cached runtime environments of this generation may be
// served: always on SQLite; on PostgreSQL only while this replica hears the others' changes.
func (db *DB) envCacheUsable() bool {
	return db.dialect != postgresDialect || db.envListening.Load()
}

// newReplicaID names this process in its own notifications, so that it ignores them.
func newReplicaID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// listenEnvChanges keeps a connection of its own LISTENing for the other replicas' changes
// until ctx ends, reconnecting with a backoff of up to five seconds.
func (db *DB) listenEnvChanges(ctx context.Context, cfg *pgx.ConnConfig) {
	defer close(db.listenDone)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if err := db.listenOnce(ctx, cfg); err == nil || ctx.Err() != nil {
			backoff = 100 * time.Millisecond
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listenOnce connects, LISTENs and turns notifications into envChanged until the connection
// fails.
func (db *DB) listenOnce(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+envChannel); err != nil {
		return err
	}
	// Changes made while nobody listened are unknown: recompute everything once.
	db.envChanged()
	db.envListening.Store(true)
	defer db.envListening.Store(false)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload != db.replicaID {
			db.envChanged()
		}
	}
}
