// The chat page's script: sends messages without a reload and shows entries as the server adds or changes them
// (Server-Sent Events, one `entry` event with the server-rendered <li> each). Without it the page still works:
// the form posts and the page reloads.
const transcript = document.getElementById('transcript');
const form = document.getElementById('composer');
const input = document.getElementById('message');

function place(id, html) {
  const template = document.createElement('template');
  template.innerHTML = html;
  const item = template.content.firstElementChild;
  const existing = document.getElementById(`entry-${id}`);
  if (existing) existing.replaceWith(item);
  else transcript.append(item);
  if (item.dataset.who) document.getElementById('signed-in').textContent = `Signed in as ${item.dataset.who}`;
  item.scrollIntoView({ block: 'nearest' });
}

const events = new EventSource(`/events?after=${transcript.dataset.last || '0'}`);
events.addEventListener('entry', (event) => {
  const { id, html } = JSON.parse(event.data);
  place(id, html);
});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (text === '') return;
  input.value = '';
  const response = await fetch('/messages', {
    method: 'POST',
    headers: { accept: 'application/json' },
    body: new URLSearchParams({ csrf: form.elements.csrf.value, text }),
  });
  if (!response.ok) input.value = text;
});

// Sign-in links open a popup; when the browser blocks it, the link opens a tab as usual.
transcript.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-popup]');
  if (!link) return;
  const popup = window.open(link.href, 'mandate-sign-in', 'popup,width=520,height=720');
  if (popup) event.preventDefault();
});
