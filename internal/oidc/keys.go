package oidc

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
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

// Algorithm is the one signature algorithm the provider uses: RS256, the
// algorithm every OpenID Connect relying party must support (OIDC Core §15.1).
const Algorithm = jose.RS256

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

	mu       sync.Mutex
	loadedAt time.Time
	current  *signingKey
	public   []op.Key
	cache    map[string]*rsa.PrivateKey
}

// signingKey is one decrypted key (op.SigningKey and op.Key).
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return Algorithm }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is a published verification key (op.Key).
type publicKey struct {
	id  string
	key *rsa.PublicKey
}

func (k publicKey) ID() string                         { return k.id }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return Algorithm }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.key }

// SigningKey returns the current key, rotating first when it is due.
func (m *Keys) SigningKey(ctx context.Context) (op.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.load(ctx, false); err != nil {
		return nil, err
	}
	return m.current, nil
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

// Rotate replaces the current key now, whatever its age (tests, operators).
func (m *Keys) Rotate(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.rotate(ctx, true); err != nil {
		return err
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
		cur := currentKey(keys)
		if (cur == nil || now.Sub(cur.CreatedAt) >= m.RotateEvery) && attempt == 0 {
			if err := m.rotate(ctx, false); err != nil {
				return err
			}
			continue
		}
		if cur == nil {
			return errors.New("signing keys: no current key")
		}
		return m.install(ctx, keys, cur, now)
	}
}

func currentKey(keys []store.SigningKey) *store.SigningKey {
	for i := range keys {
		if keys[i].RetiredAt.IsZero() {
			return &keys[i]
		}
	}
	return nil
}

// install decrypts the listed keys into the cache and deletes keys that
// left JWKS.
func (m *Keys) install(ctx context.Context, keys []store.SigningKey, cur *store.SigningKey, now time.Time) error {
	if m.cache == nil {
		m.cache = map[string]*rsa.PrivateKey{}
	}
	var public []op.Key
	seen := map[string]bool{}
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
		public = append(public, publicKey{id: k.ID, key: &priv.PublicKey})
		if k.ID == cur.ID {
			m.current = &signingKey{id: k.ID, key: priv}
		}
	}
	for id := range m.cache {
		if !seen[id] {
			delete(m.cache, id)
		}
	}
	m.public, m.loadedAt = public, now
	return nil
}

// rotate creates a key of the next generation and retires the current one
// in one transaction. Unless force, it first checks inside the transaction
// that the current key is still due, so a replica that read the list before
// another replica's rotation committed does not rotate again. Losing the
// race to another replica is no error.
func (m *Keys) rotate(ctx context.Context, force bool) error {
	bits := m.Bits
	if bits == 0 {
		bits = 2048
	}
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return err
	}
	now := m.now().UTC()
	idb := make([]byte, 8)
	if _, err := rand.Read(idb); err != nil {
		return err
	}
	k := store.SigningKey{ID: hex.EncodeToString(idb), Algorithm: string(Algorithm), CreatedAt: now}
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
		cur := currentKey(keys)
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
		m.Log.Info("oidc signing key rotated", "kid", k.ID, "generation", k.Generation)
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

func (m *Keys) encrypt(id string, priv *rsa.PrivateKey) ([]byte, error) {
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

func (m *Keys) decrypt(k store.SigningKey) (*rsa.PrivateKey, error) {
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
	priv, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s is not an RSA key", k.ID)
	}
	return priv, nil
}
