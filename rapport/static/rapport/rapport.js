// Small behaviours of the Rapport UI that HTML and htmx attributes cannot express.
// Loaded as a file (the CSP allows no inline script), and safe to run without htmx.
(function () {
  "use strict";

  // Escape leaves an inline edit without saving; it also closes an open dropdown.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    const target = event.target instanceof Element ? event.target : null;
    const form = target && target.closest("form[data-cancel-url]");
    if (form && window.htmx) {
      event.preventDefault();
      window.htmx.ajax("GET", form.dataset.cancelUrl, { target: form, swap: "outerHTML" });
      return;
    }
    document.querySelectorAll("details.dropdown[open]").forEach(function (open) {
      open.removeAttribute("open");
    });
  });

  // htmx wires the content it swaps in only when the swap settles, a moment later. A form
  // submitted in that moment (Enter pressed as an inline edit opens) would be posted bare
  // and replace the page with the fragment meant for the form's place. Wire new content as
  // soon as it is in the page; htmx's own pass at settle then finds it done.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (window.htmx && event.target instanceof Element && event.target.isConnected) {
      window.htmx.process(event.target);
    }
  });

  // A click outside an open dropdown closes it, as people expect of a menu.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (open) {
      if (!open.contains(event.target)) open.removeAttribute("open");
    });
  });

  // Say so when a request fails outright; 4xx answers carry their own inline message.
  function showError(text) {
    const toast = document.getElementById("network-error");
    if (!toast) return;
    toast.textContent = text;
    toast.hidden = false;
    window.clearTimeout(showError.timer);
    showError.timer = window.setTimeout(function () {
      toast.hidden = true;
    }, 6000);
  }

  document.addEventListener("htmx:responseError", function (event) {
    const status = event.detail.xhr ? event.detail.xhr.status : "";
    showError("The server could not complete the request (" + status + "). Try again.");
  });

  document.addEventListener("htmx:sendError", function () {
    showError("Rapport cannot be reached. Check the connection and try again.");
  });
})();
