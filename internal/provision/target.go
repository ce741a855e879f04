package provision

import (
	"context"
	"errors"

	"opsiam/internal/store"
)

// Target receives outbox events. Deliver must be idempotent: the worker
// may deliver an event again after a crash, and the event's ID is the key
// a target uses to notice that.
type Target interface {
	// Name identifies the target in delivery records, logs and the API.
	Name() string
	// Handles reports whether the target wants events of this topic.
	Handles(topic string) bool
	// Deliver hands one event over. An error wrapping ErrPermanent makes
	// the event dead at once; any other error is retried with back-off.
	Deliver(ctx context.Context, e store.Event) error
}

// ErrPermanent marks a delivery error that retrying cannot fix.
var ErrPermanent = errors.New("permanent delivery failure")

// Event topics that several packages share. Payloads are JSON objects with
// the fields named here.
const (
	TopicUserCreated  = "user.created"  // {"user_id"}
	TopicUserUpdated  = "user.updated"  // {"user_id"}
	TopicUserDeleted  = "user.deleted"  // {"user_id","username","email"}
	TopicGroupCreated = "group.created" // {"group_id","name"}
	// TopicGroupUpdated: previous_name is the name before the change, equal
	// to name when the name did not change (GitLab follows renames, P2).
	TopicGroupUpdated      = "group.updated"        // {"group_id","name","previous_name"}
	TopicGroupDeleted      = "group.deleted"        // {"group_id","name"}
	TopicMemberAdded       = "group.member_added"   // {"group_id","group_name","user_id","username"}
	TopicMemberRemoved     = "group.member_removed" // {"group_id","group_name","user_id","username"}
	TopicMailPasswordSetup = "mail.password_setup"  // {"user_id"}: the first password link (A4)
	TopicMailPasswordReset = "mail.password_reset"  // {"user_id"}: a reset link (A4)
	TopicMailVerifyEmail   = "mail.verify_email"    // {"user_id","email"}: verification link (U9)
	// TopicOIDCBackchannelLogout asks for a back-channel logout token to one
	// client (A5): {"client_id","user_id","session_id"}.
	TopicOIDCBackchannelLogout = "oidc.backchannel_logout"

	// TopicTombstoneTakenOver tells the ITSM app (P3) that a new user took
	// over a deleted user's records (D2): move the records of itsm_link to
	// user_id, whose user name and mail they now show.
	// {"tombstone_id","itsm_link","user_id","username","email","previous_username","previous_email"}
	TopicTombstoneTakenOver = "itsm.tombstone_taken_over"
	// TopicTombstoneRenamed tells the ITSM app (P3) that a deleted user was
	// renamed to free its user name or mail (D2): rewrite the records of
	// itsm_link from previous_username/previous_email to username/email.
	// {"tombstone_id","itsm_link","username","email","previous_username","previous_email"}
	TopicTombstoneRenamed = "itsm.tombstone_renamed"
)
