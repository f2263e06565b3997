package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/views"
)

// ProjectsPage lists projects: GET /projects.
func (h *Handler) ProjectsPage(c echo.Context) error {
	page, err := pageParam(c)
	if err != nil {
		return err
	}
	query := c.QueryParam("q")
	projects, total, err := h.Projects.FindProjects(c.Request().Context(), junction.ProjectFilter{Query: query, Page: page})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ProjectsPage(h.page(c, "Projects", "projects"), projects, total, page, query))
}

// NewProjectPage shows the create project form: GET /projects/new.
func (h *Handler) NewProjectPage(c echo.Context) error {
	if user := junction.UserFromContext(c.Request().Context()); !user.CanCreateProjects() {
		return junction.Errorf(junction.EFORBIDDEN, "Only admins can create projects.")
	}
	return render(c, http.StatusOK, views.ProjectNewPage(h.page(c, "New project", "projects"), views.ProjectForm{}))
}

// CreateProject handles the create project form: POST /projects.
func (h *Handler) CreateProject(c echo.Context) error {
	p := &junction.Project{Handle: c.FormValue("handle"), Name: c.FormValue("name"), Description: c.FormValue("description")}
	if err := h.Projects.CreateProject(c.Request().Context(), p); isFormError(err) {
		form := views.ProjectForm{Handle: c.FormValue("handle"), Name: p.Name, Description: p.Description,
			Errors: junction.ErrorFields(err), Message: junction.ErrorMessage(err)}
		if len(form.Errors) > 0 {
			form.Message = ""
		}
		return render(c, formStatus(err), views.ProjectNewPage(h.page(c, "New project", "projects"), form))
	} else if err != nil {
		return err
	}
	return h.redirect(c, "/projects/"+p.Handle, "Project "+p.Name+" created.")
}

// projectView loads everything the project page shows.
func (h *Handler) projectView(c echo.Context, handle string) (views.ProjectView, error) {
	ctx := c.Request().Context()
	p, err := h.Projects.FindProject(ctx, handle)
	if err != nil {
		return views.ProjectView{}, err
	}
	components, _, err := h.Components.FindComponents(ctx, handle, junction.NewPage(1, junction.MaxPerPage))
	if err != nil {
		return views.ProjectView{}, err
	}
	members, err := h.Projects.FindMembers(ctx, handle)
	if err != nil {
		return views.ProjectView{}, err
	}
	connections, err := h.Connections.FindConnections(ctx, junction.ConnectionFilter{Project: handle})
	if err != nil {
		return views.ProjectView{}, err
	}
	return views.ProjectView{
		Project: p, Components: components, Members: members, Connections: connections,
		Edit:   views.ProjectForm{Name: p.Name, Description: p.Description},
		Member: views.MemberForm{Role: junction.RoleDeveloper},
	}, nil
}

