// Package reqlog carries request facts (request ID, client address) in the
// context and onto every log record written while serving that request.
//
// The context carries only such facts, each behind an unexported key with
// accessors; dependencies travel as struct fields, never in contexts.
package reqlog
