package page

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/text/language"
)

//go:embed templates/*.html
var templateFS embed.FS

// layoutFile is the frame around every page; every other template file is a
// page defining the templates "title" and "content".
const layoutFile = "layout.html"

// Page is what every template executes on.
type Page struct {
	L    Localizer
	Lang string // BCP 47 tag of L, for lang attributes
	View any    // the page's view struct
	// Path is the current URL path and query, where the language switcher
	// returns to.
	Path string
	// Languages are the language switcher's links, one per supported
	// language.
	Languages []LanguageLink
}

// LanguageLink is one entry of the language switcher.
type LanguageLink struct {
	Code    string // BCP 47 tag
	Name    string // the language's name in itself ("Русский", "English")
	Href    string // /lang?set=<Code>&return=<Page.Path>
	Current bool
}

// Renderer renders pages. It is safe for concurrent use.
type Renderer struct {
	// pages[lang][page] is the page's template set with t and lang bound
	// to that language.
	pages map[string]map[string]*template.Template
	// names[lang] is the language's name in itself.
	names map[string]string
	langs []language.Tag
}

// NewRenderer parses every template once and readies a copy per language.
func NewRenderer() (*Renderer, error) {
	if err := catalogErr(); err != nil {
		return nil, err
	}
	// Placeholders, so the parser knows the names; each language's copy
	// gets its own.
	base, err := template.New(layoutFile).Funcs(funcs(Localizer{})).ParseFS(templateFS, "templates/"+layoutFile)
	if err != nil {
		return nil, fmt.Errorf("page: parsing templates: %w", err)
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	rd := &Renderer{
		pages: map[string]map[string]*template.Template{},
		names: map[string]string{},
		langs: SupportedLanguages(),
	}
	for _, tag := range rd.langs {
		rd.pages[tag.String()] = map[string]*template.Template{}
		rd.names[tag.String()] = NewLocalizer(tag).T("lang.name")
	}
	for _, file := range files {
		if path.Base(file) == layoutFile {
			continue
		}
		name := strings.TrimSuffix(path.Base(file), ".html")
		pt, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if pt, err = pt.ParseFS(templateFS, file); err != nil {
			return nil, fmt.Errorf("page: parsing templates: %w", err)
		}
		for _, need := range []string{"title", "content"} {
			if pt.Lookup(need) == nil {
				return nil, fmt.Errorf("page: template %s does not define %q", file, need)
			}
		}
		for _, tag := range rd.langs {
			lt, err := pt.Clone()
			if err != nil {
				return nil, err
			}
			rd.pages[tag.String()][name] = lt.Funcs(funcs(NewLocalizer(tag)))
		}
	}
	return rd, nil
}

// funcs are the template functions for the texts of l:
//
//	t "key" args…     localized text (fmt-style args)
//	has "key"         whether the catalogue has key
//	lang              the BCP 47 tag of the page
//	static "file"     URL of a static file, versioned so it may be cached long
func funcs(l Localizer) template.FuncMap {
	return template.FuncMap{
		"t":      l.T,
		"has":    l.Has,
		"lang":   func() string { return l.Lang().String() },
		"static": staticURL,
	}
}

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Render renders page (one of the …Page names) with view (its view struct,
// or a pointer to it) in lang (the
// closest supported language) and writes it with status. The page is
// rendered into a buffer first: if a template fails, nothing at all is
// written and the error is returned, so the caller can still send an error
// page. An error writing to the client is not reported (the client is gone).
func (rd *Renderer) Render(w http.ResponseWriter, r *http.Request, status int, lang language.Tag, page string, view any) error {
	l := NewLocalizer(lang)
	code := l.Lang().String()
	t := rd.pages[code][page]
	if t == nil {
		return fmt.Errorf("page: no page %q", page)
	}
	if !viewFits(page, view) {
		return fmt.Errorf("page: page %s cannot show a view of type %T", page, view)
	}
	p := Page{L: l, Lang: code, View: view, Path: "/"}
	if r != nil && r.URL != nil && IsLocalPath(r.URL.RequestURI()) {
		p.Path = r.URL.RequestURI()
	}
	for _, tag := range rd.langs {
		c := tag.String()
		p.Languages = append(p.Languages, LanguageLink{
			Code:    c,
			Name:    rd.names[c],
			Href:    "/lang?set=" + url.QueryEscape(c) + "&return=" + url.QueryEscape(p.Path),
			Current: c == code,
		})
	}

	buf := buffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer buffers.Put(buf)
	if err := t.ExecuteTemplate(buf, "layout", p); err != nil {
		return fmt.Errorf("page: rendering page %s: %w", page, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", code)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
	return nil
}

// viewFits reports whether view (a value or a non-nil pointer) is the view
// type of page, so that a wrong view fails loudly instead of rendering an
// empty or half-filled page.
func viewFits(page string, view any) bool {
	switch page {
	case LoginPage:
		return is[LoginView](view)
	case ConsentPage:
		return is[ConsentView](view)
	case LogoutPage:
		return is[LogoutView](view)
	case LoggedOutPage:
		return is[LoggedOutView](view)
	case ErrorPage:
		return is[ErrorView](view)
	case FormPostPage:
		return is[FormPostView](view)
	case SecondFactorPage:
		return is[SecondFactorView](view)
	case RecoveryPage:
		return is[RecoveryView](view)
	case EnrolPage:
		return is[EnrolView](view)
	case RecoveryCodesPage:
		return is[RecoveryCodesView](view)
	case AccountPage:
		return is[AccountView](view)
	case OtherBrowserPage:
		return is[OtherBrowserView](view)
	}
	return true
}

func is[T any](v any) bool {
	switch v := v.(type) {
	case T:
		return true
	case *T:
		return v != nil
	}
	return false
}
