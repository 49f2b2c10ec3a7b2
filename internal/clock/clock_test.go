package clock

import (
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestFuncZeroIsSystemClockInUTC(t *testing.T) {
	var f Func
	before := time.Now()
	got := f.Now()
	after := time.Now()
	if got.Before(before.Truncate(time.Second)) || got.After(after.Add(time.Second)) {
		t.Errorf("zero Func says %v, want a time between %v and %v", got, before, after)
	}
	if got.Location() != time.UTC {
		t.Errorf("zero Func's time is in %v, want UTC", got.Location())
	}
}

func TestFuncConvertsToUTC(t *testing.T) {
	msk := time.FixedZone("MSK", 3*3600)
	f := Func(func() time.Time { return t0.In(msk) })
	if got := f.Now(); got != t0 {
		t.Errorf("Now = %v (%v), want %v in UTC", got, got.Location(), t0)
	}
}

func TestFake(t *testing.T) {
	f := NewFake(t0)
	if got := f.Now(); !got.Equal(t0) {
		t.Fatalf("new Fake shows %v, want %v", got, t0)
	}
	f.Advance(90 * time.Second)
	if got, want := f.Now(), t0.Add(90*time.Second); !got.Equal(want) {
		t.Errorf("after Advance: %v, want %v", got, want)
	}
	f.Advance(-time.Minute)
	if got, want := f.Now(), t0.Add(30*time.Second); !got.Equal(want) {
		t.Errorf("after a negative Advance: %v, want %v", got, want)
	}
	later := t0.Add(24 * time.Hour)
	f.Set(later)
	if got := f.Now(); !got.Equal(later) {
		t.Errorf("after Set: %v, want %v", got, later)
	}
	// A Fake's Now is a Func, so the field a type holds can take it.
	if got := Func(f.Now).Now(); !got.Equal(later) {
		t.Errorf("Func(f.Now) = %v, want %v", got, later)
	}
}

// TestFakeConcurrent is for the race detector: readers and writers at once.
func TestFakeConcurrent(t *testing.T) {
	f := NewFake(t0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				f.Advance(time.Second)
				_ = f.Now()
			}
		})
	}
	wg.Wait()
	if got, want := f.Now(), t0.Add(400*time.Second); !got.Equal(want) {
		t.Errorf("after 400 one-second steps: %v, want %v", got, want)
	}
}
