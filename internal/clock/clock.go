package clock

import (
	"sync"
	"time"
)

// Clock tells the time. Func and *Fake are Clocks.
type Clock interface {
	Now() time.Time
}

// Func is a clock as a struct field: the function that tells the time. The
// zero Func is the system clock.
type Func func() time.Time

// Now returns the time in UTC (stored and compared times carry no zone).
func (f Func) Now() time.Time {
	if f == nil {
		return time.Now().UTC()
	}
	return f().UTC()
}

// Fake is a clock that moves only when told. It is safe for concurrent
// use, so a test may move it while the code under test reads it.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a Fake showing t.
func NewFake(t time.Time) *Fake { return &Fake{now: t} }

// Now returns the time the Fake shows.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Set makes the Fake show t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
}

// Advance moves the Fake on by d (back, for negative d).
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

var (
	_ Clock = Func(nil)
	_ Clock = (*Fake)(nil)
)
