package views

import (
	"fmt"
	"strings"

	"github.com/junction-dev/junction"
)

// The "how to use" snippets read a connection's parameters from the environment variables a
// component maps them to (else the suggested names) and, for OAuth services, fetch a token
// from TokenURL. Identifiers follow each language's habits: Go camelCase with initialisms
// (stripeURL), JavaScript camelCase (stripeUrl), Python snake_case (stripe_url).

// UsageNames are the variable names one component gives a connection's parameters.
type UsageNames struct {
	// Component is "project/component"; empty for the suggested names.
	Component string
	// Names maps each parameter to its variable.
	Names map[string]string
}

// snippetNames answers a parameter's variable name.
type snippetNames struct {
	c     *junction.Connection
	names map[string]string
}

func (s snippetNames) env(param string) string {
	if n, ok := s.names[param]; ok && n != "" {
		return n
	}
	return junction.SuggestEnvName(s.c.Name, param)
}

func (s snippetNames) all() []string {
	names := make([]string, len(s.c.Parameters))
	for i, p := range s.c.Parameters {
		names[i] = s.env(p.Name)
	}
	return names
}

func hasParam(c *junction.Connection, name string) bool {
	for _, p := range c.Parameters {
		if p.Name == name {
			return true
		}
	}
	return false
}

func goSnippet(c *junction.Connection, names map[string]string) string {
	s := snippetNames{c, names}
	var b strings.Builder
	for _, n := range s.all() {
		fmt.Fprintf(&b, "%s := os.Getenv(%q)\n", goVar(n), n)
	}
	if hasParam(c, junction.ParamConsumerKey) {
		fmt.Fprintf(&b, "\n// Fetch a token with golang.org/x/oauth2/clientcredentials:\ncfg := clientcredentials.Config{ClientID: %s, ClientSecret: %s, TokenURL: %s}\nclient := cfg.Client(ctx) // adds the token to every request\n",
			goVar(s.env(junction.ParamConsumerKey)), goVar(s.env(junction.ParamConsumerSecret)), goVar(s.env(junction.ParamTokenURL)))
	}
	return b.String()
}

// goInitialisms are written in capitals in Go names (Effective Go; golint's list).
var goInitialisms = map[string]bool{"api": true, "db": true, "dns": true, "http": true, "https": true, "id": true, "ip": true,
	"json": true, "sid": true, "sql": true, "ssh": true, "tls": true, "ttl": true, "uri": true, "url": true, "uuid": true, "xml": true}

// goVar turns an environment variable name into a Go identifier: STRIPE_URL -> stripeURL.
func goVar(env string) string {
	return camel(env, func(word string) string {
		if goInitialisms[word] {
			return strings.ToUpper(word)
		}
		return strings.ToUpper(word[:1]) + word[1:]
	})
}

// jsVar turns an environment variable name into a JavaScript identifier: STRIPE_URL -> stripeUrl.
func jsVar(env string) string {
	return camel(env, func(word string) string { return strings.ToUpper(word[:1]) + word[1:] })
}

// suffixInitialisms end words of the suggested names (SERVICEURL, TOKENURL, ACCOUNTSID)
// and are split off, so that they read as words of their own (serviceURL, service_url).
var suffixInitialisms = []string{"url", "uri", "sid"}

// words splits an upper-case snake name into lower-case words.
func words(env string) []string {
	var out []string
	for _, w := range strings.Split(strings.ToLower(env), "_") {
		if w == "" {
			continue
		}
		split := false
		for _, suffix := range suffixInitialisms {
			if len(w) > len(suffix)+2 && strings.HasSuffix(w, suffix) {
				out = append(out, strings.TrimSuffix(w, suffix), suffix)
				split = true
				break
			}
		}
		if !split {
			out = append(out, w)
		}
	}
	return out
}

// camel joins the words of an upper-case snake name: the first lower-case, the others as
// title gives them. A Go initialism that starts the name stays lower-case (apiKey).
func camel(env string, title func(string) string) string {
	words := words(env)
	if len(words) == 0 {
		return "value"
	}
	out := words[0]
	if out[0] >= '0' && out[0] <= '9' {
		out = "v" + out
	}
	for _, w := range words[1:] {
		out += title(w)
	}
	return out
}

// pyVar turns an environment variable name into a Python identifier: STRIPE_URL -> stripe_url.
func pyVar(env string) string {
	v := strings.Join(words(env), "_")
	if v == "" {
		return "value"
	}
	if v[0] >= '0' && v[0] <= '9' {
		v = "v" + v
	}
	return v
}

func nodeSnippet(c *junction.Connection, names map[string]string) string {
	s := snippetNames{c, names}
	var b strings.Builder
	for _, n := range s.all() {
		fmt.Fprintf(&b, "const %s = process.env.%s;\n", jsVar(n), n)
	}
	if hasParam(c, junction.ParamConsumerKey) {
		fmt.Fprintf(&b, "\nconst res = await fetch(%s, {\n  method: \"POST\",\n  headers: { Authorization: \"Basic \" + Buffer.from(%s + \":\" + %s).toString(\"base64\") },\n  body: new URLSearchParams({ grant_type: \"client_credentials\" }),\n});\nconst { access_token } = await res.json();\n",
			jsVar(s.env(junction.ParamTokenURL)), jsVar(s.env(junction.ParamConsumerKey)), jsVar(s.env(junction.ParamConsumerSecret)))
	}
	return b.String()
}

func pythonSnippet(c *junction.Connection, names map[string]string) string {
	s := snippetNames{c, names}
	var b strings.Builder
	b.WriteString("import os\n\n")
	for _, n := range s.all() {
		fmt.Fprintf(&b, "%s = os.environ[%q]\n", pyVar(n), n)
	}
	if hasParam(c, junction.ParamConsumerKey) {
		fmt.Fprintf(&b, "\nimport requests\ntoken = requests.post(%s, data={\"grant_type\": \"client_credentials\"},\n                      auth=(%s, %s)).json()[\"access_token\"]\n",
			pyVar(s.env(junction.ParamTokenURL)), pyVar(s.env(junction.ParamConsumerKey)), pyVar(s.env(junction.ParamConsumerSecret)))
	}
	return b.String()
}

func curlSnippet(c *junction.Connection, names map[string]string) string {
	s := snippetNames{c, names}
	url := "$" + s.env(junction.ParamServiceURL)
	switch {
	case hasParam(c, junction.ParamConsumerKey):
		return fmt.Sprintf("TOKEN=$(curl -s -u \"$%s:$%s\" -d grant_type=client_credentials \"$%s\" | jq -r .access_token)\ncurl -H \"Authorization: Bearer $TOKEN\" \"%s\"\n",
			s.env(junction.ParamConsumerKey), s.env(junction.ParamConsumerSecret), s.env(junction.ParamTokenURL), url)
	case hasParam(c, junction.ParamAPIKey):
		return fmt.Sprintf("curl -H \"API-Key: $%s\" \"%s\"\n", s.env(junction.ParamAPIKey), url)
	case hasParam(c, junction.ParamHostName):
		return fmt.Sprintf("psql \"host=$%s port=$%s dbname=$%s user=$%s password=$%s\"\n",
			s.env(junction.ParamHostName), s.env(junction.ParamPort), s.env(junction.ParamDatabaseName),
			s.env(junction.ParamUsername), s.env(junction.ParamPassword))
	}
	return fmt.Sprintf("curl \"%s\"\n", url)
}
