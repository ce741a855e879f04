// Package console serves the administrator console under /console/ (SPEC
// §1, O4; issue 6): users (with the billed/non-billed tree of B1, search,
// cursor paging and the selection-driven bulk buttons of U6, the personal
// information confirmation of U8, forms with every U1 field, detail tabs
// of U11), groups (G1–G5, Git members of P2), roles (R1–R4, R6), customers
// (C1), the audit log (O1), the choice and rename screens for deleted users
// who live on in the ITSM app (D2, D3: screens A–H of reference §6.3), and
// the provisioning outbox with replay and discard (P1).
//
// Pages are rendered on the server from html/template files embedded in the
// binary and parsed once in New, so a broken template stops the server, not
// a page (STYLE P11). A little hand-written JavaScript (static/console.js)
// drives the selection-dependent buttons, the assign dialogs, the
// confirmation dialogs and the Next/OK buttons of the deleted-user screens; every action is an ordinary form post.
//
// The console signs nobody in: it reads the session cookie of package
// signin through auth.Service and sends a browser without a session to
// /login with a return path. Every change goes through a manage.Service
// method, which checks the rules and writes the audit record and outbox
// events in one transaction; the console only parses forms, checks the
// caller's permissions as the REST API does (effective roles →
// RoleSet.Permits; whoever may not read a thing gets 404) and renders.
//
// Forms are protected against cross-site requests twice: the standard
// library's http.CrossOriginProtection, and a form token derived from the
// session secret (HMAC), compared in constant time. Texts are looked up by
// key in Japanese or English (package i18n).
package console
