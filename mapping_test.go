package junction_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

func TestValidateEnvName(t *testing.T) {
	const (
		msgEmpty    = "Enter a variable name."
		msgLength   = "Use at most 128 characters."
		msgPattern  = "Use letters, digits and underscores, not starting with a digit."
		msgJunction = "Names starting with JUNCTION_ are reserved for Junction."
	)
	reserved := func(name string) string { return name + " is reserved: the system sets it." }
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"Upper", "TWILIO_URL", ""},
		{"Lower", "twilio_url", ""},
		{"Mixed", "TwilioUrl2", ""},
		{"OneLetter", "A", ""},
		{"Underscore", "_", ""},
		{"LeadingUnderscore", "_9LIVES", ""},
		{"DigitsInside", "A1_2_3", ""},
		{"Max", strings.Repeat("A", 128), ""},
		{"MaxWithUnderscores", "_" + strings.Repeat("x_1", 42) + "z", ""},
		{"PathLike", "PATHS", ""},
		{"PathInside", "MY_PATH", ""},
		{"HomeDir", "HOME_DIR", ""},
		{"PortNumber", "PORT_NUMBER", ""},
		{"HostnamePrefix", "XHOSTNAME", ""},
		{"JunctionWithoutUnderscore", "JUNCTION", ""},
		{"JunctionSuffix", "MY_JUNCTION_URL", ""},
		{"JunctionJoined", "JUNCTIONX", ""},

		{"ErrEmpty", "", msgEmpty},
		{"ErrTooLong", strings.Repeat("A", 129), msgLength},
		{"ErrTooLongAndBad", strings.Repeat("1", 200), msgLength},
		{"ErrLeadingDigit", "1ABC", msgPattern},
		{"ErrOnlyDigit", "9", msgPattern},
		{"ErrHyphen", "TWILIO-URL", msgPattern},
		{"ErrDot", "twilio.url", msgPattern},
		{"ErrDollar", "$HOME", msgPattern},
		{"ErrEquals", "A=B", msgPattern},
		{"ErrSpaceInside", "TWILIO URL", msgPattern},
		{"ErrLeadingSpace", " TWILIO_URL", msgPattern},
		{"ErrTrailingSpace", "TWILIO_URL ", msgPattern},
		{"ErrOnlySpaces", "   ", msgPattern},
		{"ErrTab", "A\tB", msgPattern},
		{"ErrTrailingNewline", "A\n", msgPattern},
		{"ErrNUL", "A\x00", msgPattern},
		{"ErrUnicodeLetter", "ÉTÉ", msgPattern},
		{"ErrUnicodeInside", "CAFÉ_URL", msgPattern},
		{"ErrUnicodeDigit", "A٣", msgPattern},
		{"ErrCyrillicLookalike", "Н", msgPattern}, // U+041D, looks like H
		{"ErrFullwidth", "ＡＢＣ", msgPattern},
		{"ErrEmoji", "URL_🚀", msgPattern},
		{"ErrInvalidUTF8", "A\xff", msgPattern},

		{"ErrPATH", "PATH", reserved("PATH")},
		{"ErrPathLower", "path", reserved("path")},
		{"ErrPathMixed", "Path", reserved("Path")},
		{"ErrHOME", "HOME", reserved("HOME")},
		{"ErrHomeMixed", "hOmE", reserved("hOmE")},
		{"ErrHOSTNAME", "HOSTNAME", reserved("HOSTNAME")},
		{"ErrHostnameLower", "hostname", reserved("hostname")},
		{"ErrPORT", "PORT", reserved("PORT")},
		{"ErrPortMixed", "Port", reserved("Port")},

		{"ErrJunctionPrefix", "JUNCTION_TOKEN", msgJunction},
		{"ErrJunctionPrefixOnly", "JUNCTION_", msgJunction},
		{"ErrJunctionLower", "junction_server", msgJunction},
		{"ErrJunctionMixed", "Junction_Server", msgJunction},
		{"ErrJunctionOddCase", "jUnCtIoN_x", msgJunction},
		{"ErrJunctionLong", "JUNCTION_" + strings.Repeat("X", 119), msgJunction},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, junction.ValidateEnvName(tt.in), "%q", tt.in)
		})
	}
	require.Len(t, "JUNCTION_"+strings.Repeat("X", 119), junction.MaxEnvNameLength)
	require.Equal(t, 128, junction.MaxEnvNameLength)
}

