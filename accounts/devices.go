package accounts

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/propusk/propusk/store"
)

// DeviceLifetime is how long a device token says "this browser has signed
// in to this account before".
const DeviceLifetime = 365 * 24 * time.Hour

// deviceClockSkew allows a token issued by a node whose clock runs a little
// ahead.
const deviceClockSkew = 5 * time.Minute

// A device token is "<device ID>.<issued, Unix seconds in base 36>.<MAC>":
// a random 128-bit device ID and an HMAC-SHA-256 (truncated to 128 bits)
// over the account ID, the account's password hash, the device ID and the
// issue time. It names no account, so a cookie with several tokens says
// nothing about whose they are; it is checked against the account being
// signed in to. The password hash is the account's epoch: a new password
// (a new salt) ends every device's exemption, so a cookie left on a
// computer a thief used with the old password is no help to them. (A
// rehash with stronger parameters ends them too; the device signing in
// then gets a new token.)
const deviceMACPrefix = "propusk device v2\x00"

func (t *LoginThrottle) deviceMAC(a store.Account, id, issued string) string {
	m := hmac.New(sha256.New, t.DeviceKey)
	m.Write([]byte(deviceMACPrefix + a.ID + "\x00" + a.PasswordHash + "\x00" + id + "\x00" + issued))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// IssueDevice returns a new device token for account a, to be kept by the
// browser after a complete sign-in (password and, when there is one, the
// second factor); "" without a DeviceKey.
func (t *LoginThrottle) IssueDevice(a store.Account) string {
	if len(t.DeviceKey) == 0 || a.ID == "" {
		return ""
	}
	b := make([]byte, 16)
	rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	issued := strconv.FormatInt(t.Clock.Now().Unix(), 36)
	return id + "." + issued + "." + t.deviceMAC(a, id, issued)
}

// KnownDevice returns the device ID of token when it is a live token
// issued for account a since its password was last set, and "" otherwise
// (forged, for another account or an older password, expired, or no
// DeviceKey).
func (t *LoginThrottle) KnownDevice(a store.Account, token string) string {
	if len(t.DeviceKey) == 0 || a.ID == "" {
		return ""
	}
	id, rest, ok := strings.Cut(token, ".")
	if !ok || len(id) != 22 {
		return ""
	}
	issued, mac, ok := strings.Cut(rest, ".")
	if !ok || len(issued) > 13 {
		return ""
	}
	if !hmac.Equal([]byte(mac), []byte(t.deviceMAC(a, id, issued))) {
		return ""
	}
	sec, err := strconv.ParseInt(issued, 36, 64)
	if err != nil {
		return ""
	}
	at, now := time.Unix(sec, 0), t.Clock.Now()
	if at.After(now.Add(deviceClockSkew)) || !now.Before(at.Add(DeviceLifetime)) {
		return ""
	}
	return id
}
