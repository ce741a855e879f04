// Package signin serves the sign-in and account pages (SPEC A1–A5, A7, U9,
// §7 "Pages"): /login (user name or mail and password, then a one-time
// code or OTP enrolment), /logout, /account, the mail-link pages
// /password/setup, /password/reset and /email/verify, and /dev/mail in the
// embedded default. Pages are server-rendered from embedded html/template
// files parsed at start, in Japanese or English (package i18n).
//
// Forms are protected twice against cross-site requests: the standard
// library's http.CrossOriginProtection (Sec-Fetch-Site / Origin) and a
// double-submit token (a random cookie repeated in a hidden field). Cookies
// are HttpOnly, SameSite=Lax, and Secure when the issuer is https. POST
// /login is rate-limited per client address.
//
// The HTTP layer only parses, calls package auth and renders; every rule
// lives in auth and directory. SessionUser lets the REST API accept the
// same session cookie.
package signin
