// The console's only script (served from /static, allowed by the CSP's script-src 'self'): the approval queue
// stays live. The server streams the whole pending set whenever it changes (Server-Sent Events); rows that are new
// are added at the top, rows decided or expired elsewhere are removed, and a polite live region says what changed.
const live = document.getElementById('approvals-live');
const table = document.getElementById('pending-approvals');
if (live && table && 'EventSource' in window) {
  const tbody = table.tBodies[0];
  const count = document.getElementById('pending-count');
  const empty = document.getElementById('pending-empty');
  const wrap = document.getElementById('pending-table-wrap');
  const source = new EventSource(live.dataset.events);
  source.addEventListener('pending', (event) => {
    const { rows } = JSON.parse(event.data);
    const ids = new Set(rows.map((row) => row.id));
    let removed = 0;
    for (const tr of [...tbody.querySelectorAll('tr[data-approval-id]')]) {
      if (!ids.has(tr.dataset.approvalId)) {
        tr.remove();
        removed++;
      }
    }
    const present = new Set([...tbody.querySelectorAll('tr[data-approval-id]')].map((tr) => tr.dataset.approvalId));
    const added = rows.filter((row) => !present.has(row.id));
    // Newest first: insert the new ones, in order, above the rows already shown.
    for (const row of added.reverse()) {
      const template = document.createElement('template');
      template.innerHTML = row.html.trim();
      const tr = template.content.firstElementChild;
      tr.classList.add('arrived');
      tbody.prepend(tr);
    }
    const total = tbody.querySelectorAll('tr[data-approval-id]').length;
    count.textContent = String(total);
    empty.hidden = total > 0;
    wrap.hidden = total === 0;
    const said = [];
    if (added.length) said.push(`${added.length} new approval request${added.length > 1 ? 's' : ''}`);
    if (removed) said.push(`${removed} request${removed > 1 ? 's were' : ' was'} decided or expired`);
    if (said.length) live.textContent = `${said.join('; ')}.`;
  });
}
