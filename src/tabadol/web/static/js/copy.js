// Copy buttons: a button with data-copy="ID" copies the text of the element ID (a key id
// in full) to the clipboard. A static file: the page's CSP allows no inline script.
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(
    () => { button.dataset.copied = "true"; },
    () => { button.dataset.copied = "false"; },
  );
});
