package handlers

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/views"
)

// exportValues returns a component's variables with values in clear, for exports: they need
// the reveal permission and are audited like a reveal.
func (h *Handler) exportValues(c echo.Context, environment string) (map[string]string, error) {
	vars, err := h.Mappings.Env(c.Request().Context(), c.Param("p"), c.Param("c"), environment, true)
	if err != nil {
		return nil, err
	}
	return junction.EnvValues(vars), nil
}

// Export downloads a component's environment: GET /projects/:p/components/:c/export with
// format=dotenv|shell|json|kubernetes (values of environment, audited as a reveal), js (config.js
// of a web application: any role, refused when a variable is secret) or component.yaml
// (schema 1.1 or 1.2, no values).
func (h *Handler) Export(c echo.Context) error {
	env := c.QueryParam("environment")
	name := c.Param("c") + "-" + env
	var body []byte
	contentType := "text/plain; charset=utf-8"
	switch c.QueryParam("format") {
	case "dotenv":
		values, err := h.exportValues(c, env)
		if err != nil {
			return err
		}
		out, err := junction.FormatDotenv(values)
		if err != nil {
			return err
		}
		body, name = []byte(out), name+".env"
	case "shell":
		values, err := h.exportValues(c, env)
		if err != nil {
			return err
		}
		out, err := junction.FormatShell(values)
		if err != nil {
			return err
		}
		body, name = []byte(out), name+".sh"
	case "json":
		values, err := h.exportValues(c, env)
		if err != nil {
			return err
		}
		body, _ = json.MarshalIndent(values, "", "  ")
		body, name, contentType = append(body, '\n'), name+".json", "application/json"
	case "kubernetes":
		values, err := h.exportValues(c, env)
		if junction.ErrorCode(err) == junction.EFORBIDDEN {
			return errKubernetesForbidden
		} else if err != nil {
			return err
		}
		body, name = []byte(junction.FormatKubernetesSecret(c.Param("c")+"-"+env, values)), name+"-secret.yaml"
	case "js":
		// No reveal: config.js never holds a secret, so it needs no right to see one.
		vars, err := h.Mappings.Env(c.Request().Context(), c.Param("p"), c.Param("c"), env, false)
		if err != nil {
			return err
		}
		out, err := junction.FormatJS(vars)
		if err != nil {
			return err
		}
		body, name, contentType = []byte(out), "config.js", "text/javascript; charset=utf-8"
	case "component.yaml":
		out, err := h.componentYAML(c)
		if err != nil {
			return err
		}
		body, name = out.YAML, "component.yaml"
	default:
		return &junction.Error{Code: junction.EINVALID, Message: "format must be dotenv, shell, json, kubernetes, js or component.yaml.",
			Fields: map[string]string{"format": "Use dotenv, shell, json, kubernetes, js or component.yaml."}}
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	return c.Blob(http.StatusOK, contentType, body)
}

// componentYAML exports the component's connections as a Choreo component.yaml of the
// schema asked for (default 1.2); what the file cannot carry goes into a Warning header.
func (h *Handler) componentYAML(c echo.Context) (*junction.ChoreoExport, error) {
	schema := c.QueryParam("schema")
	if schema == "" {
		schema = junction.ChoreoSchema12
	}
	out, err := h.Mappings.ExportComponentYAML(c.Request().Context(), c.Param("p"), c.Param("c"), schema)
	if err != nil {
		return nil, err
	}
	if out.Warning != "" {
		c.Response().Header().Set("Warning", warningHeader(out.Warning))
	}
	return out, nil
}

// warningHeader is an RFC 7234 Warning (299, "miscellaneous persistent warning").
func warningHeader(text string) string {
	return `299 junction "` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", " ", "\r", " ").Replace(text) + `"`
}

// APIComponentYAML exports the component's connections as a Choreo component.yaml:
// GET /api/v1/projects/:p/components/:c/component.yaml (?schema=1.0|1.1|1.2).
func (h *Handler) APIComponentYAML(c echo.Context) error {
	out, err := h.componentYAML(c)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/yaml", out.YAML)
}

// APIImportComponentYAML imports a Choreo component.yaml: PUT with the YAML as body,
// ?dry_run=true to see the plan without applying it.
func (h *Handler) APIImportComponentYAML(c echo.Context) error {
	// Who may import is settled before the file is read: a project the caller may not see is
	// 404 whatever the file holds.
	p, err := h.Projects.FindProject(c.Request().Context(), c.Param("p"))
	if err != nil {
		return err
	}
	if _, err := h.Components.FindComponent(c.Request().Context(), p.Handle, c.Param("c")); err != nil {
		return err
	}
	if !p.Can.Write {
		return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot import mappings.")
	}
	data, err := io.ReadAll(io.LimitReader(c.Request().Body, maxJSONBody))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The body could not be read.")
	}
	imp, err := junction.ParseComponentYAML(data)
	if err != nil {
		return err
	}
	dryRun, _ := strconv.ParseBool(c.QueryParam("dry_run"))
	steps, err := h.Mappings.ImportComponentYAML(c.Request().Context(), c.Param("p"), c.Param("c"), imp, dryRun)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"dry_run": dryRun, "format": imp.Format, "steps": steps,
		"message": junction.ImportSummary(steps, dryRun)})
}

// ImportPage shows the import form and, after a preview, what applying will do:
// GET and POST /projects/:p/components/:c/import.
func (h *Handler) ImportPage(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := h.Projects.FindProject(ctx, c.Param("p"))
	if err != nil {
		return err
	}
	comp, err := h.Components.FindComponent(ctx, p.Handle, c.Param("c"))
	if err != nil {
		return err
	}
	if !p.Can.Write {
		return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot import mappings.")
	}
	v := views.ImportView{Project: p, Component: comp, YAML: c.FormValue("yaml")}
	page := h.page(c, "Import component.yaml", "projects")
	if c.Request().Method == http.MethodGet {
		return render(c, http.StatusOK, views.ImportPage(page, v))
	}
	if file, err := c.FormFile("file"); err == nil {
		f, err := file.Open()
		if err == nil {
			data, _ := io.ReadAll(io.LimitReader(f, maxJSONBody))
			f.Close()
			v.YAML = string(data)
		}
	}
	imp, err := junction.ParseComponentYAML([]byte(v.YAML))
	apply := c.FormValue("apply") == "yes"
	if err == nil {
		v.Steps, err = h.Mappings.ImportComponentYAML(ctx, p.Handle, comp.Handle, imp, !apply)
	}
	if isFormError(err) {
		v.Error = junction.ErrorMessage(err)
		return render(c, formStatus(err), views.ImportPage(page, v))
	} else if err != nil {
		return err
	}
	if apply {
		return h.redirect(c, "/projects/"+p.Handle+"/components/"+comp.Handle+"/env", junction.ImportSummary(v.Steps, false))
	}
	v.Previewed, v.Format, v.Summary = true, imp.Format, junction.ImportSummary(v.Steps, true)
	return render(c, http.StatusOK, views.ImportPage(page, v))
}
