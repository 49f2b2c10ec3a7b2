// Package seal owns encryption of secrets and personal data at rest: TOTP
// secrets, signing private keys, the server pepper, and anything else that
// must not be readable from a database dump or backup alone.
//
// Values are sealed with AES-256-GCM under a [Ring] of keys. The first key
// in the ring seals; every key in the ring opens. Rotation is therefore:
// prepend a new key, restart, re-seal rows for which
// [Ring.SealedWithPrimary] reports false, then drop the old key.
//
// Each sealed value is bound to its storage location through [AD], so a
// ciphertext copied into another row or column fails to open instead of
// silently yielding another user's secret.
//
// The package also owns the on-disk key file format ([ReadKeyFile],
// [LoadOrCreateKeyFile]) and its textual form ([ParseKeys], [EncodeKey]).
package seal
