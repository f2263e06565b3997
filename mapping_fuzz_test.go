package junction_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/junction-dev/junction"
)

var acceptedEnvName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// FuzzValidateEnvName checks that name validation never panics and that every name it
// accepts follows the rules of DESIGN.md: the pattern, at most 128 characters, not reserved.
// The seeded corpus is under testdata/fuzz/FuzzValidateEnvName.
func FuzzValidateEnvName(f *testing.F) {
	for _, seed := range []string{"", "TWILIO_URL", "PATH", "junction_x", "1ABC", "CAFÉ", strings.Repeat("A", 129)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		msg := junction.ValidateEnvName(name)
		if msg != "" {
			return
		}
		if !acceptedEnvName.MatchString(name) {
			t.Fatalf("accepted %q, which does not match %s", name, acceptedEnvName)
		}
		if len(name) > junction.MaxEnvNameLength || len(name) > 128 {
			t.Fatalf("accepted %q of %d characters", name, len(name))
		}
		upper := strings.ToUpper(name)
		switch upper {
		case "PATH", "HOME", "HOSTNAME", "PORT":
			t.Fatalf("accepted the reserved name %q", name)
		}
		if strings.HasPrefix(upper, "JUNCTION_") {
			t.Fatalf("accepted %q, which starts with JUNCTION_", name)
		}
		// A valid name suggested back stays valid and unchanged apart from its case.
		if got := junction.SuggestEnvName(name, "X"); got != upper+"_X" {
			t.Fatalf("SuggestEnvName(%q, X) = %q, want %q", name, got, upper+"_X")
		}
	})
}
