// Package storetest is the storage conformance suite: one set of tests that
// every backend must pass, so SQLite (the embedded default) and PostgreSQL
// (production) behave the same.
//
// A backend's test calls RunTests with a constructor that returns a fresh,
// empty, migrated store, and RunMigrationTests with one that returns an empty,
// unmigrated database. Areas are named subtests; the Concurrency group races
// goroutines on one row and checks that exactly the right number win.
package storetest
