package views

import (
	"fmt"
	"strings"

	"github.com/junction-dev/junction"
)

// The "how to use" snippets read a connection's parameters from the suggested environment
// variables and, for OAuth services, fetch a token from TokenURL.

func paramNames(c *junction.Connection) []string {
	names := make([]string, len(c.Parameters))
	for i, p := range c.Parameters {
		names[i] = junction.SuggestEnvName(c.Name, p.Name)
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

func goSnippet(c *junction.Connection) string {
	var b strings.Builder
	for _, n := range paramNames(c) {
		fmt.Fprintf(&b, "%s := os.Getenv(%q)\n", goVar(n), n)
	}
	if hasParam(c, junction.ParamConsumerKey) {
		fmt.Fprintf(&b, "\n// Fetch a token with golang.org/x/oauth2/clientcredentials:\ncfg := clientcredentials.Config{ClientID: %s, ClientSecret: %s, TokenURL: %s}\nclient := cfg.Client(ctx) // adds the token to every request\n",
			goVar(junction.SuggestEnvName(c.Name, junction.ParamConsumerKey)), goVar(junction.SuggestEnvName(c.Name, junction.ParamConsumerSecret)), goVar(junction.SuggestEnvName(c.Name, junction.ParamTokenURL)))
	}
	return b.String()
}

func goVar(env string) string {
	parts := strings.Split(strings.ToLower(env), "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

func nodeSnippet(c *junction.Connection) string {
	var b strings.Builder
	for _, n := range paramNames(c) {
		fmt.Fprintf(&b, "const %s = process.env.%s;\n", goVar(n), n)
	}
	if hasParam(c, junction.ParamConsumerKey) {
		fmt.Fprintf(&b, "\nconst res = await fetch(%s, {\n  method: \"POST\",\n  headers: { Authorization: \"Basic \" + Buffer.from(%s + \":\" + %s).toString(\"base64\") },\n  body: new URLSearchParams({ grant_type: \"client_credentials\" }),\n});\nconst { access_token } = await res.json();\n",
			goVar(junction.SuggestEnvName(c.Name, junction.ParamTokenURL)), goVar(junction.SuggestEnvName(c.Name, junction.ParamConsumerKey)), goVar(junction.SuggestEnvName(c.Name, junction.ParamConsumerSecret)))
	}
	return b.String()
}

func pythonSnippet(c *junction.Connection) string {
	var b strings.Builder
	b.WriteString("import os\n\n")
	for _, n := range paramNames(c) {
		fmt.Fprintf(&b, "%s = os.environ[%q]\n", strings.ToLower(n), n)
	}
	if hasParam(c, junction.ParamConsumerKey) {
		fmt.Fprintf(&b, "\nimport requests\ntoken = requests.post(%s, data={\"grant_type\": \"client_credentials\"},\n                      auth=(%s, %s)).json()[\"access_token\"]\n",
			strings.ToLower(junction.SuggestEnvName(c.Name, junction.ParamTokenURL)), strings.ToLower(junction.SuggestEnvName(c.Name, junction.ParamConsumerKey)), strings.ToLower(junction.SuggestEnvName(c.Name, junction.ParamConsumerSecret)))
	}
	return b.String()
}

func curlSnippet(c *junction.Connection) string {
	url := "$" + junction.SuggestEnvName(c.Name, junction.ParamServiceURL)
	switch {
	case hasParam(c, junction.ParamConsumerKey):
		return fmt.Sprintf("TOKEN=$(curl -s -u \"$%s:$%s\" -d grant_type=client_credentials \"$%s\" | jq -r .access_token)\ncurl -H \"Authorization: Bearer $TOKEN\" \"%s\"\n",
			junction.SuggestEnvName(c.Name, junction.ParamConsumerKey), junction.SuggestEnvName(c.Name, junction.ParamConsumerSecret), junction.SuggestEnvName(c.Name, junction.ParamTokenURL), url)
	case hasParam(c, junction.ParamAPIKey):
		return fmt.Sprintf("curl -H \"API-Key: $%s\" \"%s\"\n", junction.SuggestEnvName(c.Name, junction.ParamAPIKey), url)
	case hasParam(c, junction.ParamHostName):
		return fmt.Sprintf("psql \"host=$%s port=$%s dbname=$%s user=$%s password=$%s\"\n",
			junction.SuggestEnvName(c.Name, junction.ParamHostName), junction.SuggestEnvName(c.Name, junction.ParamPort), junction.SuggestEnvName(c.Name, junction.ParamDatabaseName),
			junction.SuggestEnvName(c.Name, junction.ParamUsername), junction.SuggestEnvName(c.Name, junction.ParamPassword))
	}
	return fmt.Sprintf("curl \"%s\"\n", url)
}
