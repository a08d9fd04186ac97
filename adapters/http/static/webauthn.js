// Roumu: security-key (WebAuthn) ceremonies for the login step and the security settings.
// No framework and no inline code (the Content-Security-Policy allows scripts from /static/ only). Each form
// marked data-webauthn="login" or "register" names its endpoints in data-begin and data-finish and its
// aria-live status line in data-status; the CSRF token is the form's own hidden _csrf field.
(function () {
  "use strict";

  // Messages in both languages, Japanese first, as everywhere on the site.
  var text = {
    working: ["ブラウザーの案内に従って、セキュリティキーを操作してください。", "Follow your browser's prompt to use your security key."],
    cancelled: ["操作が取り消されたか、時間切れになりました。もう一度お試しください。", "The prompt was cancelled or timed out. Please try again."],
    registered: ["このセキュリティキーは登録済みです。", "This security key is registered already."],
    failed: ["セキュリティキーで確認できませんでした。もう一度お試しください。", "The security key could not be used. Please try again."],
    network: ["サーバーに接続できませんでした。ページを再読み込みしてお試しください。", "Could not reach the server. Reload the page and try again."],
    done: ["完了しました。移動しています…", "Done. Moving on…"]
  };

  function bufferFromBase64url(value) {
    var b64 = value.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) {
      b64 += "=";
    }
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      bytes[i] = bin.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function base64urlFromBuffer(buffer) {
    var bytes = new Uint8Array(buffer);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeCredentialIDs(list) {
    (list || []).forEach(function (c) {
      c.id = bufferFromBase64url(c.id);
    });
  }

  // The relying party sends binary fields as base64url strings; the browser API wants ArrayBuffers.
  function creationOptions(options) {
    var pk = options.publicKey;
    pk.challenge = bufferFromBase64url(pk.challenge);
    pk.user.id = bufferFromBase64url(pk.user.id);
    decodeCredentialIDs(pk.excludeCredentials);
    return pk;
  }

  function requestOptions(options) {
    var pk = options.publicKey;
    pk.challenge = bufferFromBase64url(pk.challenge);
    decodeCredentialIDs(pk.allowCredentials);
    return pk;
  }

  // credentialJSON is the PublicKeyCredential as the relying-party library reads it.
  function credentialJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: base64urlFromBuffer(cred.rawId),
      type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: base64urlFromBuffer(r.clientDataJSON) }
    };
    if (cred.authenticatorAttachment) {
      out.authenticatorAttachment = cred.authenticatorAttachment;
    }
    if (r.attestationObject) {
      out.response.attestationObject = base64urlFromBuffer(r.attestationObject);
      if (typeof r.getTransports === "function") {
        out.response.transports = r.getTransports();
      }
    }
    if (r.authenticatorData) {
      out.response.authenticatorData = base64urlFromBuffer(r.authenticatorData);
      out.response.signature = base64urlFromBuffer(r.signature);
      if (r.userHandle) {
        out.response.userHandle = base64urlFromBuffer(r.userHandle);
      }
    }
    return out;
  }

  // Problem is a refusal the server explained (application/problem+json), with its field errors.
  function Problem(body) {
    this.ja = body.detail_ja || text.failed[0];
    this.en = body.detail || text.failed[1];
    this.fields = body.errors || [];
  }

  function post(form, url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRF-Token": form.elements._csrf.value
      },
      body: JSON.stringify(body)
    }).catch(function () {
      throw new Problem({ detail_ja: text.network[0], detail: text.network[1] });
    }).then(function (res) {
      return res.json().catch(function () {
        return {};
      }).then(function (data) {
        if (!res.ok) {
          throw new Problem(data);
        }
        return data;
      });
    });
  }

  function say(status, pair, isError) {
    status.textContent = "";
    status.classList.toggle("alert", !!isError);
    var ja = document.createElement("span");
    ja.textContent = pair[0];
    var en = document.createElement("span");
    en.lang = "en";
    en.textContent = pair[1];
    status.append(ja, document.createElement("br"), en);
  }

  // fieldInput is the form's input a field error names (the key's name is "name" in the JSON, key_name here).
  function fieldInput(form, field) {
    return form.querySelector('[name="' + (field === "name" ? "key_name" : field) + '"]');
  }

  // explain shows why a ceremony failed. Field errors are labelled as the server's error lists are
  // ("現在のパスワード：正しくありません" / "Current password: is incorrect") and their inputs marked invalid.
  function explain(status, form, err) {
    if (err instanceof Problem) {
      var ja = err.ja;
      var en = err.en;
      err.fields.forEach(function (f) {
        var input = fieldInput(form, f.field);
        var label = input && form.querySelector('label[for="' + input.id + '"]');
        var labelEN = label && label.querySelector("[lang=en]");
        if (label && labelEN) {
          ja += " " + label.firstChild.textContent.trim() + "：" + f.message_ja;
          en += " " + labelEN.textContent.replace(/^\/\s*/, "") + ": " + f.message;
        } else {
          ja += " " + f.message_ja;
          en += " " + f.message;
        }
        if (input) {
          input.setAttribute("aria-invalid", "true");
        }
      });
      say(status, [ja, en], true);
      return;
    }
    if (err && err.name === "NotAllowedError") {
      say(status, text.cancelled, true);
    } else if (err && err.name === "InvalidStateError") {
      say(status, text.registered, true);
    } else {
      say(status, text.failed, true);
    }
  }

  // showRecoveryCodes fills the page's recovery-code panel (once, right after a first enrolment) and hides the
  // rest, so that the codes are noted before the person moves on.
  function showRecoveryCodes(codes, next) {
    var panel = document.getElementById("recovery-codes-panel");
    var list = document.getElementById("recovery-codes");
    list.textContent = "";
    codes.forEach(function (code) {
      var li = document.createElement("li");
      var c = document.createElement("code");
      c.textContent = code;
      li.append(c);
      list.append(li);
    });
    document.getElementById("recovery-continue").href = next;
    document.querySelectorAll("main > section, main > .notice").forEach(function (el) {
      el.hidden = el !== panel;
    });
    panel.hidden = false;
    document.getElementById("recovery-heading").focus();
  }

  function ceremony(form) {
    var register = form.dataset.webauthn === "register";
    var status = document.getElementById(form.dataset.status);
    var button = form.querySelector("button[type=submit]");
    var begin = {};
    if (register) {
      begin = { current_password: form.elements.current_password.value, name: form.elements.key_name.value };
    }
    form.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
    });
    button.disabled = true;
    say(status, text.working, false);
    post(form, form.dataset.begin, begin).then(function (options) {
      if (register) {
        return navigator.credentials.create({ publicKey: creationOptions(options) });
      }
      return navigator.credentials.get({ publicKey: requestOptions(options) });
    }).then(function (cred) {
      return post(form, form.dataset.finish, credentialJSON(cred));
    }).then(function (result) {
      if (register) {
        form.elements.current_password.value = "";
      }
      if (result.recovery_codes && result.recovery_codes.length) {
        showRecoveryCodes(result.recovery_codes, result.redirect);
        return;
      }
      say(status, text.done, false);
      window.location.assign(result.redirect);
    }).catch(function (err) {
      explain(status, form, err);
      button.disabled = false;
      button.focus();
    });
  }

  function init() {
    var supported = !!(window.PublicKeyCredential && navigator.credentials && window.fetch);
    document.querySelectorAll("form[data-webauthn]").forEach(function (form) {
      if (!supported) {
        return;
      }
      form.hidden = false;
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        ceremony(form);
      });
    });
    if (supported) {
      document.querySelectorAll("[data-webauthn-fallback]").forEach(function (el) {
        el.hidden = true;
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
