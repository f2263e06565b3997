package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/views"
)

// NewComponentPage shows the create component form: GET /projects/:p/components/new.
func (h *Handler) NewComponentPage(c echo.Context) error {
	p, err := h.Projects.FindProject(c.Request().Context(), c.Param("p"))
	if err != nil {
		return err
	}
	if !p.Can.Write {
		return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot add components.")
	}
	form := views.ComponentForm{Type: junction.ComponentTypeService}
	return render(c, http.StatusOK, views.ComponentNewPage(h.page(c, "New component", "projects"), p, form))
}

// CreateComponent handles the create component form: POST /projects/:p/components.
func (h *Handler) CreateComponent(c echo.Context) error {
	ctx := c.Request().Context()
	comp := &junction.Component{Handle: c.FormValue("handle"), Name: c.FormValue("name"), Type: junction.ComponentType(c.FormValue("type"))}
	err := h.Components.CreateComponent(ctx, c.Param("p"), comp)
	if isFormError(err) {
		p, perr := h.Projects.FindProject(ctx, c.Param("p"))
		if perr != nil {
			return perr
		}
		form := views.ComponentForm{Handle: c.FormValue("handle"), Name: comp.Name, Type: comp.Type, Errors: junction.ErrorFields(err)}
		return render(c, formStatus(err), views.ComponentNewPage(h.page(c, "New component", "projects"), p, form))
	} else if err != nil {
		return err
	}
	return h.redirect(c, "/projects/"+comp.Project+"/components/"+comp.Handle, "Component "+comp.Name+" created.")
}

// ComponentPage shows a component: GET /projects/:p/components/:c.
func (h *Handler) ComponentPage(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := h.Projects.FindProject(ctx, c.Param("p"))
	if err != nil {
		return err
	}
	comp, err := h.Components.FindComponent(ctx, p.Handle, c.Param("c"))
	if err != nil {
		return err
	}
	return h.renderComponentWith(c, http.StatusOK, p, comp, views.ComponentForm{Name: comp.Name, Type: comp.Type},
		views.RuntimeTokensView{New: h.Sessions.TakeToken(c, componentPath(p.Handle, comp.Handle))})
}

// UpdateComponent handles the component settings form: POST /projects/:p/components/:c.
func (h *Handler) UpdateComponent(c echo.Context) error {
	ctx := c.Request().Context()
	name, typ := c.FormValue("name"), junction.ComponentType(c.FormValue("type"))
	comp, err := h.Components.UpdateComponent(ctx, c.Param("p"), c.Param("c"), junction.ComponentUpdate{Name: &name, Type: &typ})
	if isFormError(err) {
		p, perr := h.Projects.FindProject(ctx, c.Param("p"))
		if perr != nil {
			return perr
		}
		current, cerr := h.Components.FindComponent(ctx, p.Handle, c.Param("c"))
		if cerr != nil {
			return cerr
		}
		return h.renderComponent(c, formStatus(err), p, current, views.ComponentForm{Name: name, Type: typ, Errors: junction.ErrorFields(err)})
	} else if err != nil {
		return err
	}
	return h.redirect(c, "/projects/"+comp.Project+"/components/"+comp.Handle, "Component saved.")
}

// DeleteComponent deletes a component after confirmation: POST /projects/:p/components/:c/delete.
func (h *Handler) DeleteComponent(c echo.Context) error {
	ctx := c.Request().Context()
	if c.FormValue("confirm") != "yes" {
		p, err := h.Projects.FindProject(ctx, c.Param("p"))
		if err != nil {
			return err
		}
		comp, err := h.Components.FindComponent(ctx, p.Handle, c.Param("c"))
		if err != nil {
			return err
		}
		if !p.Can.Write {
			return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot delete components.")
		}
		return render(c, http.StatusOK, views.ComponentDeletePage(h.page(c, "Delete "+comp.Name, "projects"), p, comp))
	}
	if err := h.Components.DeleteComponent(ctx, c.Param("p"), c.Param("c")); err != nil {
		return err
	}
	return h.redirect(c, "/projects/"+c.Param("p"), "Component "+c.Param("c")+" deleted.")
}

// APIComponents lists a project's components: GET /api/v1/projects/:p/components.
func (h *Handler) APIComponents(c echo.Context) error {
	page, err := pageParam(c)
	if err != nil {
		return err
	}
	components, total, err := h.Components.FindComponents(c.Request().Context(), c.Param("p"), page)
	if err != nil {
		return err
	}
	return writeList(c, components, total, page)
}

// APICreateComponent creates a component: POST /api/v1/projects/:p/components.
func (h *Handler) APICreateComponent(c echo.Context) error {
	var comp junction.Component
	if err := decodeJSON(c, &comp); err != nil {
		return err
	}
	if err := h.Components.CreateComponent(c.Request().Context(), c.Param("p"), &comp); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, &comp)
}

// APIComponent answers one component: GET /api/v1/projects/:p/components/:c.
func (h *Handler) APIComponent(c echo.Context) error {
	comp, err := h.Components.FindComponent(c.Request().Context(), c.Param("p"), c.Param("c"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, comp)
}

// APIUpdateComponent renames a component or changes its type: PATCH /api/v1/projects/:p/components/:c.
func (h *Handler) APIUpdateComponent(c echo.Context) error {
	var upd junction.ComponentUpdate
	if err := decodeJSON(c, &upd); err != nil {
		return err
	}
	comp, err := h.Components.UpdateComponent(c.Request().Context(), c.Param("p"), c.Param("c"), upd)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, comp)
}

// APIDeleteComponent deletes a component and answers it as it was:
// DELETE /api/v1/projects/:p/components/:c.
func (h *Handler) APIDeleteComponent(c echo.Context) error {
	ctx := c.Request().Context()
	comp, err := h.Components.FindComponent(ctx, c.Param("p"), c.Param("c"))
	if err != nil {
		return err
	}
	if err := h.Components.DeleteComponent(ctx, c.Param("p"), c.Param("c")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, comp)
}

// renderComponent renders the component page with its endpoints and connections.
func (h *Handler) renderComponent(c echo.Context, status int, p *junction.Project, comp *junction.Component, form views.ComponentForm) error {
	return h.renderComponentWith(c, status, p, comp, form, views.RuntimeTokensView{})
}

// renderComponentWith renders the component page; runtime may carry a token just created.
func (h *Handler) renderComponentWith(c echo.Context, status int, p *junction.Project, comp *junction.Component, form views.ComponentForm, runtime views.RuntimeTokensView) error {
	ctx := c.Request().Context()
	tokens, err := h.Mappings.FindRuntimeTokens(ctx, p.Handle, comp.Handle)
	if err != nil {
		return err
	}
	envs, err := h.environmentNames(c)
	if err != nil {
		return err
	}
	runtime.Tokens, runtime.Environments = tokens, envs
	runtime.ServerURL, runtime.CanCreate = h.serverURL(c), p.Can.Write
	endpoints, err := h.Services.FindComponentServices(ctx, p.Handle, comp.Handle)
	if err != nil {
		return err
	}
	connections, err := h.Connections.FindConnections(ctx, junction.ConnectionFilter{Project: p.Handle, Component: comp.Handle, WithProjectConnections: true})
	if err != nil {
		return err
	}
	return render(c, status, views.ComponentPage(h.page(c, comp.Name, "projects"), p, comp, form, endpoints, connections, runtime))
}