func TestSuggestEnvName(t *testing.T) {
	tests := []struct {
		connection, parameter string
		want                  string
	}{
		{"Twilio", "ServiceURL", "TWILIO_SERVICEURL"},
		{"twilio", "AuthToken", "TWILIO_AUTHTOKEN"},
		{"orders-db", "HostName", "ORDERS_DB_HOSTNAME"},
		{"Twilio EU", "AccountSID", "TWILIO_EU_ACCOUNTSID"},
		{"payments.v2", "ConsumerKey", "PAYMENTS_V2_CONSUMERKEY"},
		{"a/b:c@d", "Port", "A_B_C_D_PORT"},
		{"under_score", "TokenURL", "UNDER_SCORE_TOKENURL"},
		{"Café", "ServiceURL", "CAF__SERVICEURL"},
		{"日本", "X", "___X"},
		{"  spaced  ", "Password", "__SPACED___PASSWORD"},
		{"3scale", "ServiceURL", "_3SCALE_SERVICEURL"},
		{"1", "2", "_1_2"},
		{"", "ServiceURL", "_SERVICEURL"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := junction.SuggestEnvName(tt.connection, tt.parameter)
			require.Equal(t, tt.want, got)
			require.Regexp(t, `^[A-Z_][A-Z0-9_]*$`, got, "a suggestion is a valid, upper-case name")
		})
	}
	// Every suggestion for ordinary names passes validation.
	for _, conn := range []string{"Twilio", "orders-db", "Stock API", "9lives", "sms.gateway"} {
		for _, prm := range []string{"ServiceURL", "ConsumerKey", "ConsumerSecret", "TokenURL", "ChoreoAPIKey", "HostName", "Password"} {
			name := junction.SuggestEnvName(conn, prm)
			require.Empty(t, junction.ValidateEnvName(name), "%s", name)
		}
	}
}

