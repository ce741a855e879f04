// Enables a password form's submit button only when every password field
// is filled and the new password equals its confirmation (A7).
(function () {
  var form = document.getElementById("password-form");
  if (!form) { return; }
  var button = document.getElementById("password-submit");
  var fields = form.querySelectorAll("input[type=password]");
  var next = document.getElementById("new_password");
  var confirm = document.getElementById("confirm_password");
  function update() {
    var filled = true;
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value === "") { filled = false; }
    }
    button.disabled = !(filled && next.value === confirm.value);
  }
  form.addEventListener("input", update);
  update();
})();
