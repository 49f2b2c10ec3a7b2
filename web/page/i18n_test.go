package page

import (
	"encoding/json"
	"html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
	"text/template/parse"

	"golang.org/x/text/language"
)

// readCatalogues reads every embedded locales/*.json as key → text.
func readCatalogues(t *testing.T) map[string]map[string]string {
	t.Helper()
	names, err := fs.Glob(localeFS, "locales/*.json")
	if err != nil {
		t.Fatal(err)
	}
	cats := map[string]map[string]string{}
	for _, name := range names {
		data, err := fs.ReadFile(localeFS, name)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cats[strings.TrimSuffix(path.Base(name), ".json")] = m
	}
	return cats
}

func TestCatalogueLoads(t *testing.T) {
	if err := catalogErr(); err != nil {
		t.Fatal(err)
	}
	got := SupportedLanguages()
	if len(got) < 2 || got[0] != language.Russian {
		t.Fatalf("SupportedLanguages() = %v, want ru first and at least en", got)
	}
	if !slices.ContainsFunc(got, func(tag language.Tag) bool { return tag == language.English }) {
		t.Errorf("SupportedLanguages() = %v, want en among them", got)
	}
}

// Every catalogue has exactly the keys of the default one, and no empty text.
func TestCatalogueKeyParity(t *testing.T) {
	cats := readCatalogues(t)
	ref, ok := cats[DefaultLanguage.String()]
	if !ok {
		t.Fatalf("no catalogue for %s", DefaultLanguage)
	}
	for lang, m := range cats {
		for k, v := range m {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s.json: %q is empty", lang, k)
			}
			if _, ok := ref[k]; !ok {
				t.Errorf("%s.json has %q, %s.json does not", lang, k, DefaultLanguage)
			}
		}
		for k := range ref {
			if _, ok := m[k]; !ok {
				t.Errorf("%s.json lacks %q", lang, k)
			}
		}
	}
}

// The fmt verbs of a text are the same in every language, so that a
// translation cannot drop an argument or print %!d(string=…).
func TestCatalogueVerbsAgree(t *testing.T) {
	cats := readCatalogues(t)
	ref := cats[DefaultLanguage.String()]
	verbs := func(s string) []string {
		var vs []string
		for i := 0; i < len(s); i++ {
			if s[i] == '%' && i+1 < len(s) {
				vs = append(vs, s[i:i+2])
				i++
			}
		}
		slices.Sort(vs)
		return vs
	}
	for lang, m := range cats {
		for k, v := range m {
			if want := verbs(ref[k]); !slices.Equal(verbs(v), want) {
				t.Errorf("%s.json %q has verbs %v, %s.json %v", lang, k, verbs(v), DefaultLanguage, want)
			}
		}
	}
}

// templateKeys finds every literal key of a {{t "key" …}} call in the
// templates, taken or not.
func templateKeys(t *testing.T) map[string][]string {
	t.Helper()
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	for _, file := range files {
		// One set per file: pages redefine "title" and "content".
		set, err := template.New(path.Base(file)).Funcs(funcs(Localizer{})).ParseFS(templateFS, file)
		if err != nil {
			t.Fatal(err)
		}
		for _, tmpl := range set.Templates() {
			if tmpl.Tree == nil {
				continue
			}
			walk(tmpl.Tree.Root, func(key string) { keys[key] = append(keys[key], file) })
		}
	}
	return keys
}

func walk(n parse.Node, found func(string)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, found)
		}
	case *parse.ActionNode:
		walk(n.Pipe, found)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walk(c, found)
		}
	case *parse.CommandNode:
		if len(n.Args) >= 2 {
			if id, ok := n.Args[0].(*parse.IdentifierNode); ok && id.Ident == "t" {
				if s, ok := n.Args[1].(*parse.StringNode); ok {
					found(s.Text)
				}
			}
		}
		for _, a := range n.Args {
			walk(a, found)
		}
	case *parse.IfNode:
		walk(n.Pipe, found)
		walk(n.List, found)
		walk(n.ElseList, found)
	case *parse.RangeNode:
		walk(n.Pipe, found)
		walk(n.List, found)
		walk(n.ElseList, found)
	case *parse.WithNode:
		walk(n.Pipe, found)
		walk(n.List, found)
		walk(n.ElseList, found)
	case *parse.TemplateNode:
		walk(n.Pipe, found)
	}
}

func TestTemplateKeysInCatalogue(t *testing.T) {
	keys := templateKeys(t)
	if len(keys) < 20 {
		t.Fatalf("found only %d keys in the templates; is the walker broken?", len(keys))
	}
	for lang, m := range readCatalogues(t) {
		for k, files := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s uses %q, missing from %s.json", files[0], k, lang)
			}
		}
	}
}

func TestLocalizer(t *testing.T) {
	missingKeys()
	ru := NewLocalizer(language.Russian)
	en := NewLocalizer(language.MustParse("en-GB"))
	if ru.Lang() != language.Russian || en.Lang() != language.English {
		t.Fatalf("Lang() = %v, %v", ru.Lang(), en.Lang())
	}
	if got := en.T("login.error.throttled", 30); !strings.Contains(got, "30") || strings.Contains(got, "%") {
		t.Errorf("T with args = %q", got)
	}
	if got := NewLocalizer(language.French).Lang(); got != language.Russian {
		t.Errorf("NewLocalizer(fr).Lang() = %v, want ru", got)
	}
	if got := en.T("no.such.key", 1); got != "no.such.key" {
		t.Errorf("missing key gives %q, want the key", got)
	}
	if got := (Localizer{}).T("login.title"); got != "login.title" {
		t.Errorf("zero Localizer gives %q", got)
	}
	if got := missingKeys(); !slices.Contains(got, "en:no.such.key") {
		t.Errorf("missingKeys() = %v, want en:no.such.key recorded", got)
	}
	if got := missingKeys(); len(got) != 0 {
		t.Errorf("missingKeys() not reset: %v", got)
	}
}
