// Package migrations holds the database schema as plain SQL, one folder per
// backend (postgres/, sqlite/) with the same version numbers in both, and
// reads them for the backends that apply them.
//
// A file is named NNNN_name.sql. Each file is applied in one transaction and
// recorded in schema_migrations. Files are never edited once released: a
// change is a new version. SQL is written for each dialect by hand, never
// translated from the other.
package migrations
