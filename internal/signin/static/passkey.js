// Passkeys (SPEC §9): sign-in on /login (a button, and the browser's
// autofill where it offers conditional mediation) and registration on
// /account. The options and answers travel as JSON; binary members are
// base64url (WebAuthn Level 3's JSON forms). Every request carries the
// form token in X-CSRF-Token.
(function () {
  "use strict";

  function b64urlToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }
  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  var errorBox = document.getElementById("passkey-error");
  var texts = document.getElementById("passkey-messages");
  function show(msg) {
    if (!errorBox) { return; }
    errorBox.textContent = msg;
    errorBox.hidden = !msg;
  }
  function text(name) { return texts ? texts.getAttribute("data-" + name) : name; }
  function csrf() {
    var f = document.querySelector("input[name=csrf]");
    return f ? f.value : "";
  }

  // post sends v as JSON and resolves with [status, answer].
  function post(path, v) {
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(v || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { return [r.status, j]; });
    });
  }

  function creationOptions(o) {
    var pk = o.publicKey;
    pk.challenge = b64urlToBuf(pk.challenge);
    pk.user.id = b64urlToBuf(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
    return { publicKey: pk };
  }
  function requestOptions(o) {
    var pk = o.publicKey;
    pk.challenge = b64urlToBuf(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
    return { publicKey: pk };
  }
  function credentialJSON(cred) {
    var r = cred.response, out = {
      id: cred.id, rawId: bufToB64url(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: bufToB64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64url(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = bufToB64url(r.authenticatorData);
      out.response.signature = bufToB64url(r.signature);
      if (r.userHandle) { out.response.userHandle = bufToB64url(r.userHandle); }
    }
    return out;
  }

  function failed(e) {
    if (e && (e.name === "NotAllowedError" || e.name === "AbortError")) {
      show(text("cancelled"));
    } else {
      show((e && e.message) || text("error"));
    }
  }
  function answerError(ans) {
    var err = new Error(ans[1].error || text("error"));
    err.redirect = ans[1].redirect;
    return err;
  }

  var supported = !!(window.PublicKeyCredential && navigator.credentials);

  // Sign-in page.
  var loginForm = document.getElementById("login-form");
  var button = document.getElementById("passkey-signin");
  if (loginForm && button) {
    var next = loginForm.querySelector("input[name=next]");
    var conditional = null;

    var signIn = function (mediation) {
      var ctl = new AbortController();
      return post("/login/passkey/begin").then(function (ans) {
        if (ans[0] !== 200) { throw answerError(ans); }
        var opts = requestOptions(ans[1]);
        opts.signal = ctl.signal;
        if (mediation) { opts.mediation = mediation; }
        return navigator.credentials.get(opts);
      }).then(function (cred) {
        return post("/login/passkey/finish", { credential: credentialJSON(cred), next: next ? next.value : "" });
      }).then(function (ans) {
        if (ans[0] !== 200) { throw answerError(ans); }
        window.location.assign(ans[1].redirect);
      });
    };
    var startConditional = function () {
      if (!supported || !PublicKeyCredential.isConditionalMediationAvailable) { return; }
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (!ok) { return; }
        var ctl = new AbortController();
        conditional = ctl;
        post("/login/passkey/begin").then(function (ans) {
          if (ans[0] !== 200 || ctl.signal.aborted) { return null; }
          var opts = requestOptions(ans[1]);
          opts.signal = ctl.signal;
          opts.mediation = "conditional";
          return navigator.credentials.get(opts);
        }).then(function (cred) {
          // The button aborts this request; an answer that came anyway
          // must not race the button's own ceremony.
          if (!cred || ctl.signal.aborted) { return null; }
          return post("/login/passkey/finish", { credential: credentialJSON(cred), next: next ? next.value : "" });
        }).then(function (ans) {
          if (!ans) { return; }
          if (ans[0] !== 200) { throw answerError(ans); }
          window.location.assign(ans[1].redirect);
        }).catch(function (e) {
          if (!ctl.signal.aborted && e && e.name !== "AbortError") { failed(e); }
        });
      });
    };

    if (supported) {
      button.hidden = false;
      button.addEventListener("click", function () {
        show("");
        if (conditional) { conditional.abort(); conditional = null; }
        button.disabled = true;
        signIn(null).catch(failed).then(function () { button.disabled = false; });
      });
      startConditional();
    }
  }

  // Account page.
  var regForm = document.getElementById("passkey-form");
  if (regForm) {
    regForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      show("");
      if (!supported) { show(text("unsupported")); return; }
      var name = document.getElementById("passkey_name").value;
      var pw = document.getElementById("passkey_current_password");
      var submit = document.getElementById("passkey-register");
      submit.disabled = true;
      post("/account/passkeys/begin", { name: name, current_password: pw ? pw.value : "" }).then(function (ans) {
        if (ans[0] !== 200) { throw answerError(ans); }
        return navigator.credentials.create(creationOptions(ans[1]));
      }).then(function (cred) {
        return post("/account/passkeys/finish", { name: name, credential: credentialJSON(cred) });
      }).then(function (ans) {
        if (ans[0] !== 201) { throw answerError(ans); }
        window.location.assign(ans[1].redirect);
      }).catch(function (e) {
        if (e && e.redirect) { window.location.assign(e.redirect); return; }
        failed(e);
      }).then(function () { submit.disabled = false; });
    });
  }
})();
