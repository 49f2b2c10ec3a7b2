package accounts

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// PasswordHasher hashes passwords with argon2id and writes them in the PHC
// string format
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// (unpadded standard base64, 16-byte salt, 32-byte key). The parameters
// travel inside every hash, so they can be raised later: Verify tells when a
// stored hash is weaker than the hasher and should be replaced.
//
// The zero PasswordHasher means DefaultPasswordHasher.
type PasswordHasher struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes
}

// DefaultPasswordHasher follows OWASP's minimum for argon2id (19 MiB, two
// passes, one lane): roughly 20–50 ms per hash on a server core, which caps
// an online guesser without making login slow.
var DefaultPasswordHasher = PasswordHasher{Memory: 19456, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32

	// Bounds on what a stored hash may ask for. A corrupt or planted hash
	// must not make one login allocate gigabytes or spin for minutes: at
	// the bounds one verification takes 256 MiB and, on a current core,
	// a few seconds — far above the default (19 MiB, t=2, ~40 ms), so the
	// parameters can still be raised a long way.
	maxMemory  = 256 << 10 // KiB = 256 MiB
	maxTime    = 16
	maxThreads = 16
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// errMalformedHash is wrapped by every parse error, so callers can tell a
// damaged stored hash from a wrong password.
var errMalformedHash = errors.New("malformed password hash")

func malformed(detail string) error { return fmt.Errorf("%w: %s", errMalformedHash, detail) }

func (h PasswordHasher) resolve() (PasswordHasher, error) {
	if h == (PasswordHasher{}) {
		return DefaultPasswordHasher, nil
	}
	if err := h.check(); err != nil {
		return PasswordHasher{}, fmt.Errorf("accounts: invalid password hasher: %w", err)
	}
	return h, nil
}

// check applies the limits argon2 itself enforces (it panics on zero time or
// threads, and silently raises memory to 8 KiB per lane, which would make
// the m= in the hash lie) and our own upper bounds.
func (h PasswordHasher) check() error {
	switch {
	case h.Time < 1 || h.Time > maxTime:
		return fmt.Errorf("argon2id time must be 1 to %d", maxTime)
	case h.Threads < 1 || h.Threads > maxThreads:
		return fmt.Errorf("argon2id threads must be 1 to %d", maxThreads)
	case h.Memory < 8*uint32(h.Threads) || h.Memory > maxMemory:
		return fmt.Errorf("argon2id memory must be 8 KiB per thread to %d KiB", maxMemory)
	}
	return nil
}

// weakerThan reports whether any parameter of h is below the one in o.
func (h PasswordHasher) weakerThan(o PasswordHasher) bool {
	return h.Memory < o.Memory || h.Time < o.Time || h.Threads < o.Threads
}

// phc is a parsed argon2id PHC string.
type phc struct {
	params    PasswordHasher
	salt, key []byte
}

func (p phc) String() string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.params.Memory, p.params.Time, p.params.Threads, b64.EncodeToString(p.salt), b64.EncodeToString(p.key))
}

// parsePHC parses an argon2id PHC string. It accepts only the canonical
// form String writes (no leading zeros, strict base64), so one hash has one
// spelling and encode(parse(s)) == s.
func parsePHC(s string) (phc, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return phc{}, malformed("want $argon2id$v=…$m=…,t=…,p=…$salt$hash")
	}
	if parts[1] != "argon2id" {
		return phc{}, malformed("unsupported algorithm")
	}
	v, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return phc{}, malformed("missing version")
	}
	if ver, err := parseDecimal(v, 32); err != nil || ver != argon2.Version {
		return phc{}, malformed("unsupported version")
	}
	var p phc
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return phc{}, malformed("want parameters m, t and p")
	}
	for i, name := range []string{"m=", "t=", "p="} {
		val, ok := strings.CutPrefix(params[i], name)
		if !ok {
			return phc{}, malformed("want parameters m, t and p")
		}
		bits := 32
		if name == "p=" {
			bits = 8
		}
		n, err := parseDecimal(val, bits)
		if err != nil {
			return phc{}, malformed("bad parameter " + name[:1])
		}
		switch name {
		case "m=":
			p.params.Memory = uint32(n)
		case "t=":
			p.params.Time = uint32(n)
		case "p=":
			p.params.Threads = uint8(n)
		}
	}
	if err := p.params.check(); err != nil {
		return phc{}, malformed(err.Error())
	}
	var ok1, ok2 bool
	p.salt, ok1 = decodeB64(parts[4])
	if !ok1 || len(p.salt) < minSaltLen || len(p.salt) > maxSaltLen {
		return phc{}, malformed("bad salt")
	}
	p.key, ok2 = decodeB64(parts[5])
	if !ok2 || len(p.key) < minKeyLen || len(p.key) > maxKeyLen {
		return phc{}, malformed("bad hash")
	}
	return p, nil
}