func TestValidateMapping(t *testing.T) {
	twilio := []string{"ServiceURL", "AccountSID", "AuthToken"}
	good := func() map[string]string {
		return map[string]string{"ServiceURL": "TWILIO_URL", "AccountSID": "TWILIO_SID", "AuthToken": "TWILIO_TOKEN"}
	}
	with := func(changes map[string]string, drop ...string) map[string]string {
		m := good()
		for k, v := range changes {
			m[k] = v
		}
		for _, k := range drop {
			delete(m, k)
		}
		return m
	}
	taken := []junction.MappingTaken{
		{Env: "DB_HOST", ConnectionID: "conn_aaaaaaaaaaaaaaaaaaaaaaaaaa", ConnectionName: "orders-db", Parameter: "HostName"},
		{Env: "DB_PASSWORD", ConnectionID: "conn_aaaaaaaaaaaaaaaaaaaaaaaaaa", ConnectionName: "orders-db", Parameter: "Password"},
		{Env: "STOCK_URL", ConnectionID: "conn_bbbbbbbbbbbbbbbbbbbbbbbbbb", ConnectionName: "stock", Parameter: "ServiceURL"},
	}
	tests := []struct {
		name   string
		params []string
		names  map[string]string
		taken  []junction.MappingTaken
		want   map[string][]string // field -> substrings of its message
	}{
		{"OK", twilio, good(), nil, nil},
		{"OKWithOthersTaken", twilio, good(), taken, nil},
		{"OKCaseDiffersFromTaken", twilio, with(map[string]string{"ServiceURL": "db_host"}), taken, nil},
		{"OKSingleParameter", []string{"ServiceURL"}, map[string]string{"ServiceURL": "STOCK_URL_2"}, taken, nil},
		{"OKNoParameters", nil, map[string]string{}, taken, nil},

		{"ErrMissingOne", twilio, with(nil, "AuthToken"), nil, map[string][]string{"AuthToken": {"Enter a variable name."}}},
		{"ErrEmptyOne", twilio, with(map[string]string{"AccountSID": ""}), nil, map[string][]string{"AccountSID": {"Enter a variable name."}}},
		{"ErrBlankOne", twilio, with(map[string]string{"AccountSID": "   "}), nil, map[string][]string{"AccountSID": {"Enter a variable name."}}},
		{"ErrMissingAll", twilio, nil, nil, map[string][]string{
			"ServiceURL": {"Enter"}, "AccountSID": {"Enter"}, "AuthToken": {"Enter"},
		}},
		{"ErrPattern", twilio, with(map[string]string{"ServiceURL": "1URL"}), nil, map[string][]string{"ServiceURL": {"letters, digits and underscores"}}},
		{"ErrTooLong", twilio, with(map[string]string{"ServiceURL": strings.Repeat("U", 129)}), nil, map[string][]string{"ServiceURL": {"128"}}},
		{"ErrReserved", twilio, with(map[string]string{"AuthToken": "path"}), nil, map[string][]string{"AuthToken": {"reserved"}}},
		{"ErrReservedJunction", twilio, with(map[string]string{"AuthToken": "JUNCTION_TOKEN"}), nil, map[string][]string{"AuthToken": {"JUNCTION_"}}},
		{"ErrDuplicateWithinConnection", twilio, with(map[string]string{"AuthToken": "TWILIO_SID"}), nil, map[string][]string{
			"AuthToken": {"TWILIO_SID", "AccountSID"},
		}},
		{"ErrAllSame", twilio, map[string]string{"ServiceURL": "X", "AccountSID": "X", "AuthToken": "X"}, nil, map[string][]string{
			"AccountSID": {"X", "ServiceURL"}, "AuthToken": {"X", "ServiceURL"},
		}},
		{"ErrTakenByOtherConnection", twilio, with(map[string]string{"ServiceURL": "STOCK_URL"}), taken, map[string][]string{
			"ServiceURL": {"STOCK_URL", "stock", "conn_bbbbbbbbbbbbbbbbbbbbbbbbbb"},
		}},
		{"ErrTakenTwice", twilio, with(map[string]string{"AccountSID": "DB_HOST", "AuthToken": "DB_PASSWORD"}), taken, map[string][]string{
			"AccountSID": {"DB_HOST", "orders-db", "conn_aaaaaaaaaaaaaaaaaaaaaaaaaa"},
			"AuthToken":  {"DB_PASSWORD", "orders-db", "conn_aaaaaaaaaaaaaaaaaaaaaaaaaa"},
		}},
		{"ErrUnknownParameter", twilio, with(map[string]string{"Nope": "NOPE"}), nil, map[string][]string{"Nope": {"Nope"}}},
		{"ErrUnknownParameterCase", twilio, with(map[string]string{"serviceurl": "SVC"}), nil, map[string][]string{"serviceurl": {"serviceurl"}}},
		{"ErrUnknownAndMissing", twilio, map[string]string{"ServiceURL": "A", "AccountSID": "B", "Token": "C"}, nil, map[string][]string{
			"Token": {"Token"}, "AuthToken": {"Enter"},
		}},
		{"ErrOneBadAmongGood", twilio, with(map[string]string{"AccountSID": "HOME"}), taken, map[string][]string{"AccountSID": {"reserved"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := junction.ValidateMapping(tt.params, tt.names, tt.taken)
			if tt.want == nil {
				require.NoError(t, err, "%v", junction.ErrorFields(err))
				return
			}
			require.Error(t, err)
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
			fields := junction.ErrorFields(err)
			keys := []string{}
			for k := range fields {
				keys = append(keys, k)
			}
			wantKeys := []string{}
			for k := range tt.want {
				wantKeys = append(wantKeys, k)
			}
			require.ElementsMatch(t, wantKeys, keys, "errors are keyed by exactly the bad parameters: %v", fields)
			for field, subs := range tt.want {
				for _, s := range subs {
					require.Contains(t, fields[field], s, "field %s", field)
				}
			}
		})
	}
}
