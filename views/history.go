package views

import (
	"maps"
	"net/url"
	"slices"

	"github.com/junction-dev/junction"
)

// targetLabel is how a History tab names an entry's target: its name with its ID.
func targetLabel(e *junction.AuditEntry) string {
	if e.Target.Name != "" && e.Target.ID != "" && e.Target.Name != e.Target.ID {
		return e.Target.Name + " (" + e.Target.ID + ")"
	}
	return targetName(e)
}

// targetName is the name of an entry's target, or its ID when it has none.
func targetName(e *junction.AuditEntry) string {
	if e.Target.Name != "" {
		return e.Target.Name
	}
	return e.Target.ID
}

// detailItem is one line of an entry's details on the audit page: a field that changed
// (Before → After) or a plain value.
type detailItem struct {
	Key, Value    string
	Before, After string
	Changed       bool
}

// detailItems shows an entry's details as lines people read: each changed field of
// "before"/"after" as old → new, then the other details by key.
func detailItems(d map[string]any) []detailItem {
	var out []detailItem
	for _, ch := range junction.ChangesOf(d) {
		out = append(out, detailItem{Key: ch.Field, Before: ch.Before, After: ch.After, Changed: true})
	}
	for _, k := range slices.Sorted(maps.Keys(d)) {
		if k == "before" || k == "after" {
			continue
		}
		out = append(out, detailItem{Key: k, Value: junction.DetailString(d[k])})
	}
	return out
}

// jsonlURL is the API export of what the page's filters select.
func jsonlURL(q url.Values) string {
	out := url.Values{}
	for _, k := range []string{"actor", "action", "project", "target", "since", "until"} {
		if v := q.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	out.Set("format", "jsonl")
	return "/api/v1/audit?" + out.Encode()
}

// HistoryView is what a History tab shows: the changes of one thing, newest first.
type HistoryView struct {
	Heading string
	Crumbs  []Crumb
	// Back is the page of the thing itself.
	Back    string
	Entries []*junction.HistoryEntry
}

// MappingHistoryView is the history of a component's mappings, with restore.
type MappingHistoryView struct {
	Project, Component string
	Versions           []*junction.MappingVersion
	// Names are the connections' names by ID (a gone connection has none).
	Names    map[string]string
	CanWrite bool
	Error    string
}

// mappingRow is one variable of a version beside the version before it.
type mappingRow struct {
	Key, Connection, Parameter, Before, After string
}

// versionRows compares a version with the one before it (nil for the first).
func versionRows(v, before *junction.MappingVersion, names map[string]string) []mappingRow {
	type key struct{ conn, param string }
	rows := map[key]*mappingRow{}
	var order []key
	add := func(m junction.Mapping) *mappingRow {
		k := key{m.ConnectionID, m.Parameter}
		if rows[k] == nil {
			name := names[m.ConnectionID]
			if name == "" {
				name = m.ConnectionID + " (gone)"
			}
			rows[k] = &mappingRow{Key: m.ConnectionID + "." + m.Parameter, Connection: name, Parameter: m.Parameter}
			order = append(order, k)
		}
		return rows[k]
	}
	if before != nil {
		for _, m := range before.Mappings {
			add(m).Before = m.Env
		}
	}
	for _, m := range v.Mappings {
		add(m).After = m.Env
	}
	out := make([]mappingRow, 0, len(order))
	for _, k := range order {
		out = append(out, *rows[k])
	}
	return out
}

// previousVersion is the version listed after i (versions are newest first).
func previousVersion(list []*junction.MappingVersion, i int) *junction.MappingVersion {
	if i+1 < len(list) {
		return list[i+1]
	}
	return nil
}
