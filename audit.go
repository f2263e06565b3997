package junction

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Audit outcomes.
const (
	OutcomeOK     = "ok"
	OutcomeDenied = "denied"
)

// AuditTarget names what an audit entry is about: its type (connection, project,
// component, mappings, service, user, token, runtime_token, member, environment, session,
// audit), its ID as the API addresses it, and its name when it was written.
type AuditTarget struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AuditEntry is a domain event: who did what to which target, with the non-secret values
// before and after in Details (a secret appears only as "changed"). It is written in the
// same transaction as the change it records.
type AuditEntry struct {
	ID         int64          `json:"-"`
	At         time.Time      `json:"at"`
	Actor      string         `json:"actor"`
	Action     string         `json:"action"`
	Project    string         `json:"project,omitempty"`
	Component  string         `json:"component,omitempty"`
	Target     AuditTarget    `json:"target"`
	Outcome    string         `json:"outcome"`
	RequestID  string         `json:"request_id,omitempty"`
	ClientAddr string         `json:"client_addr,omitempty"`
	Details    map[string]any `json:"details,omitempty"`

	// ProjectID is the project's internal ID, so that a project's entries stay its own after
	// another project takes its handle.
	ProjectID int64 `json:"-"`
}

// Path is the console page of the entry's target, or "" when it has none (or is gone).
func (e *AuditEntry) Path() string {
	t := e.Target
	switch t.Type {
	case "connection":
		return "/connections/" + t.ID
	case "project":
		return "/projects/" + t.ID
	case "component", "runtime_token":
		if e.Project != "" && e.Component != "" {
			return "/projects/" + e.Project + "/components/" + e.Component
		}
	case "mappings":
		if e.Project != "" && e.Component != "" {
			return "/projects/" + e.Project + "/components/" + e.Component + "/env"
		}
	case "member":
		if e.Project != "" {
			return "/projects/" + e.Project
		}
	case "service":
		return "/services/" + t.ID
	case "user":
		return "/users"
	case "token":
		return "/account"
	case "environment":
		return "/environments"
	}
	return ""
}

// AuditFilter selects audit entries; empty fields select all.
type AuditFilter struct {
	Actor  string
	Action string
	// Project keeps the entries of one project, by its handle (resolved to its ID).
	Project string
	// Target keeps the entries about one target, by its ID.
	Target string
	Since  time.Time
	Until  time.Time
	Page   Page
}

// AuditLog lists the audit trail and keeps it: entries are written by the store methods
// that make the changes.
type AuditLog interface {
	// RecordDenied records an authorization denial (outcome denied) on its own.
	RecordDenied(ctx context.Context, e AuditEntry) error
	// FindAudit lists entries newest first; for admins.
	FindAudit(ctx context.Context, f AuditFilter) ([]*AuditEntry, int, error)
	// EachAudit calls fn for every entry that f selects (ignoring its page), newest first;
	// for admins.
	EachAudit(ctx context.Context, f AuditFilter, fn func(*AuditEntry) error) error
	// PurgeAudit deletes the entries older than before and records that it did
	// (audit.purge, by "system"); it returns how many it deleted.
	PurgeAudit(ctx context.Context, before time.Time) (int, error)
}

// HistoryEntry is one change in the history of a connection, a service or a project: an
// audit entry with its changes per field.
type HistoryEntry struct {
	*AuditEntry
	Changes []FieldChange
}

// FieldChange is one field's value before and after a change ("" when it had none).
type FieldChange struct {
	Field  string
	Before string
	After  string
}

// ChangesOf lists the fields whose values differ between an entry's details "before" and
// "after", sorted by field.
func ChangesOf(details map[string]any) []FieldChange {
	before, _ := details["before"].(map[string]any)
	after, _ := details["after"].(map[string]any)
	fields := map[string]bool{}
	for k := range before {
		fields[k] = true
	}
	for k := range after {
		fields[k] = true
	}
	var out []FieldChange
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		b, a := DetailString(before[k]), DetailString(after[k])
		if b != a {
			out = append(out, FieldChange{Field: k, Before: b, After: a})
		}
	}
	return out
}

// DetailString shows one value of an entry's details: strings as they are, numbers and
// booleans as Go prints them, anything else as compact JSON.
func DetailString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// HistoryService reads the history of things from the audit log.
type HistoryService interface {
	// History lists the entries about a target (type and ID), newest first, for callers who
	// may see it (ENOTFOUND otherwise).
	History(ctx context.Context, targetType, targetID string) ([]*HistoryEntry, error)
}

// RequestInfo is what the audit log records about the request behind a change.
type RequestInfo struct {
	ID         string
	ClientAddr string
}

const requestContextKey contextKey = 100

// NewContextWithRequest returns a copy of ctx that carries the request's ID and client address.
func NewContextWithRequest(ctx context.Context, r RequestInfo) context.Context {
	return context.WithValue(ctx, requestContextKey, r)
}

// RequestFromContext returns the request info in ctx (zero when there is none).
func RequestFromContext(ctx context.Context) RequestInfo {
	r, _ := ctx.Value(requestContextKey).(RequestInfo)
	return r
}
