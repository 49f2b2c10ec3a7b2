package accounts_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/propusk/propusk/accounts"
)

// Probe (holds): a sprayer who also has an account of its own cannot
// refill its address's budget by signing in to that account between
// guesses: a right password gives back only the turn it took itself. One
// address gets AddressAttempts wrong passwords per window, so at most
// 96 × 30 = 2,880 a day, however it interleaves its own sign-ins, which
// stop getting through once the wall is up.
func TestThrottleGiveBackDoesNotRefillTheAddress(t *testing.T) {
	th, _, clk := newThrottle(t)
	const addr = "2001:db8:1:2::7"
	end := clk.Now().Add(24 * time.Hour)
	wrong, own := 0, 0
	for i := 0; clk.Now().Before(end); i++ {
		// Its own account first, a right password, then a guess at a
		// victim it has not guessed at yet (no account pause in the way).
		if r := reserveTurn(t, th, "mallory", fmt.Sprintf("2001:db8:1:2::%x", i%4096), ""); r.Wait == 0 {
			if err := th.Succeeded(t.Context(), r); err != nil {
				t.Fatal(err)
			}
			own++
		}
		d := reserve(t, th, fmt.Sprintf("victim%05d", i), addr, "")
		if d > 0 {
			clk.Advance(d)
			continue
		}
		wrong++
		clk.Advance(time.Millisecond)
	}
	if max := int(24*time.Hour/accounts.AttemptWindow) * accounts.AddressAttempts; wrong > max {
		t.Errorf("%d wrong passwords from one /64 in a day with %d of its own sign-ins between them, want at most %d", wrong, own, max)
	}
	t.Logf("%d wrong passwords in a day from one /64, %d own sign-ins", wrong, own)
}
