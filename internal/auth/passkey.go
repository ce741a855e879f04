package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// ErrCeremony: a passkey registration was not begun in this browser by
// this user, was used already, or has expired; begin again.
var ErrCeremony = errors.New("auth: passkey ceremony unknown, used or expired")

// ErrPasskeyRejected: the authenticator's answer to a registration was
// malformed or did not verify (wrong origin, challenge, flags).
var ErrPasskeyRejected = errors.New("auth: the passkey was not accepted")

// CeremonyTTL bounds a WebAuthn ceremony: its challenge is accepted this
// long after it was made, once.
const CeremonyTTL = 5 * time.Minute

// Passkeys runs the WebAuthn ceremonies of SPEC §9 for Service: register a
// discoverable credential on the account page, sign in with one without a
// user name. Ceremony state (challenge and options) is stored in the
// database under the hash of a token that only the browser which began the
// ceremony holds; it is used once and lives CeremonyTTL. Build it with
// NewPasskeys.
type Passkeys struct {
	svc *Service
	wa  *webauthn.WebAuthn
}

// NewPasskeys makes the relying party of issuer: its RP ID is the issuer's
// host name and its only origin the issuer's origin. User verification is
// required in both ceremonies, since a passkey sign-in counts as
// multi-factor (possession and a PIN or biometric check), and resident
// keys are required so that sign-in needs no user name.
func NewPasskeys(svc *Service, issuer, displayName string) (*Passkeys, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("auth: passkeys need an http(s) issuer, not %q", issuer)
	}
	yes := true
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: displayName,
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
		AuthenticatorSelection: protocol.AuthenticatorSelection{ResidentKey: protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: &yes, UserVerification: protocol.VerificationRequired},
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
		},
	})
	if err != nil {
		return nil, err
	}
	return &Passkeys{svc: svc, wa: wa}, nil
}

// RPID is the relying party id (the issuer's host name).
func (p *Passkeys) RPID() string { return p.wa.Config.RPID }

// waUser is a user as the library sees it. The user handle is the user's
// id: opaque, random in its last 80 bits, and no personal data.
type waUser struct {
	u     directory.User
	creds []webauthn.Credential
}

