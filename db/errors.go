package db

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"

	"github.com/junction-dev/junction"
)

// Store errors that WrapError makes of the drivers' own. Callers that know what a constraint
// means (a name already taken) check the code and say so in their own words.
var (
	errConstraintConflict = &junction.Error{Code: junction.ECONFLICT, Message: "This conflicts with something that already exists."}
	errConstraintInvalid  = &junction.Error{Code: junction.EINVALID, Message: "This refers to something that does not exist, or breaks a rule."}
	errUnavailable        = &junction.Error{Code: junction.EUNAVAILABLE, Message: "The database is unavailable. Try again in a moment."}
	// PostgreSQL's text cannot hold the NUL character (SQLite's can): refused as bad input.
	errNULCharacter = &junction.Error{Code: junction.EINVALID, Message: "Text may not contain the NUL character."}
)

// WrapError turns each driver's constraint and connection failures into the store's errors,
// by their codes: a unique (or primary key) violation is ECONFLICT, a foreign-key, check or
// not-null violation EINVALID, and a database that cannot be reached EUNAVAILABLE. The
// driver's error stays in the chain for the log. Other errors, sql.ErrNoRows and errors that
// already carry a code come back as they are.
func WrapError(err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var coded *junction.Error
	if errors.As(err, &coded) {
		return err
	}
	if kind := classifyDriverError(err); kind != nil {
		return fmt.Errorf("%w (%w)", kind, err)
	}
	return err
}

func classifyDriverError(err error) *junction.Error {
	var lite sqlite3.Error
	if errors.As(err, &lite) {
		switch lite.ExtendedCode {
		case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey:
			return errConstraintConflict
		case sqlite3.ErrConstraintForeignKey, sqlite3.ErrConstraintCheck, sqlite3.ErrConstraintNotNull:
			return errConstraintInvalid
		}
		if lite.Code == sqlite3.ErrBusy || lite.Code == sqlite3.ErrLocked {
			return errUnavailable
		}
		return nil
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case pg.Code == "23505": // unique_violation
			return errConstraintConflict
		case pg.Code == "23503", pg.Code == "23514", pg.Code == "23502": // foreign_key, check, not_null
			return errConstraintInvalid
		case pg.Code == "22021", pg.Code == "22P05": // character_not_in_repertoire (NUL), untranslatable_character
			return errNULCharacter
		case strings.HasPrefix(pg.Code, "08"), // connection exception
			pg.Code == "57P01", pg.Code == "57P02", pg.Code == "57P03", // shutdown, crash, starting up
			pg.Code == "53300": // too many connections
			return errUnavailable
		}
		return nil
	}
	var connect *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connect) || errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || pgconn.SafeToRetry(err) {
		return errUnavailable
	}
	return nil
}

// isConflict reports whether err is a violated unique constraint.
func isConflict(err error) bool {
	return junction.ErrorCode(err) == junction.ECONFLICT
}
