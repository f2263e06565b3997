package db_test

import (
	"testing"
	"fmt"

	"github.com/junction-dev/junction"
)

func TestProbe(t *testing.T) {
	f := newConnFixture(t)
	svc := internalService("shop", "inventory", "Dev API", junction.VisibilityOrganization)
	svc.URLs = map[string]string{"development": "http://dev:8080"}
	f.mustCreateService(t, f.developer, svc)
	keyed := withSecurity(internalService("shop", "inventory", "Keyed API", junction.VisibilityOrganization), junction.SecurityAPIKey)
	keyed.URLs = map[string]string{"development": "http://dev:8080"}
	f.mustCreateService(t, f.developer, keyed)
	none := withSecurity(internalService("shop", "inventory", "None API", junction.VisibilityOrganization), junction.SecurityNone)
	f.mustCreateService(t, f.developer, none)
	a := f.connect(t, f.developer, "shop", "", svc.ID, "a")
	b := f.connect(t, f.developer, "shop", "", keyed.ID, "b")
	n := f.connect(t, f.developer, "shop", "", none.ID, "n")
	upd := internalService("shop", "inventory", "Dev API", junction.VisibilityOrganization)
	_, err := f.services.UpdateService(ContextAs(t, f.developer), svc.ID, upd)
	fmt.Println("update", err)
	upd = withSecurity(internalService("shop", "inventory", "Keyed API", junction.VisibilityOrganization), junction.SecurityAPIKey)
	_, err = f.services.UpdateService(ContextAs(t, f.developer), keyed.ID, upd)
	fmt.Println("update", err)
	upd = withSecurity(internalService("shop", "inventory", "None API", junction.VisibilityOrganization), junction.SecurityOAuth)
	_, err = f.services.UpdateService(ContextAs(t, f.developer), none.ID, upd)
	fmt.Println("update", err)
	for _, c := range []*junction.Connection{a, b, n} {
		got := f.reveal(t, c.ID)
		for _, p := range got.Parameters {
			fmt.Printf("%s %s %q\n", c.Name, p.Name, p.Values)
		}
		_, err = f.conns.Rotate(ContextAs(t, f.developer), c.ID, "production")
		fmt.Println("rotate prod", err)
	}
}
