// Passkey ceremonies for the login and account pages (WebAuthn Level 3 JSON helpers). Loaded as a same-origin
// module so the CSP needs no inline script. Without WebAuthn support the passkey controls stay hidden.
const supported = typeof PublicKeyCredential !== 'undefined' && typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function';

async function post(url, csrf, body) {
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
    body: JSON.stringify(body ?? {}),
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(json.detail || json.error_description || 'the passkey was not accepted');
  return json;
}

function show(id, message) {
  const el = document.getElementById(id);
  el.textContent = message;
  el.hidden = false;
}

const login = document.getElementById('passkey-login');
if (login && supported) {
  login.hidden = false;
  document.getElementById('passkey-button').addEventListener('click', async () => {
    try {
      const { csrf, returnTo } = login.dataset;
      const options = await post(login.dataset.options, csrf);
      const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
      const result = await post(login.dataset.verify, csrf, { response: credential.toJSON(), return_to: returnTo });
      window.location.assign(result.redirect);
    } catch (err) {
      show('passkey-error', err.message);
    }
  });
}

const register = document.getElementById('passkey-register');
if (register && supported) {
  register.hidden = false;
  document.getElementById('passkey-register-button').addEventListener('click', async () => {
    try {
      const { csrf } = register.dataset;
      const options = await post(register.dataset.options, csrf);
      const credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
      await post(register.dataset.verify, csrf, { response: credential.toJSON() });
      window.location.reload();
    } catch (err) {
      show('passkey-register-error', err.message);
    }
  });
}
