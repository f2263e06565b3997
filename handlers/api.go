package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
)

// listBody is the JSON shape of every list answer.
type listBody[T any] struct {
	Items   []T `json:"items"`
	Total   int `json:"total"`
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
}

func writeList[T any](c echo.Context, items []T, total int, page junction.Page) error {
	if items == nil {
		items = []T{}
	}
	return c.JSON(http.StatusOK, listBody[T]{Items: items, Total: total, Page: page.Page, PerPage: page.PerPage})
}

// pageParam reads ?page= and ?per_page=. Missing values take defaults; per_page above the
// maximum is clamped; anything that is not a number is a 400.
func pageParam(c echo.Context) (junction.Page, error) {
	var n [2]int
	for i, name := range []string{"page", "per_page"} {
		s := c.QueryParam(name)
		if s == "" {
			continue
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			return junction.Page{}, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s must be a positive whole number.", name))
		}
		n[i] = v
	}
	return junction.NewPage(n[0], n[1]), nil
}

// maxJSONBody bounds request bodies; nothing in the API needs more.
const maxJSONBody = 1 << 20

// decodeJSON reads a JSON object body into v. Malformed JSON is a 400 that says where.
func decodeJSON(c echo.Context, v any) error {
	dec := json.NewDecoder(io.LimitReader(c.Request().Body, maxJSONBody))
	if err := dec.Decode(v); err != nil {
		var syntax *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return echo.NewHTTPError(http.StatusBadRequest, "The request body must be a JSON object.")
		case errors.As(err, &syntax):
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("Malformed JSON at byte %d.", syntax.Offset))
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("Field %q: expected a JSON %s, got a %s.", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value))
		default:
			return echo.NewHTTPError(http.StatusBadRequest, "The request body must be a JSON object.")
		}
	}
	if dec.More() {
		return echo.NewHTTPError(http.StatusBadRequest, "The request body must hold one JSON object.")
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	}
	return "number"
}

// Me answers the signed-in user: GET /api/v1/me.
func (h *Handler) Me(c echo.Context) error {
	return c.JSON(http.StatusOK, junction.UserFromContext(c.Request().Context()))
}

// pathParam returns a path parameter with percent-escapes decoded (an e-mail's %40, say).
func pathParam(c echo.Context, name string) string {
	v := c.Param(name)
	if unescaped, err := url.PathUnescape(v); err == nil {
		return unescaped
	}
	return v
}

// writePage answers one page of a list that is loaded whole (members, environments).
func writePage[T any](c echo.Context, all []T) error {
	page, err := pageParam(c)
	if err != nil {
		return err
	}
	lo, hi := min(page.Offset(), len(all)), min(page.Offset()+page.Limit(), len(all))
	return writeList(c, all[lo:hi], len(all), page)
}
