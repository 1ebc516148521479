// The sign-in popup's last page: a Close button when the chat opened it (a script may close only windows it opened).
const button = document.getElementById('close-window');
if (button && window.opener) {
  button.hidden = false;
  button.addEventListener('click', () => window.close());
}
