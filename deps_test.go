package propusk_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The dependency direction of ARCHITECTURE.md, enforced:
//
//	cmd → web, oauth, admin → web/page, federation, accounts, mfa, consent, flow, clients → store ← store/sqlstore ← store/postgres, store/sqlite
//
// store (the contract) and the small internal helpers import only the
// standard library; domain packages import neither fosite nor net/http nor
// HTML templates; oauth and web do not import each other (both use
// web/page, and the flow carries what the pages need), and web/page imports
// neither; only cmd picks a backend.

const module = "github.com/propusk/propusk"

// deps lists the non-standard and the standard packages pkg depends on
// (tests excluded).
func deps(t *testing.T, pkg string) (nonStd, std []string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.Standard}} {{.ImportPath}}", pkg).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list %s: %v\n%s", pkg, err, ee.Stderr)
		}
		t.Fatalf("go list %s: %v", pkg, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		isStd, path, _ := strings.Cut(line, " ")
		if path == pkg {
			continue
		}
		if isStd == "true" {
			std = append(std, path)
		} else {
			nonStd = append(nonStd, path)
		}
	}
	return nonStd, std
}

// packages lists the module's packages (excluding tests).
func packages(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "./...").Output()
	if err != nil {
		t.Fatalf("go list ./...: %v", err)
	}
	return strings.Fields(string(out))
}

func TestStandardLibraryOnly(t *testing.T) {
	for _, p := range []string{"store", "migrations", "internal/seal", "internal/reqlog", "internal/token", "internal/clock"} {
		pkg := module + "/" + p
		if nonStd, _ := deps(t, pkg); len(nonStd) > 0 {
			t.Errorf("%s must import only the standard library; it imports %v", p, nonStd)
		}
	}
}

// The shared SQL (store/sqlstore) knows no driver: what differs between
// the databases comes from the backends, so it can serve both.
func TestSharedSQLHasNoDriver(t *testing.T) {
	nonStd, _ := deps(t, module+"/store/sqlstore")
	if want := []string{module + "/store"}; !slices.Equal(nonStd, want) {
		t.Errorf("store/sqlstore must import only store and the standard library; it imports %v", nonStd)
	}
}

func TestDomainPackagesStayPure(t *testing.T) {
	forbidden := func(dep string) bool {
		return strings.HasPrefix(dep, "github.com/ory/fosite") ||
			dep == "net/http" || dep == "html/template" ||
			strings.HasPrefix(dep, module+"/web") || strings.HasPrefix(dep, module+"/oauth")
	}
	for _, p := range []string{"accounts", "clients", "mfa", "consent", "flow"} {
		pkg := module + "/" + p
		if !slices.Contains(packages(t), pkg) {
			continue // not written yet
		}
		nonStd, std := deps(t, pkg)
		for _, d := range append(nonStd, std...) {
			if forbidden(d) {
				t.Errorf("domain package %s imports %s: it must not know about HTTP, HTML or fosite", p, d)
			}
		}
	}
}

func TestOnlyCmdPicksABackend(t *testing.T) {
	backends := []string{module + "/store/postgres", module + "/store/sqlite"}
	testdb := module + "/internal/testdb" // opens both backends, for tests only
	for _, pkg := range packages(t) {
		nonStd, _ := deps(t, pkg)
		if slices.Contains(nonStd, testdb) {
			t.Errorf("%s imports %s: only tests may", strings.TrimPrefix(pkg, module+"/"), testdb)
		}
		if strings.HasPrefix(pkg, module+"/cmd/") || slices.Contains(backends, pkg) || pkg == testdb {
			continue
		}
		for _, b := range backends {
			if slices.Contains(nonStd, b) {
				t.Errorf("%s imports the backend %s: only cmd chooses a backend", strings.TrimPrefix(pkg, module+"/"), b)
			}
		}
	}
}

func TestHTMLSidesApart(t *testing.T) {
	cases := []struct {
		pkg       string
		forbidden []string
	}{
		{"oauth", []string{"web"}},
		{"web", []string{"oauth"}},
		{"web/page", []string{"web", "oauth"}},
	}
	for _, c := range cases {
		nonStd, _ := deps(t, module+"/"+c.pkg)
		for _, f := range c.forbidden {
			if slices.Contains(nonStd, module+"/"+f) {
				t.Errorf("%s imports %s: the HTML sides share only web/page (and the flow), not each other", c.pkg, f)
			}
		}
	}
}

// TestNoHTTPTestInProduction: production code handles real requests only.
// A request it makes up to feed a library (as flows once replayed their
// stored request through fosite) means something is read twice; the flow
// keeps what was read instead. Test-support packages are exempt.
func TestNoHTTPTestInProduction(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list ./...: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		if strings.HasSuffix(pkg, "test") { // storetest, pgtest, migratetest
			continue
		}
		if slices.Contains(imports, "net/http/httptest") {
			t.Errorf("%s imports net/http/httptest outside its tests", pkg)
		}
	}
}
