package oidc

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"opsiam/internal/store"
)

// Algorithm is the default signature algorithm: RS256, the algorithm
// every OpenID Connect relying party must support (OIDC Core §15.1).
const Algorithm = jose.RS256

// SigningAlgorithms are the algorithms the provider can sign with (SPEC §9):
// RS256, ES256 (P-256) and EdDSA (Ed25519). ES256 and EdDSA signatures cost
// a small fraction of an RSA-2048 one (issue 15).
var SigningAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// ValidAlgorithm reports whether alg names one of SigningAlgorithms.
func ValidAlgorithm(alg string) bool {
	for _, a := range SigningAlgorithms {
		if string(a) == alg {
			return true
		}
	}
	return false
}

// KeyStore is what the key manager needs from the store.
type KeyStore interface {
	store.SigningKeys
	InTx(ctx context.Context, fn func(tx store.Tx) error) error
}

// Keys manages the signing keys. The private keys live in the database,
// encrypted with AES-256-GCM under KEK (the key id is the additional data),
// so every replica signs with the same current key and publishes the same
// JWKS. Decrypted keys are cached; the key list is re-read every Refresh.
type Keys struct {
	Store KeyStore
	KEK   [32]byte
	Now   func() time.Time
	// RotateEvery is the age at which the current key is replaced (30 days
	// when zero).
	RotateEvery time.Duration
	// PublishAfterRetire keeps a retired key in JWKS this long: at least the
	// longest lifetime of a token it signed, plus clock skew (65 minutes when zero).
	PublishAfterRetire time.Duration
	// Refresh is how long the key list is cached (replicas see a rotation
	// by another replica within this time).
	Refresh time.Duration
	Bits    int // RSA modulus size; 2048 when zero
	Log     *slog.Logger
	// Algorithms are the algorithms kept with a current key each, rotated
	// and published; RS256 alone when empty. Default is the one
	// SigningKey returns (RS256 when empty).
	Algorithms []jose.SignatureAlgorithm
	Default    jose.SignatureAlgorithm

	mu       sync.Mutex
	loadedAt time.Time
	current  map[jose.SignatureAlgorithm]*signingKey
	public   []op.Key
	cache    map[string]crypto.Signer
}

// signingKey is one decrypted key (op.SigningKey and op.Key).
type signingKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is a published verification key (op.Key).
type publicKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key crypto.PublicKey
}

func (k publicKey) ID() string                         { return k.id }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return k.alg }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.key }

func (m *Keys) algorithms() []jose.SignatureAlgorithm {
	if len(m.Algorithms) == 0 {
		return []jose.SignatureAlgorithm{Algorithm}
	}
	return m.Algorithms
}

func (m *Keys) defaultAlg() jose.SignatureAlgorithm {
	if m.Default == "" {
		return m.algorithms()[0]
	}
	return m.Default
}

// SigningKey returns the current key of the default algorithm, rotating
// first when it is due.
func (m *Keys) SigningKey(ctx context.Context) (op.SigningKey, error) {
	return m.SigningKeyFor(ctx, "")
}

// SigningKeyFor returns the current key of alg (the default when empty or
// not kept).
func (m *Keys) SigningKeyFor(ctx context.Context, alg jose.SignatureAlgorithm) (op.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.load(ctx, false); err != nil {
		return nil, err
	}
	if k, ok := m.current[alg]; ok {
		return k, nil
	}
	return m.current[m.defaultAlg()], nil
}

// KeySet returns the keys of JWKS: the current key and retired keys whose
// tokens may still be valid.
func (m *Keys) KeySet(ctx context.Context) ([]op.Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.load(ctx, false); err != nil {
		return nil, err
	}
	return m.public, nil
}

// Maintain creates the first key, rotates a key that is due and deletes
// keys that left JWKS. The server runs it at start and then regularly;
// every replica may run it: the generation's uniqueness lets one rotation win.
func (m *Keys) Maintain(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.load(ctx, true)
}

// Rotate replaces the current key of every algorithm now, whatever its
// age (tests, operators).
func (m *Keys) Rotate(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, alg := range m.algorithms() {
		if err := m.rotate(ctx, alg, true); err != nil {
			return err
		}
	}
	return m.load(ctx, true)
}

func (m *Keys) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// load re-reads the key list when the cache is stale (or force), rotating
// and purging as needed. m.mu is held.
func (m *Keys) load(ctx context.Context, force bool) error {
	if m.RotateEvery <= 0 {
		m.RotateEvery = 30 * 24 * time.Hour
	}
	if m.PublishAfterRetire <= 0 {
		m.PublishAfterRetire = time.Hour + 5*time.Minute
	}
	now := m.now()
	refresh := m.Refresh
	if refresh == 0 {
		refresh = 10 * time.Second
	}
	if !force && m.current != nil && now.Sub(m.loadedAt) < refresh {
		return nil
	}
	for attempt := 0; ; attempt++ {
		keys, err := m.Store.ListSigningKeys(ctx)
		if err != nil {
			return fmt.Errorf("signing keys: %w", err)
		}
		rotated := false
		for _, alg := range m.algorithms() {
			cur := currentKey(keys, alg)
			if (cur == nil || now.Sub(cur.CreatedAt) >= m.RotateEvery) && attempt == 0 {
				if err := m.rotate(ctx, alg, false); err != nil {
					return err
				}
				rotated = true
			}
		}
		if rotated {
			continue
		}
		for _, alg := range m.algorithms() {
			if currentKey(keys, alg) == nil {
				return fmt.Errorf("signing keys: no current %s key", alg)
			}
		}
		return m.install(ctx, keys, now)
	}
}