func (w waUser) WebAuthnID() []byte                         { return []byte(w.u.ID) }
func (w waUser) WebAuthnName() string                       { return w.u.Username }
func (w waUser) WebAuthnDisplayName() string                { return w.u.FirstName + " " + w.u.LastName }
func (w waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

// credential is a stored passkey as the library's credential record.
func credential(pk store.Passkey) webauthn.Credential {
	var f protocol.AuthenticatorFlags = protocol.FlagUserPresent
	if pk.UserVerified {
		f |= protocol.FlagUserVerified
	}
	if pk.BackupEligible {
		f |= protocol.FlagBackupEligible
	}
	if pk.BackupState {
		f |= protocol.FlagBackupState
	}
	tr := make([]protocol.AuthenticatorTransport, len(pk.Transports))
	for i, t := range pk.Transports {
		tr[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{ID: pk.CredentialID, PublicKey: pk.PublicKey, AttestationType: pk.AttestationType,
		Transport: tr, Flags: webauthn.NewCredentialFlags(f),
		Authenticator: webauthn.Authenticator{AAGUID: pk.AAGUID, SignCount: pk.SignCount}}
}

func (p *Passkeys) user(ctx context.Context, q store.Tx, u directory.User) (waUser, error) {
	pks, err := q.UserPasskeys(ctx, u.ID)
	if err != nil {
		return waUser{}, err
	}
	w := waUser{u: u}
	for _, pk := range pks {
		w.creds = append(w.creds, credential(pk))
	}
	return w, nil
}

// List returns u's passkeys, oldest first.
func (p *Passkeys) List(ctx context.Context, u directory.UserID) ([]store.Passkey, error) {
	return p.svc.Store.UserPasskeys(ctx, u)
}

// begin stores a ceremony and returns the browser's token for it.
func (p *Passkeys) begin(ctx context.Context, purpose string, u directory.UserID, sd *webauthn.SessionData) (string, error) {
	data, err := json.Marshal(sd)
	if err != nil {
		return "", err
	}
	token, hash, err := newToken()
	if err != nil {
		return "", err
	}
	c := store.PasskeyCeremony{Hash: hash, Purpose: purpose, UserID: u, Data: data, ExpiresAt: p.svc.Now().Add(CeremonyTTL)}
	if err := p.svc.Store.CreatePasskeyCeremony(ctx, c); err != nil {
		return "", err
	}
	return token, nil
}

// consume takes the ceremony of token (once); ErrCeremony when there is none.
func (p *Passkeys) consume(ctx context.Context, token, purpose string) (store.PasskeyCeremony, webauthn.SessionData, error) {
	var sd webauthn.SessionData
	if token == "" {
		return store.PasskeyCeremony{}, sd, ErrCeremony
	}
	c, err := p.svc.Store.ConsumePasskeyCeremony(ctx, HashToken(token), purpose, p.svc.Now())
	if errors.Is(err, store.ErrNotFound) {
		return c, sd, ErrCeremony
	}
	if err != nil {
		return c, sd, err
	}
	if err := json.Unmarshal(c.Data, &sd); err != nil {
		return c, sd, err
	}
	return c, sd, nil
}

// BeginRegistration starts registering a new passkey for the signed-in
// user u. It returns the options for navigator.credentials.create (JSON)
// and the token that binds the ceremony to the browser. The caller checks
// the current password first where the account has one.
func (p *Passkeys) BeginRegistration(ctx context.Context, u directory.User) (options []byte, token string, err error) {
	w, err := p.user(ctx, p.svc.Store, u)
	if err != nil {
		return nil, "", err
	}
	if err := directory.CheckPasskeyCount(len(w.creds)); err != nil {
		return nil, "", err
	}
	creation, sd, err := p.wa.BeginRegistration(w, webauthn.WithExclusions(webauthn.Credentials(w.creds).CredentialDescriptors()),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()))
	if err != nil {
		return nil, "", err
	}
	if token, err = p.begin(ctx, store.CeremonyRegister, u.ID, sd); err != nil {
		return nil, "", err
	}
	options, err = json.Marshal(creation)
	return options, token, err
}

// FinishRegistration verifies the authenticator's answer (the JSON of the
// PublicKeyCredential) to the ceremony of token, begun by u, and stores the
// passkey under name with its audit record. A bad name is a field error
// (and leaves the ceremony usable for a corrected name no more: begin
// again); an unknown ceremony ErrCeremony; an answer that does not verify
// ErrPasskeyRejected.
func (p *Passkeys) FinishRegistration(ctx context.Context, u directory.User, token, name string, answer []byte, src Source) (store.Passkey, error) {
	if err := directory.ValidatePasskeyName(name); err != nil {
		return store.Passkey{}, err
	}
	c, sd, err := p.consume(ctx, token, store.CeremonyRegister)
	if err != nil {
		return store.Passkey{}, err
	}
	if c.UserID != u.ID {
		return store.Passkey{}, ErrCeremony
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(answer)
	if err != nil {
		return store.Passkey{}, fmt.Errorf("%w: %w", ErrPasskeyRejected, err)
	}
	var pk store.Passkey
	err = p.svc.Store.InTx(ctx, func(tx store.Tx) error {
		w, err := p.user(ctx, tx, u)
		if err != nil {
			return err
		}
		if err := directory.CheckPasskeyCount(len(w.creds)); err != nil {
			return err
		}
		cred, err := p.wa.CreateCredential(w, sd, parsed)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrPasskeyRejected, err)
		}
		tr := make([]string, len(cred.Transport))
		for i, t := range cred.Transport {
			tr[i] = string(t)
		}
		pk, err = tx.CreatePasskey(ctx, store.Passkey{UserID: u.ID, CredentialID: cred.ID, PublicKey: cred.PublicKey,
			AttestationType: cred.AttestationType, AAGUID: cred.Authenticator.AAGUID, SignCount: cred.Authenticator.SignCount,
			UserVerified: cred.Flags.UserVerified, BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
			Transports: tr, Name: name})
		if err != nil {
			return err
		}
		return p.svc.audit(ctx, tx, src, store.ActionAuthPasskeyRegister, u.ID, map[string]string{"passkey_id": pk.ID, "name": name})
	})
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		return store.Passkey{}, fmt.Errorf("%w: the authenticator's credential is registered already", ErrPasskeyRejected)
	}
	return pk, err
}

