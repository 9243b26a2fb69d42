// The write form: the TLP choices follow the audience chosen (the node checks them again),
// and the form says when the item will be end-to-end encrypted. Without this script every
// TLP is offered and a refused one is a message on the page.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const channel = document.getElementById("channel");
  const tlp = document.getElementById("tlp");
  const notice = document.getElementById("sealed-notice");
  if (!channel || !tlp || !notice) {
    return;
  }
  const update = () => {
    const chosen = channel.options[channel.selectedIndex];
    const allowed = (chosen.dataset.tlps || "").split(" ");
    const sealed = (chosen.dataset.sealed || "").split(" ");
    for (const option of tlp.options) {
      option.disabled = !allowed.includes(option.value);
    }
    if (tlp.selectedOptions[0] && tlp.selectedOptions[0].disabled) {
      const open = Array.from(tlp.options).filter((o) => !o.disabled);
      tlp.value = open.length ? open[open.length - 1].value : "";
    }
    notice.hidden = !sealed.includes(tlp.value);
  };
  channel.addEventListener("change", update);
  tlp.addEventListener("change", update);
  update();
});
