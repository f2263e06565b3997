package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
)

// APIMappings lists a component's mappings: GET /api/v1/projects/:p/components/:c/mappings.
func (h *Handler) APIMappings(c echo.Context) error {
	list, err := h.Mappings.FindMappings(c.Request().Context(), c.Param("p"), c.Param("c"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

// APISetMappings maps every parameter of one connection, all or nothing:
// PUT /api/v1/projects/:p/components/:c/mappings/:id {"mappings":{"ServiceURL":"TWILIO_URL",…}}.
func (h *Handler) APISetMappings(c echo.Context) error {
	var body struct {
		Mappings map[string]string `json:"mappings"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	list, err := h.Mappings.SetMappings(c.Request().Context(), c.Param("p"), c.Param("c"), c.Param("id"), body.Mappings)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

// APIDeleteMappings removes a connection's mappings: DELETE .../mappings/:id.
func (h *Handler) APIDeleteMappings(c echo.Context) error {
	if err := h.Mappings.DeleteMappings(c.Request().Context(), c.Param("p"), c.Param("c"), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// APIEnv previews a component's environment: GET .../env?environment=E, {"NAME":"value"}
// with secrets masked unless reveal=true (allowed roles; audited); format=dotenv, shell, js
// or kubernetes as the runtime API writes them. format=kubernetes always holds the real
// values: a Secret with masked ones would store asterisks in the cluster.
func (h *Handler) APIEnv(c echo.Context) error {
	reveal, _ := strconv.ParseBool(c.QueryParam("reveal"))
	format := c.QueryParam("format")
	if format == "kubernetes" {
		reveal = true
	}
	vars, err := h.Mappings.Env(c.Request().Context(), c.Param("p"), c.Param("c"), c.QueryParam("environment"), reveal)
	if format == "kubernetes" && junction.ErrorCode(err) == junction.EFORBIDDEN {
		return errKubernetesForbidden
	} else if err != nil {
		return err
	}
	out := junction.EnvValues(vars)
	var body string
	contentType := "text/plain; charset=utf-8"
	switch format {
	case "", "json":
		return c.JSON(http.StatusOK, out)
	case "dotenv":
		body, err = junction.FormatDotenv(out)
	case "shell":
		body, err = junction.FormatShell(out)
	case "js":
		body, err = junction.FormatJS(vars)
		contentType = "text/javascript; charset=utf-8"
	case "kubernetes":
		body, contentType = junction.FormatKubernetesSecret(c.Param("c")+"-"+c.QueryParam("environment"), out), "application/yaml"
	default:
		return &junction.Error{Code: junction.EINVALID, Message: "format must be json, dotenv, shell, js or kubernetes.",
			Fields: map[string]string{"format": "Use json, dotenv, shell, js or kubernetes."}}
	}
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, contentType, []byte(body))
}

// errKubernetesForbidden refuses a Kubernetes Secret to a role that may not reveal secrets,
// rather than writing masked values into it.
var errKubernetesForbidden = junction.Errorf(junction.EFORBIDDEN,
	"A Kubernetes Secret holds the real values, and viewers cannot reveal secret values: ask a developer or an admin of the project to export it.")

// APICreateRuntimeToken creates a runtime token, shown once:
// POST .../runtime-tokens {"environment":"development","name":"optional"}.
func (h *Handler) APICreateRuntimeToken(c echo.Context) error {
	var body junction.RuntimeTokenRequest
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	token, secret, err := h.Mappings.IssueRuntimeToken(c.Request().Context(), c.Param("p"), c.Param("c"), body)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": token.ID, "token": secret, "environment": token.Environment,
		"name": token.Name, "prefix": token.Prefix, "created_by": token.CreatedBy, "created_at": token.CreatedAt})
}

// APIRuntimeTokens lists runtime tokens: GET .../runtime-tokens.
func (h *Handler) APIRuntimeTokens(c echo.Context) error {
	list, err := h.Mappings.FindRuntimeTokens(c.Request().Context(), c.Param("p"), c.Param("c"))
	if err != nil {
		return err
	}
	return writePage(c, list)
}

// APIRevokeRuntimeToken revokes a runtime token at once: DELETE .../runtime-tokens/:id.
func (h *Handler) APIRevokeRuntimeToken(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return junction.Errorf(junction.ENOTFOUND, "Runtime token not found.")
	}
	if err := h.Mappings.RevokeRuntimeToken(c.Request().Context(), c.Param("p"), c.Param("c"), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
