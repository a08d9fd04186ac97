package web

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// The pages' forms, shared by every module's pages: inputs as shown with their values and errors, the
// options of a select, reading a post and showing a refused one again, and a list page's filter and paging
// link.

// optionView is an option of a select with its state.
type optionView struct {
	Value, LabelJA, LabelEN string
	Selected                bool
}

// inputView is one input of a form as shown: its definition, the value typed (or stored) and its error.
type inputView struct {
	formInput
	ID      string
	Value   string
	Options []optionView
	Error   *fieldMessage
}

// DescribedBy lists the ids of the input's hint and error.
func (in inputView) DescribedBy() string {
	var ids []string
	if in.Hint != "" {
		ids = append(ids, in.ID+"-hint")
	}
	if in.Error != nil {
		ids = append(ids, in.ID+"-error")
	}
	return strings.Join(ids, " ")
}

func options(opts []option, selected string, blank bool) []optionView {
	var out []optionView
	if blank {
		out = append(out, optionView{Value: "", LabelJA: "（未選択）", LabelEN: "Not set", Selected: selected == ""})
	}
	for _, o := range opts {
		out = append(out, optionView{Value: o.Value, LabelJA: o.LabelJA, LabelEN: o.LabelEN, Selected: o.Value == selected})
	}
	return out
}

// inputViews fills the inputs with values and the errors of msg; idPrefix keeps ids unique on a page.
func inputViews(inputs []formInput, values map[string]string, msg *message, idPrefix string, depts []option) []inputView {
	out := make([]inputView, 0, len(inputs))
	for _, in := range inputs {
		v := inputView{formInput: in, ID: idPrefix + strings.ReplaceAll(in.Name, ".", "-"), Value: kept(values[in.Name])}
		if in.Secret && msg == nil {
			v.Value = "" // a stored secret is never shown; a typed one comes back only to be corrected
		}
		if in.Type == "select" {
			opts := in.Options
			if in.Name == "department_id" {
				opts = depts
			}
			v.Options = options(opts, v.Value, true)
		}
		if msg != nil {
			for i := range msg.Fields {
				if msg.Fields[i].Field == in.Name {
					v.Error = &msg.Fields[i]
					break
				}
			}
		}
		out = append(out, v)
	}
	return out
}

// formMessage turns a problem into the message of a form, labelling each field as its form does.
func formMessage(p *problemError, inputs []formInput) *message {
	m := messageOf(p)
	for i, f := range m.Fields {
		if l, ok := labelOf(inputs, f.Field); ok {
			m.Fields[i].LabelJA, m.Fields[i].LabelEN = l[0], l[1]
		}
	}
	return m
}

// formValues reads the posted values of the inputs.
func formValues(c echo.Context, inputs []formInput) map[string]string {
	f := c.Request().PostForm
	values := make(map[string]string, len(inputs))
	for _, in := range inputs {
		values[in.Name] = f.Get(in.Name)
	}
	return values
}

// showFailure shows a form again after a port error the person can act on; others go to the error page.
func showFailure(c echo.Context, err error, inputs []formInput, show func(status int, msg *message) error) error {
	p, internal := toProblem(err)
	if internal {
		return err
	}
	setRetryAfter(c, p)
	return show(p.status, formMessage(p, inputs))
}

// formVersion reads the version a form was read at; a missing or malformed one is never current, so the
// module answers stale_version.
func formVersion(c echo.Context) int64 {
	v, err := strconv.ParseInt(c.Request().PostForm.Get("version"), 10, 64)
	if err != nil || v <= 0 {
		return -1
	}
	return v
}

// listFilter reads a list page's filter parameters keys, as the filter form shows them again.
func listFilter(c echo.Context, keys []string) map[string]string {
	filter := make(map[string]string, len(keys))
	for _, k := range keys {
		filter[k] = kept(c.QueryParam(k))
	}
	return filter
}

// listLinks is the link from a list page at path to its next page, keeping the filter ("" on the last page),
// and whether any filter other than the sort order is set.
func listLinks(path string, keys []string, filter map[string]string, nextCursor string) (next string, filtered bool) {
	q := url.Values{}
	for _, k := range keys {
		if filter[k] != "" {
			q.Set(k, filter[k])
			filtered = filtered || k != "sort"
		}
	}
	if nextCursor != "" {
		q.Set("cursor", nextCursor)
		next = path + "?" + q.Encode()
	}
	return next, filtered
}
