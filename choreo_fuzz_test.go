package junction_test

import (
	"regexp"
	"testing"

	"github.com/junction-dev/junction"
)

// FuzzParseComponentYAML feeds arbitrary text to the Choreo file importer: it must never
// panic, every error it returns is a field error that says where, and every reference it
// accepts names a service Choreo's validator accepts. testdata/fuzz/FuzzParseComponentYAML
// holds full files of each format (1.0, 1.1, 1.2, component-config.yaml v1alpha1 and
// v1beta1, endpoints only) as seeds.
func FuzzParseComponentYAML(f *testing.F) {
	for _, seed := range []string{
		"schemaVersion: 1.1\ndependencies:\n  connectionReferences:\n    - name: a\n      resourceRef: thirdparty:Twilio/v1\n",
		"dependencies:\n  connectionReferences:\n    - name: db\n      resourceRef: database:orders/orders\nconfigurations:\n  env:\n    - name: X\n      valueFrom:\n        connectionRef: {name: db, key: Port}\n",
		"dependencies: {connectionReferences: [{name: s, resourceRef: 'service:/p/c/v1/abcde/PUBLIC'}]}",
		"schemaVersion: 1.0\ndependencies:\n  serviceReferences:\n    - name: choreo:///o/p/c/abcde/v1.0/PUBLIC\n      connectionConfig: conn_x\n      env: [{from: ServiceURL, to: URL}]\n",
		"apiVersion: core.choreo.dev/v1beta1\nkind: ComponentConfig\nspec:\n  outbound:\n    serviceReferences:\n    - {name: 'thirdparty:T/v1', connectionConfig: u, env: [{from: a, to: B}]}\n",
		"apiVersion: ''\nendpoints: []\n",
		"", "[", ": :", "dependencies:\n  connectionReferences: 3\n", "\t\x00", "a: 'x\n\nb: 1\n",
	} {
		f.Add(seed)
	}
	located := regexp.MustCompile(`^(Line|Near line) [1-9][0-9]*[: ]`)
	f.Fuzz(func(t *testing.T, data string) {
		imp, err := junction.ParseComponentYAML([]byte(data))
		if err != nil {
			msg := junction.ErrorMessage(err)
			if junction.ErrorCode(err) != junction.EINVALID || junction.ErrorFields(err)["yaml"] != msg {
				t.Fatalf("error %v is not a yaml field error", err)
			}
			if !located.MatchString(msg) && msg != "The file is empty: paste or upload a component.yaml or component-config.yaml." {
				t.Fatalf("error %q does not say where", msg)
			}
			return
		}
		for _, ref := range imp.References {
			if _, err := ref.Service(); err != nil {
				t.Fatalf("accepted a bad service reference %q", ref.Ref())
			}
			if ref.Line < 1 {
				t.Fatalf("reference %q has no line", ref.Name)
			}
		}
	})
}