// decodeB64 decodes unpadded standard base64 in its one canonical spelling:
// the decoder alone would skip newlines and, unless strict, ignore trailing
// bits, so a tampered string could decode to the same bytes.
func decodeB64(s string) ([]byte, bool) {
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil || base64.RawStdEncoding.EncodeToString(b) != s {
		return nil, false
	}
	return b, true
}

// parseDecimal parses a canonical unsigned decimal: digits only, no leading
// zero (except "0" itself).
func parseDecimal(s string, bits int) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("not a canonical decimal")
	}
	return strconv.ParseUint(s, 10, bits)
}

// hashSlots bounds how many argon2id computations run at once in the
// process. Each holds its memory cost (19 MiB by default) for its run, and
// sign-in forms are open to anyone: without a bound, a burst of logins
// would take memory without limit. More than one per core gains nothing;
// the rest wait their turn.
var hashSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// idKey is argon2.IDKey within hashSlots.
func idKey(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey(password, salt, time, memory, threads, keyLen)
}

// Hash hashes password with a fresh random salt. It does not apply the
// password rules; see CheckPassword.
func (h PasswordHasher) Hash(password string) (string, error) {
	h, err := h.resolve()
	if err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails; crashes the program if the system RNG does
	key := idKey([]byte(password), salt, h.Time, h.Memory, h.Threads, keyLen)
	return phc{params: h, salt: salt, key: key}.String(), nil
}

// Verify reports whether password matches the PHC string encoded, and — when
// it does — whether the hash should be replaced by h.Hash(password) because
// its parameters, salt or key are weaker than h's. A hash that cannot be
// parsed is an error, never a panic and never a match. The comparison takes
// constant time.
func (h PasswordHasher) Verify(encoded, password string) (ok, needsRehash bool, err error) {
	want, err := h.resolve()
	if err != nil {
		return false, false, err
	}
	p, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	got := idKey([]byte(password), p.salt, p.params.Time, p.params.Memory, p.params.Threads, uint32(len(p.key)))
	if subtle.ConstantTimeCompare(got, p.key) != 1 {
		return false, false, nil
	}
	return true, p.params.weakerThan(want) || len(p.salt) < saltLen || len(p.key) < keyLen, nil
}

// dummyHashes caches one dummy hash per parameter set.
var dummyHashes sync.Map // PasswordHasher → string

// dummyHash returns a well-formed hash with h's parameters that no password
// matches (its key is random, not derived from anything).
func (h PasswordHasher) dummyHash() string {
	if v, ok := dummyHashes.Load(h); ok {
		return v.(string)
	}
	p := phc{params: h, salt: make([]byte, saltLen), key: make([]byte, keyLen)}
	rand.Read(p.salt)
	rand.Read(p.key)
	v, _ := dummyHashes.LoadOrStore(h, p.String())
	return v.(string)
}

// DummyVerify spends as long as Verify does on a real hash with h's
// parameters, and discards the result. Login calls it when there is no hash
// to check (unknown username, no password set), so that the response time
// does not tell whether an account exists.
func (h PasswordHasher) DummyVerify(password string) {
	r, err := h.resolve()
	if err != nil {
		r = DefaultPasswordHasher
	}
	_, _, _ = r.Verify(r.dummyHash(), password)
}
