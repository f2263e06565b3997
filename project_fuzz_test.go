package junction_test

import (
	"regexp"
	"testing"

	"github.com/junction-dev/junction"
)

var validHandle = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

// FuzzValidateHandle: handle validation never panics and accepts only URL-safe handles.
func FuzzValidateHandle(f *testing.F) {
	for _, seed := range []string{"shop", "a", "-ab", "ab-", "Shop", "a--b", "ünï", "x\x00y", "123"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, handle string) {
		if junction.ValidateHandle(handle) == "" && !validHandle.MatchString(handle) {
			t.Fatalf("accepted %q", handle)
		}
		_ = junction.HandleFromName(handle)
	})
}
