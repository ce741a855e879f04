// opsiam console: the few behaviours that need a script (issue 6).
// - confirmation dialogs for forms or buttons marked data-confirm;
// - the user list buttons that follow the selection (U6);
// - the personal-information confirmation before adding a user (U8);
// - assign dialogs that move items between "unassigned" and "assigned" (U11);
// - Next and OK of the deleted-user choice and rename screens (D3);
// - pickers that search users on the server as one types (issue 17).
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  setupConfirm();
  setupSelection();
  setupDialogs();
  setupAssign();
  setupTombstones();
  setupPickers();
});

// setupConfirm asks before a form marked data-confirm (on the form or on
// its submit button) is sent, in the page's <dialog id="confirm-dialog">.
function setupConfirm() {
  var dialog = document.getElementById("confirm-dialog");
  if (!dialog) {
    return;
  }
  var pending = null;
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var button = e.submitter || null;
    var text = (button && button.dataset.confirm) || form.dataset.confirm;
    if (!text || form.dataset.confirmed === "1") {
      return;
    }
    e.preventDefault();
    pending = { form: form, button: button };
    document.getElementById("confirm-text").textContent = text;
    dialog.showModal();
  }, true);
  document.getElementById("confirm-ok").addEventListener("click", function () {
    dialog.close();
    if (!pending) {
      return;
    }
    var p = pending;
    pending = null;
    p.form.dataset.confirmed = "1";
    if (p.button) {
      p.form.requestSubmit(p.button);
    } else {
      p.form.requestSubmit();
    }
    p.form.dataset.confirmed = "";
  });
  document.getElementById("confirm-cancel").addEventListener("click", function () {
    pending = null;
    dialog.close();
  });
}

// setupSelection keeps the bulk buttons of the user list in step with the
// selected rows (U6): Add only with no selection; Delete and Password reset
// with any selection; Enable with a selected disabled user; Disable with a
// selected enabled user.
function setupSelection() {
  var table = document.getElementById("users-table");
  if (!table) {
    return;
  }
  var boxes = Array.prototype.slice.call(table.querySelectorAll("input[name=id]"));
  var all = document.getElementById("select-all");
  var reason = document.getElementById("bulk-reason");
  function set(id, on, why) {
    var b = document.getElementById(id);
    if (b) {
      b.disabled = !on;
      b.title = why || "";
    }
  }
  function update() {
    var selected = boxes.filter(function (b) { return b.checked; });
    var anyEnabled = selected.some(function (b) { return b.dataset.enabled === "true"; });
    var anyDisabled = selected.some(function (b) { return b.dataset.enabled === "false"; });
    set("btn-add", selected.length === 0);
    // What the server would refuse is disabled, with the reason shown:
    // deleting admin (U10), a password reset of only disabled users (U7).
    var withAdmin = selected.some(function (b) { return b.dataset.username === "admin"; });
    var onlyDisabled = selected.length > 0 && !anyEnabled;
    var del = document.getElementById("btn-delete"), reset = document.getElementById("btn-reset");
    var whyDelete = withAdmin && del ? del.dataset.reasonAdmin : "";
    var whyReset = onlyDisabled && reset ? reset.dataset.reasonDisabled : "";
    set("btn-delete", selected.length > 0 && !withAdmin, whyDelete);
    set("btn-reset", selected.length > 0 && !onlyDisabled, whyReset);
    if (reason) {
      reason.textContent = [whyDelete, whyReset].filter(function (s) { return s; }).join(" ");
    }
    set("btn-enable", anyDisabled);
    set("btn-disable", anyEnabled);
    if (all) {
      all.checked = selected.length > 0 && selected.length === boxes.length;
      all.indeterminate = selected.length > 0 && selected.length < boxes.length;
    }
  }
  boxes.forEach(function (b) { b.addEventListener("change", update); });
  if (all) {
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      update();
    });
  }
  update();
}

// setupDialogs opens the <dialog> named by a button's data-open and closes
// the one around a button marked data-close. A checkbox marked data-enables
// enables the button it names only while it is ticked (U8).
function setupDialogs() {
  document.querySelectorAll("[data-open]").forEach(function (b) {
    b.addEventListener("click", function () {
      var d = document.getElementById(b.dataset.open);
      if (d) {
        d.showModal();
      }
    });
  });
  document.querySelectorAll("[data-close]").forEach(function (b) {
    b.addEventListener("click", function () {
      var d = b.closest("dialog");
      if (d) {
        d.close();
      }
    });
  });
  document.querySelectorAll("input[data-enables]").forEach(function (box) {
    var target = document.getElementById(box.dataset.enables);
    function update() {
      if (target) {
        target.disabled = !box.checked;
      }
    }
    box.addEventListener("change", update);
    update();
  });
}

// setupAssign wires each assign form: the buttons move the selected options
// between the "unassigned" and "assigned" lists, and on submit every option
// of the assigned list is sent.
function setupAssign() {
  document.querySelectorAll("form.assign").forEach(function (form) {
    var from = form.querySelector("select.unassigned");
    var to = form.querySelector("select.assigned");
    function move(src, dst) {
      Array.prototype.slice.call(src.selectedOptions).forEach(function (o) {
        o.selected = false;
        dst.appendChild(o);
      });
    }
    form.querySelector(".move-assign").addEventListener("click", function () { move(from, to); });
    form.querySelector(".move-unassign").addEventListener("click", function () { move(to, from); });
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(to.options, function (o) { o.selected = true; });
    });
  });
}

// setupTombstones keeps Next and OK of the deleted-user screens (D3)
// disabled until they can be used: on a choice screen, Next once an option
// that leads to a rename screen is chosen, OK once one that needs no rename
// is; on a rename screen, OK once every new value is filled in. The server
// checks every value again.
function setupTombstones() {
  var form = document.getElementById("tomb-form");
  if (!form) {
    return;
  }
  var next = document.getElementById("tomb-next");
  var ok = document.getElementById("tomb-ok");
  var radios = Array.prototype.slice.call(form.querySelectorAll("input[name=tomb_take][type=radio]"));
  var inputs = Array.prototype.slice.call(form.querySelectorAll("input.tomb-new"));
  function update() {
    if (radios.length > 0) {
      var chosen = radios.filter(function (r) { return r.checked; })[0];
      var renames = chosen && chosen.dataset.renames === "true";
      if (next) {
        next.disabled = !(chosen && renames);
      }
      if (ok) {
        ok.disabled = !(chosen && !renames);
      }
      return;
    }
    if (ok) {
      ok.disabled = !inputs.every(function (i) { return i.value.trim() !== ""; });
    }
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
}

// setupPickers fills the <datalist> of every input marked data-pick with
// the server's matches as the user types (issue 17, point 10): the browser
// offers them below the field, by keyboard or pointer.
function setupPickers() {
  Array.prototype.forEach.call(document.querySelectorAll("input[data-pick]"), function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var timer = null, asked = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (q === "" || q === asked) {
          return;
        }
        asked = q;
        fetch(input.dataset.pick + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            list.textContent = "";
            items.forEach(function (it) {
              var o = document.createElement("option");
              o.value = it.value;
              o.label = it.label;
              list.appendChild(o);
            });
          })
          .catch(function () {});
      }, 150);
    });
  });
}
