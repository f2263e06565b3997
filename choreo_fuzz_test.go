package junction_test

import (
	"testing"

	"github.com/junction-dev/junction"
)

// FuzzParseComponentYAML feeds arbitrary text to the component.yaml importer: it must never
// panic, and every error it returns is a field error that says where.
func FuzzParseComponentYAML(f *testing.F) {
	for _, seed := range []string{
		"schemaVersion: 1.1\ndependencies:\n  connectionReferences:\n    - name: a\n      resourceRef: thirdparty:Twilio/v1\n",
		"dependencies:\n  connectionReferences:\n    - name: db\n      resourceRef: database:orders/orders\nconfigurations:\n  env:\n    - name: X\n      valueFrom:\n        connectionRef: {name: db, key: Port}\n",
		"dependencies: {connectionReferences: [{name: s, resourceRef: 'service:/p/c/v1/abcde/PUBLIC'}]}",
		"", "[", ": :", "dependencies:\n  connectionReferences: 3\n", "\t\x00",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		imp, err := junction.ParseComponentYAML([]byte(data))
		if err != nil {
			if junction.ErrorCode(err) != junction.EINVALID || junction.ErrorFields(err)["yaml"] == "" {
				t.Fatalf("error %v is not a yaml field error", err)
			}
			return
		}
		for _, ref := range imp.References {
			if _, err := junction.ParseResourceRef(ref.ResourceRef); err != nil {
				t.Fatalf("accepted a bad resourceRef %q", ref.ResourceRef)
			}
		}
	})
}