// ProjectPage shows a project: GET /projects/:p.
func (h *Handler) ProjectPage(c echo.Context) error {
	v, err := h.projectView(c, c.Param("p"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ProjectPage(h.page(c, v.Project.Name, "projects"), v))
}

// ProjectDiagramPage shows the project's dependency diagram: GET /projects/:p/diagram.
func (h *Handler) ProjectDiagramPage(c echo.Context) error {
	g, err := h.Projects.FindProjectGraph(c.Request().Context(), c.Param("p"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ProjectDiagramPage(h.page(c, g.Project.Name+" – dependency diagram", "projects"), g))
}

// UpdateProject handles the project settings form: POST /projects/:p.
func (h *Handler) UpdateProject(c echo.Context) error {
	name, description := c.FormValue("name"), c.FormValue("description")
	p, err := h.Projects.UpdateProject(c.Request().Context(), c.Param("p"), junction.ProjectUpdate{Name: &name, Description: &description})
	if isFormError(err) {
		v, verr := h.projectView(c, c.Param("p"))
		if verr != nil {
			return verr
		}
		v.Edit = views.ProjectForm{Name: name, Description: description, Errors: junction.ErrorFields(err)}
		return render(c, formStatus(err), views.ProjectPage(h.page(c, v.Project.Name, "projects"), v))
	} else if err != nil {
		return err
	}
	return h.redirect(c, "/projects/"+p.Handle, "Project saved.")
}

// DeleteProject deletes a project: POST /projects/:p/delete. A project with components is
// deleted only when the form confirms it; otherwise the confirmation page lists them.
func (h *Handler) DeleteProject(c echo.Context) error {
	ctx := c.Request().Context()
	handle := c.Param("p")
	confirmed := c.FormValue("confirm") == "yes"
	err := h.Projects.DeleteProject(ctx, handle, confirmed)
	if junction.ErrorCode(err) == junction.ECONFLICT && !confirmed {
		p, err := h.Projects.FindProject(ctx, handle)
		if err != nil {
			return err
		}
		components, _, err := h.Components.FindComponents(ctx, handle, junction.NewPage(1, junction.MaxPerPage))
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, views.ProjectDeletePage(h.page(c, "Delete "+p.Name, "projects"), p, components))
	} else if err != nil {
		return err
	}
	return h.redirect(c, "/projects", "Project "+handle+" deleted.")
}

// SetMember adds a member or changes a member's role: POST /projects/:p/members.
func (h *Handler) SetMember(c echo.Context) error {
	email, role := c.FormValue("email"), junction.Role(c.FormValue("role"))
	m, err := h.Projects.SetMember(c.Request().Context(), c.Param("p"), email, role)
	if isFormError(err) {
		v, verr := h.projectView(c, c.Param("p"))
		if verr != nil {
			return verr
		}
		v.Member = views.MemberForm{Email: email, Role: role, Errors: junction.ErrorFields(err)}
		return render(c, formStatus(err), views.ProjectPage(h.page(c, v.Project.Name, "projects"), v))
	} else if err != nil {
		return err
	}
	return h.redirect(c, "/projects/"+c.Param("p"), m.Email+" is now a "+string(m.Role)+".")
}

// RemoveMember removes a member: POST /projects/:p/members/remove.
func (h *Handler) RemoveMember(c echo.Context) error {
	email := c.FormValue("email")
	if err := h.Projects.RemoveMember(c.Request().Context(), c.Param("p"), email); err != nil {
		return err
	}
	return h.redirect(c, "/projects/"+c.Param("p"), email+" was removed from the project.")
}

// APIProjects lists projects: GET /api/v1/projects.
func (h *Handler) APIProjects(c echo.Context) error {
	page, err := pageParam(c)
	if err != nil {
		return err
	}
	projects, total, err := h.Projects.FindProjects(c.Request().Context(), junction.ProjectFilter{Query: c.QueryParam("q"), Page: page})
	if err != nil {
		return err
	}
	return writeList(c, projects, total, page)
}

// APICreateProject creates a project: POST /api/v1/projects.
func (h *Handler) APICreateProject(c echo.Context) error {
	var p junction.Project
	if err := decodeJSON(c, &p); err != nil {
		return err
	}
	if err := h.Projects.CreateProject(c.Request().Context(), &p); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, &p)
}

// APIProject answers one project: GET /api/v1/projects/:p.
func (h *Handler) APIProject(c echo.Context) error {
	p, err := h.Projects.FindProject(c.Request().Context(), c.Param("p"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// APIUpdateProject changes a project's name or description: PATCH /api/v1/projects/:p.
func (h *Handler) APIUpdateProject(c echo.Context) error {
	var upd junction.ProjectUpdate
	if err := decodeJSON(c, &upd); err != nil {
		return err
	}
	p, err := h.Projects.UpdateProject(c.Request().Context(), c.Param("p"), upd)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// APIDeleteProject deletes a project and answers it as it was: DELETE /api/v1/projects/:p.
// A project with components is 409 unless ?force=true.
func (h *Handler) APIDeleteProject(c echo.Context) error {
	ctx := c.Request().Context()
	force, _ := strconv.ParseBool(c.QueryParam("force"))
	p, err := h.Projects.FindProject(ctx, c.Param("p"))
	if err != nil {
		return err
	}
	if err := h.Projects.DeleteProject(ctx, p.Handle, force); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// APIMembers lists a project's members: GET /api/v1/projects/:p/members.
func (h *Handler) APIMembers(c echo.Context) error {
	members, err := h.Projects.FindMembers(c.Request().Context(), c.Param("p"))
	if err != nil {
		return err
	}
	return writePage(c, members)
}

// APISetMember adds a member or changes a role: PUT /api/v1/projects/:p/members/:email.
func (h *Handler) APISetMember(c echo.Context) error {
	var body struct {
		Role junction.Role `json:"role"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	m, err := h.Projects.SetMember(c.Request().Context(), c.Param("p"), pathParam(c, "email"), body.Role)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

// APIRemoveMember removes a member and answers the membership that ended:
// DELETE /api/v1/projects/:p/members/:email.
func (h *Handler) APIRemoveMember(c echo.Context) error {
	ctx := c.Request().Context()
	email := junction.NormalizeEmail(pathParam(c, "email"))
	members, err := h.Projects.FindMembers(ctx, c.Param("p"))
	if err != nil {
		return err
	}
	if err := h.Projects.RemoveMember(ctx, c.Param("p"), email); err != nil {
		return err
	}
	removed := &junction.Member{Email: email}
	for _, m := range members {
		if m.Email == email {
			removed = m
		}
	}
	return c.JSON(http.StatusOK, removed)
}
