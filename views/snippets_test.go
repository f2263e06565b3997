package views

import (
	"strings"
	"testing"

	"github.com/junction-dev/junction"
)

func TestSnippetIdentifiers(t *testing.T) {
	for _, tt := range []struct{ env, goName, js, py string }{
		{"STRIPE_URL", "stripeURL", "stripeUrl", "stripe_url"},
		{"TWILIO_ACCOUNTSID", "twilioAccountSID", "twilioAccountSid", "twilio_account_sid"},
		{"IDENTITY_SERVICEURL", "identityServiceURL", "identityServiceUrl", "identity_service_url"},
		{"PAID_URL", "paidURL", "paidUrl", "paid_url"},
		{"ORDERS_API_KEY", "ordersAPIKey", "ordersApiKey", "orders_api_key"},
		{"API_KEY", "apiKey", "apiKey", "api_key"},
		{"DB__HOST_", "dbHost", "dbHost", "db_host"},
		{"_2FA_SECRET", "v2faSecret", "v2faSecret", "v2fa_secret"},
	} {
		if got := goVar(tt.env); got != tt.goName {
			t.Errorf("goVar(%s) = %s, want %s", tt.env, got, tt.goName)
		}
		if got := jsVar(tt.env); got != tt.js {
			t.Errorf("jsVar(%s) = %s, want %s", tt.env, got, tt.js)
		}
		if got := pyVar(tt.env); got != tt.py {
			t.Errorf("pyVar(%s) = %s, want %s", tt.env, got, tt.py)
		}
	}
}

func TestSnippetsUseMappedNames(t *testing.T) {
	c := &junction.Connection{Name: "Stripe", Parameters: []junction.ConnectionParameter{{Name: "ServiceURL"}, {Name: "ChoreoAPIKey", Secret: true}}}
	mapped := map[string]string{"ServiceURL": "STRIPE_URL", "ChoreoAPIKey": "PAYMENTS_KEY"}
	for name, snippet := range map[string]string{
		"go":     goSnippet(c, mapped),
		"node":   nodeSnippet(c, mapped),
		"python": pythonSnippet(c, mapped),
		"curl":   curlSnippet(c, mapped),
	} {
		if !strings.Contains(snippet, "STRIPE_URL") || !strings.Contains(snippet, "PAYMENTS_KEY") {
			t.Errorf("%s snippet lacks the mapped names:\n%s", name, snippet)
		}
		if strings.Contains(snippet, "STRIPE_SERVICEURL") {
			t.Errorf("%s snippet uses the suggested name:\n%s", name, snippet)
		}
	}
	if got := goSnippet(c, mapped); !strings.Contains(got, `stripeURL := os.Getenv("STRIPE_URL")`) {
		t.Errorf("go snippet:\n%s", got)
	}
	if got := goSnippet(c, nil); !strings.Contains(got, `os.Getenv("STRIPE_SERVICEURL")`) {
		t.Errorf("without a mapping the snippet uses the suggested names:\n%s", got)
	}
}
