// Package clock is where the time comes from: the machine's clock for the
// server, a settable one for tests.
//
// A type that reads the time holds a Func. Its zero value is the system
// clock, so a struct literal that names no clock is ready for production,
// and a test sets the field to a Fake's Now.
package clock
