// Package auth holds how people prove who they are (SPEC A1–A5, A7, U7):
// password hashing (argon2id, upgraded at sign-in), the sign-in service
// (user name or mail plus password, then a TOTP code when needed, with the
// same work and the same answer for every failure), lockout counted in the
// database (A3), server-side sessions stored as hashes with idle and
// absolute limits, single-use mail links stored as hashes, and the account
// page's changes. It uses the store for state and the directory for rules;
// it knows nothing of HTTP (package signin serves the pages).
//
// Sign-in as a state machine: SignIn checks the password and opens a
// session at one of three stages: store.StageFull (done), store.StageOTP
// (SubmitCode next) or store.StageEnrol (BeginEnrolment, then
// ConfirmEnrolment). Finishing a sign-in always issues a new session id.
package auth