// Remove deletes u's own passkey id (the account page), with its audit
// record; ErrNotFound when u has no such passkey.
func (p *Passkeys) Remove(ctx context.Context, u directory.User, id string, src Source) error {
	return p.svc.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.DeletePasskey(ctx, u.ID, id); err != nil {
			return err
		}
		return p.svc.audit(ctx, tx, src, store.ActionAuthPasskeyRemove, u.ID, map[string]string{"passkey_id": id})
	})
}

// BeginLogin starts a discoverable sign-in (no user name): the options for
// navigator.credentials.get (JSON) and the browser's token.
func (p *Passkeys) BeginLogin(ctx context.Context) (options []byte, token string, err error) {
	assertion, sd, err := p.wa.BeginDiscoverableLogin()
	if err != nil {
		return nil, "", err
	}
	if token, err = p.begin(ctx, store.CeremonyLogin, "", sd); err != nil {
		return nil, "", err
	}
	options, err = json.Marshal(assertion)
	return options, token, err
}

// FinishLogin verifies the authenticator's answer to the sign-in ceremony
// of token and opens a full, multi-factor session (Service.SignInVerified,
// amr hwk). Every refusal is ErrInvalidCredentials, as for passwords; an
// answer for a known credential that fails counts as a failed sign-in of
// its user (A3), and so do a disabled or locked user and a sign count that
// did not move forward (a cloned authenticator: refused whenever the
// counter is in use, i.e. non-zero). The ceremony is used up either way,
// so an answer can never be replayed.
func (p *Passkeys) FinishLogin(ctx context.Context, token string, answer []byte, src Source) (string, store.Session, directory.User, error) {
	s := p.svc
	_, sd, err := p.consume(ctx, token, store.CeremonyLogin)
	if errors.Is(err, ErrCeremony) {
		return "", store.Session{}, directory.User{}, s.failed(ctx, directory.User{}, src, "passkey")
	}
	if err != nil {
		return "", store.Session{}, directory.User{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(answer)
	if err != nil {
		return "", store.Session{}, directory.User{}, s.failed(ctx, directory.User{}, src, "passkey")
	}
	var pk store.Passkey
	var u directory.User
	var lookupErr error
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		if pk, lookupErr = s.Store.PasskeyByCredential(ctx, rawID); lookupErr != nil {
			return nil, lookupErr
		}
		if u, lookupErr = s.Store.GetUser(ctx, directory.Scope{}, pk.UserID); lookupErr != nil {
			return nil, lookupErr
		}
		if !bytes.Equal(userHandle, []byte(pk.UserID)) {
			return nil, errors.New("user handle does not match the credential's user")
		}
		w, err := p.user(ctx, s.Store, u)
		if err != nil {
			lookupErr = err
		}
		return w, err
	}
	_, cred, err := p.wa.ValidatePasskeyLogin(handler, sd, parsed)
	if lookupErr != nil && !errors.Is(lookupErr, store.ErrNotFound) {
		return "", store.Session{}, directory.User{}, lookupErr // the database, not the answer
	}
	if err != nil || cred.Authenticator.CloneWarning || !u.Enabled || u.Locked {
		return "", store.Session{}, directory.User{}, s.failed(ctx, u, src, "passkey")
	}
	err = s.Store.UsePasskey(ctx, pk.ID, store.PasskeyUse{SignCount: cred.Authenticator.SignCount, BackupState: cred.Flags.BackupState, At: s.Now()})
	if errors.Is(err, store.ErrStale) || errors.Is(err, store.ErrNotFound) {
		return "", store.Session{}, directory.User{}, s.failed(ctx, u, src, "passkey")
	}
	if err != nil {
		return "", store.Session{}, directory.User{}, err
	}
	tok, sess, err := s.SignInVerified(ctx, u, store.MethodPasskey, src)
	return tok, sess, u, err
}
