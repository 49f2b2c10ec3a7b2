// Package testdb opens the databases tests run on: a fresh, migrated
// SQLite file or PostgreSQL schema, closed when the test ends, and runs a
// test on each backend.
//
// PostgreSQL comes from pgtest: without PROPUSK_TEST_POSTGRES its tests
// are skipped, except under CI=true, where they fail. Only tests import
// this package (deps_test.go holds production code to that), so it may
// name both backends.
package testdb
