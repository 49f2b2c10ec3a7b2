package seal

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzOpen checks that Open never panics and that anything it accepts is
// exactly what was sealed (with 2 keys, so lookups by ID are exercised).
func FuzzOpen(f *testing.F) {
	k1 := bytes.Repeat([]byte{1}, KeySize)
	k2 := bytes.Repeat([]byte{2}, KeySize)
	r, err := NewRing(k1, k2)
	if err != nil {
		f.Fatal(err)
	}
	old, _ := NewRing(k2)
	ad := AD{Table: "t", Column: "c", Row: "r"}
	s1, _ := r.Seal([]byte("hello"), ad)
	s2, _ := old.Seal(nil, ad)
	for _, seed := range [][]byte{nil, {}, {1}, {2, 0, 0, 0, 0}, s1, s2, s1[:minSealed-1], append(bytes.Clone(s1), 0)} {
		f.Add(seed, "t", "c", "r")
	}
	f.Fuzz(func(t *testing.T, sealed []byte, table, column, row string) {
		in := bytes.Clone(sealed)
		pt, err := r.Open(sealed, AD{table, column, row})
		if !bytes.Equal(in, sealed) {
			t.Fatal("Open modified its input")
		}
		_ = r.SealedWithPrimary(sealed)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrOpen) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		// Only genuine seals open; the fuzzer cannot forge GCM tags, so an
		// accepted input must be a seed opened under its own AD. (Seeds are
		// compared by content, not bytes: fuzz workers re-seal with fresh
		// nonces.)
		if (AD{table, column, row}) != ad || !(string(pt) == "hello" || len(pt) == 0) {
			t.Fatalf("opened unexpected input %x under %q/%q/%q -> %q", sealed, table, column, row, pt)
		}
	})
}
