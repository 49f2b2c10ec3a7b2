// Package store is Propusk's storage contract: the entity types every area
// persists, one small interface per area, and the sentinel errors every
// backend returns.
//
// It imports only the standard library. Backends live in store/postgres
// (production, many nodes on one database) and store/sqlite (the embedded
// default), both running the statements of store/sqlstore; store/storetest
// is the conformance suite both must pass.
//
// Verbs are chosen once: Create, Get, List, Update, Delete. Update takes a
// function from the old value to the new one; it runs inside a transaction
// and may run more than once, so it must not have side effects.
package store
