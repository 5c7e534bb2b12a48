// Sign-in form: posts the credentials as JSON, then goes to the dashboard.
const form = document.getElementById('login');
const error = document.getElementById('error');
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  error.hidden = true;
  const res = await fetch('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: form.email.value, password: form.password.value }),
  });
  if (res.ok) {
    location.href = '/';
    return;
  }
  const body = await res.json().catch(() => ({}));
  error.textContent = body.error?.message ?? 'Sign-in failed.';
  error.hidden = false;
});