// currentKey is the key of alg that is not retired (the newest first).
func currentKey(keys []store.SigningKey, alg jose.SignatureAlgorithm) *store.SigningKey {
	for i := range keys {
		if keys[i].RetiredAt.IsZero() && keyAlg(keys[i]) == alg {
			return &keys[i]
		}
	}
	return nil
}

// keyAlg is the algorithm of a stored key; keys stored before there were
// several algorithms are RS256.
func keyAlg(k store.SigningKey) jose.SignatureAlgorithm {
	if k.Algorithm == "" {
		return jose.RS256
	}
	return jose.SignatureAlgorithm(k.Algorithm)
}

// install decrypts the listed keys into the cache and deletes keys that
// left JWKS.
func (m *Keys) install(ctx context.Context, keys []store.SigningKey, now time.Time) error {
	if m.cache == nil {
		m.cache = map[string]crypto.Signer{}
	}
	var public []op.Key
	seen := map[string]bool{}
	current := map[jose.SignatureAlgorithm]*signingKey{}
	for _, k := range keys {
		if !k.RetiredAt.IsZero() && !now.Before(k.PublishUntil) {
			if err := m.Store.DeleteSigningKey(ctx, k.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			continue
		}
		priv, ok := m.cache[k.ID]
		if !ok {
			var err error
			if priv, err = m.decrypt(k); err != nil {
				return err
			}
			m.cache[k.ID] = priv
		}
		seen[k.ID] = true
		alg := keyAlg(k)
		public = append(public, publicKey{id: k.ID, alg: alg, key: priv.Public()})
		if cur := currentKey(keys, alg); cur != nil && cur.ID == k.ID {
			current[alg] = &signingKey{id: k.ID, alg: alg, key: priv}
		}
	}
	for id := range m.cache {
		if !seen[id] {
			delete(m.cache, id)
		}
	}
	m.public, m.current, m.loadedAt = public, current, now
	return nil
}

// newPrivateKey generates a key for alg.
func (m *Keys) newPrivateKey(alg jose.SignatureAlgorithm) (crypto.Signer, error) {
	switch alg {
	case jose.ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	bits := m.Bits
	if bits == 0 {
		bits = 2048
	}
	return rsa.GenerateKey(rand.Reader, bits)
}

// rotate creates a key of the next generation and retires the current one
// in one transaction. Unless force, it first checks inside the transaction
// that the current key is still due, so a replica that read the list before
// another replica's rotation committed does not rotate again. Losing the
// race to another replica is no error.
func (m *Keys) rotate(ctx context.Context, alg jose.SignatureAlgorithm, force bool) error {
	priv, err := m.newPrivateKey(alg)
	if err != nil {
		return err
	}
	now := m.now().UTC()
	idb := make([]byte, 8)
	if _, err := rand.Read(idb); err != nil {
		return err
	}
	k := store.SigningKey{ID: hex.EncodeToString(idb), Algorithm: string(alg), CreatedAt: now}
	if k.PrivateEnc, err = m.encrypt(k.ID, priv); err != nil {
		return err
	}
	err = m.Store.InTx(ctx, func(tx store.Tx) error {
		keys, err := tx.ListSigningKeys(ctx)
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			k.Generation = keys[0].Generation
		}
		k.Generation++
		cur := currentKey(keys, alg)
		if !force && cur != nil && now.Sub(cur.CreatedAt) < m.RotateEvery {
			return errNotDue
		}
		if cur != nil {
			if err := tx.RetireSigningKey(ctx, cur.ID, now, now.Add(m.PublishAfterRetire)); err != nil {
				return err
			}
		}
		return tx.CreateSigningKey(ctx, k)
	})
	if errors.Is(err, store.ErrConflict) || errors.Is(err, errNotDue) {
		return nil // another replica rotated at the same moment
	}
	if err == nil && m.Log != nil {
		m.Log.Info("oidc signing key rotated", "kid", k.ID, "alg", string(alg), "generation", k.Generation)
	}
	return err
}

// errNotDue: another replica rotated since the key list was read.
var errNotDue = errors.New("signing key not due")

func (m *Keys) aead() (cipher.AEAD, error) {
	block, err := aes.NewCipher(m.KEK[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (m *Keys) encrypt(id string, priv crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	g, err := m.aead()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.Seal(nonce, nonce, der, []byte(id)), nil
}

// ErrWrongKEK means a stored signing key cannot be decrypted: the
// key-encryption key differs from the one it was stored with.
var ErrWrongKEK = errors.New("oidc: a signing key cannot be decrypted: the key-encryption key differs from the one the key was stored with (every replica needs the same --key-encryption-key)")

func (m *Keys) decrypt(k store.SigningKey) (crypto.Signer, error) {
	g, err := m.aead()
	if err != nil {
		return nil, err
	}
	if len(k.PrivateEnc) < g.NonceSize() {
		return nil, ErrWrongKEK
	}
	der, err := g.Open(nil, k.PrivateEnc[:g.NonceSize()], k.PrivateEnc[g.NonceSize():], []byte(k.ID))
	if err != nil {
		return nil, ErrWrongKEK
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	switch priv := key.(type) {
	case *rsa.PrivateKey:
		return priv, nil
	case *ecdsa.PrivateKey:
		return priv, nil
	case ed25519.PrivateKey:
		return priv, nil
	}
	return nil, fmt.Errorf("signing key %s: unsupported key type %T", k.ID, key)
}
