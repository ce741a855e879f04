package store

import (
	"context"
	"time"
)

// TokenRotation rotates a refresh token in one step (issue 5, acceptance 6:
// the refresh grant's write path with as few statements as possible).
type TokenRotation interface {
	// RotateRefreshToken marks the unused refresh token oldID as used at at
	// and stores next (a refresh token) and access (an access token), all or
	// nothing. ErrStale if oldID was already used (a reuse or a parallel use
	// that won): nothing is stored; ErrNotFound if oldID does not exist.
	RotateRefreshToken(ctx context.Context, oldID string, at time.Time, next, access OIDCToken) error
}
