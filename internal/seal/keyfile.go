package seal

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unicode"
)

// maxKeyFileSize bounds how much of a key file is read; a real one holds a
// handful of 44-character lines.
const maxKeyFileSize = 64 << 10

// EncodeKey returns the standard padded base64 form of k, as written to key
// files. ParseKeys also accepts URL-safe and unpadded forms.
func EncodeKey(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

// ParseKeys parses keys separated by commas, whitespace or newlines, each the
// base64 of 32 bytes. Errors name the key by position and never include key
// material, since they end up in logs.
func ParseKeys(s string) ([][]byte, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if len(fields) == 0 {
		return nil, errors.New("seal: no secrets keys given")
	}
	keys := make([][]byte, 0, len(fields))
	for i, f := range fields {
		k, err := decodeKey(f)
		if err != nil {
			return nil, fmt.Errorf("seal: secrets key #%d of %d: %w", i+1, len(fields), err)
		}
		for j, prev := range keys {
			if string(prev) == string(k) {
				return nil, fmt.Errorf("seal: secrets key #%d of %d duplicates key #%d", i+1, len(fields), j+1)
			}
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// decodeKey accepts standard or URL-safe base64, padded or not. The errors
// from encoding/base64 are not wrapped: they are fine, but keeping our own
// wording guarantees nothing of the input leaks.
func decodeKey(f string) ([]byte, error) {
	enc := base64.RawStdEncoding
	if strings.ContainsAny(f, "-_") {
		enc = base64.RawURLEncoding
	}
	k, err := enc.DecodeString(strings.TrimRight(f, "="))
	if err != nil {
		return nil, errors.New("not valid base64 (standard or URL-safe)")
	}
	if len(k) != KeySize {
		return nil, fmt.Errorf("decodes to %d bytes, want %d", len(k), KeySize)
	}
	return k, nil
}

// ReadKeyFile reads keys in ParseKeys format from path. It refuses a file
// that group or others can access: these keys protect every secret in the
// database.
func ReadKeyFile(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("seal: key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("seal: key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("seal: key file %s is not a regular file", path)
	}
	// Windows has no Unix permission bits; os reports 0666 for every file.
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("seal: key file %s is accessible by group or others (mode %04o); run: chmod 600 %s",
			path, fi.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("seal: key file %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("seal: key file %s is larger than %d bytes", path, maxKeyFileSize)
	}
	keys, err := ParseKeys(string(data))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return keys, nil
}

// LoadOrCreateKeyFile reads the key file at path, or, if it does not exist,
// creates it with one fresh key (mode 0600, parent directory 0700) and
// reports created=true.
//
// Creation is exclusive and atomic: the key is written and synced to a
// private temporary file (O_EXCL), which is then hard-linked to path. The
// link fails if path already exists, so when several processes race exactly
// one wins and the others read the winner's complete file; nobody ever sees
// an empty or half-written key file.
func LoadOrCreateKeyFile(path string) (keys [][]byte, created bool, err error) {
	keys, err = ReadKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return keys, false, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("seal: creating key directory: %w", err)
	}
	key, err := GenerateKey()
	if err != nil {
		return nil, false, err
	}
	data := []byte(EncodeKey(key) + "\n")

	won, err := publishExclusive(path, data)
	if err != nil {
		return nil, false, fmt.Errorf("seal: creating key file %s: %w", path, err)
	}
	if !won {
		keys, err = ReadKeyFile(path)
		return keys, false, err
	}
	// Losing this file after sealing data with it would make that data
	// unrecoverable, so make the directory entry durable before returning.
	if err := syncDir(dir); err != nil {
		return nil, false, fmt.Errorf("seal: syncing key directory: %w", err)
	}
	return [][]byte{key}, true, nil
}

// publishExclusive creates path with data unless it already exists; won
// reports whether this call created it.
func publishExclusive(path string, data []byte) (won bool, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*") // O_EXCL, mode 0600
	if err != nil {
		return false, err
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := writeSync(tmp, data); err != nil {
		return false, err
	}
	err = os.Link(tmpName, path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrExist):
		return false, nil
	}
	// Filesystem without hard links: fall back to a direct O_EXCL create.
	// A racing reader could then briefly see a short file, which it reports
	// as an error rather than misreading.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := writeSync(f, data); err != nil {
		os.Remove(path)
		return false, err
	}
	return true, nil
}

func writeSync(f *os.File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for sync there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
