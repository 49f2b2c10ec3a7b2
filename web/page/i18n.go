package page

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/text/language"
)

// DefaultLanguage is the language used when nothing better is known: the
// people signing in deal with Russian public services.
var DefaultLanguage = language.Russian

//go:embed locales/*.json
var localeFS embed.FS

// catalog holds every message of every supported language.
type catalog struct {
	tags    []language.Tag               // supported; DefaultLanguage first
	msgs    map[string]map[string]string // tag.String() → key → text
	matcher language.Matcher
	err     error // why loading failed; tags is then just DefaultLanguage
}

// theCatalog is loaded once, from the embedded locales. A broken catalogue
// is a build mistake caught by the tests; at run time NewRenderer reports it.
var theCatalog = sync.OnceValue(func() *catalog {
	c, err := loadCatalog(localeFS, "locales")
	if err != nil {
		c = &catalog{tags: []language.Tag{DefaultLanguage}, msgs: map[string]map[string]string{}, err: err}
		c.matcher = language.NewMatcher(c.tags)
	}
	return c
})

// loadCatalog reads dir/<tag>.json for every supported language: one flat
// JSON object of key → text per language. The file name is the BCP 47 tag.
func loadCatalog(fsys fs.FS, dir string) (*catalog, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	c := &catalog{msgs: map[string]map[string]string{}}
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".json")
		tag, err := language.Parse(base)
		if err != nil {
			return nil, fmt.Errorf("page: catalogue %s: file name is not a language tag: %v", name, err)
		}
		if tag.String() != base {
			return nil, fmt.Errorf("page: catalogue %s: name it %s.json", name, tag)
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var m map[string]string
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("page: catalogue %s: %v", name, err)
		}
		c.msgs[tag.String()] = m
		c.tags = append(c.tags, tag)
	}
	if _, ok := c.msgs[DefaultLanguage.String()]; !ok {
		return nil, fmt.Errorf("page: no catalogue for the default language %s", DefaultLanguage)
	}
	// The default language first: the matcher falls back to the first tag.
	sort.SliceStable(c.tags, func(i, j int) bool {
		a, b, def := c.tags[i].String(), c.tags[j].String(), DefaultLanguage.String()
		if a == def || b == def {
			return a == def
		}
		return a < b
	})
	c.matcher = language.NewMatcher(c.tags)
	return c, nil
}

// match returns the supported language that serves a person asking for tag,
// and false when none does well enough (confidence below High; the caller
// then tries the next preference). By CLDR's matching data, High includes
// regional variants (en-GB → en) and Russian for readers of kk, ky, uz, tg,
// hy and be.
func (c *catalog) match(tag language.Tag) (language.Tag, bool) {
	if tag == language.Und {
		return DefaultLanguage, false
	}
	_, i, conf := c.matcher.Match(tag)
	if conf < language.High {
		return DefaultLanguage, false
	}
	return c.tags[i], true
}

// SupportedLanguages lists the languages Propusk speaks, the default first.
func SupportedLanguages() []language.Tag {
	return slices.Clone(theCatalog().tags)
}

// Localizer gives the texts of one language. The zero value knows no
// messages.
type Localizer struct {
	tag  language.Tag
	msgs map[string]string
}

// NewLocalizer returns the Localizer of the supported language closest to
// tag, of DefaultLanguage when none is close.
func NewLocalizer(tag language.Tag) Localizer {
	c := theCatalog()
	tag, _ = c.match(tag)
	return Localizer{tag: tag, msgs: c.msgs[tag.String()]}
}

// Lang is the language of the texts.
func (l Localizer) Lang() language.Tag { return l.tag }

// Has reports whether the catalogue has key.
func (l Localizer) Has(key string) bool {
	_, ok := l.msgs[key]
	return ok
}

// T returns the text for key, formatted with args as by fmt.Sprintf when
// there are any. A missing key never panics: T returns the key itself and
// records it (see missingKeys), so a forgotten translation shows up in tests
// and once in the log rather than as a broken page.
func (l Localizer) T(key string, args ...any) string {
	msg, ok := l.msgs[key]
	if !ok {
		recordMissing(l.tag, key)
		return key
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// missing records the keys looked up but absent, as "lang:key".
var missing struct {
	sync.Mutex
	keys map[string]bool
}

func recordMissing(tag language.Tag, key string) {
	k := tag.String() + ":" + key
	missing.Lock()
	seen := missing.keys[k]
	if !seen {
		if missing.keys == nil {
			missing.keys = map[string]bool{}
		}
		missing.keys[k] = true
	}
	missing.Unlock()
	if !seen {
		slog.Warn("page: message key missing from catalogue", "lang", tag.String(), "key", key)
	}
}

// missingKeys returns the missing keys recorded so far, sorted, and forgets
// them. It is the tests' hook.
func missingKeys() []string {
	missing.Lock()
	defer missing.Unlock()
	var ks []string
	for k := range missing.keys {
		ks = append(ks, k)
	}
	missing.keys = nil
	slices.Sort(ks)
	return ks
}

// catalogErr is why the catalogue could not be loaded, nil when it was.
func catalogErr() error {
	if err := theCatalog().err; err != nil {
		return errors.Join(errors.New("page: loading message catalogue"), err)
	}
	return nil
}
