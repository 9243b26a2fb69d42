// Passkeys (WebAuthn) on the enrolment, sign-in and account pages: ask the node for the ceremony's
// options, run it in the browser, put the credential (as JSON, binary fields base64url) in
// the form's hidden `passkey` field and send the form. The challenge stays on the server.
"use strict";

function fromB64url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  const raw = atob(b64);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
  return bytes.buffer;
}

function toB64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let raw = "";
  for (let i = 0; i < bytes.length; i += 1) raw += String.fromCharCode(bytes[i]);
  return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function options(form) {
  const answer = await fetch(form.dataset.options, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRF-Token": form.dataset.csrf, Accept: "application/json" },
  });
  if (!answer.ok) throw new Error("options refused: " + answer.status);
  return answer.json();
}

function descriptors(list) {
  return (list || []).map((d) => ({ ...d, id: fromB64url(d.id) }));
}

// The credential as the node reads it (WebAuthn's JSON form), `response` already encoded.
function asJson(credential, response) {
  return {
    id: credential.id,
    rawId: toB64url(credential.rawId),
    type: credential.type,
    response,
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment,
  };
}

async function register(form) {
  const o = await options(form);
  const publicKey = {
    ...o,
    challenge: fromB64url(o.challenge),
    user: { ...o.user, id: fromB64url(o.user.id) },
    excludeCredentials: descriptors(o.excludeCredentials),
  };
  const credential = await navigator.credentials.create({ publicKey });
  const r = credential.response;
  return asJson(credential, {
    clientDataJSON: toB64url(r.clientDataJSON),
    attestationObject: toB64url(r.attestationObject),
    transports: r.getTransports ? r.getTransports() : [],
  });
}

async function authenticate(form) {
  const o = await options(form);
  const publicKey = {
    ...o,
    challenge: fromB64url(o.challenge),
    allowCredentials: descriptors(o.allowCredentials),
  };
  const credential = await navigator.credentials.get({ publicKey });
  const r = credential.response;
  return asJson(credential, {
    clientDataJSON: toB64url(r.clientDataJSON),
    authenticatorData: toB64url(r.authenticatorData),
    signature: toB64url(r.signature),
    userHandle: r.userHandle ? toB64url(r.userHandle) : null,
  });
}

function wire(buttonId, formOf, ceremony, check) {
  const button = document.getElementById(buttonId);
  if (!button) return;
  const form = formOf(button);
  const problem = document.getElementById("passkey-problem");
  button.addEventListener("click", async () => {
    if (check && !check(form)) return;
    if (problem) problem.hidden = true;
    button.disabled = true;
    try {
      form.elements.passkey.value = JSON.stringify(await ceremony(form));
      const code = form.elements.code;
      if (code) code.value = "";
      form.submit();
    } catch (error) {
      if (problem) problem.hidden = false;
      button.disabled = false;
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  wire("make-passkey", (b) => b.form, register, (form) =>
    ["password", "confirm"].every((name) => form.elements[name].reportValidity()));
  wire("use-passkey", (b) => b.form, authenticate, null);
  wire("add-passkey", (b) => b.form, register, null);
});
