// The request board: drag a card to another column to change the request's state, and
// filters that apply as soon as they change. Loaded as a file (the CSP allows no inline
// script). A move is saved with a POST to the card's move URL; the card stays where it
// was dropped when the server agrees, and goes back to where it was when it does not.
(function () {
  "use strict";

  const board = document.getElementById("board");
  const message = document.getElementById("board-message");

  // Filters: a change of a select, or a search after a pause, reloads the board's URL.
  // Typing goes on in the search box after the reload.
  const FOCUS_KEY = "rapport.board.focus";
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    let timer = 0;
    form.addEventListener("change", function (event) {
      if (event.target instanceof HTMLInputElement && event.target.type === "search") return;
      form.requestSubmit();
    });
    form.addEventListener("input", function (event) {
      const input = event.target;
      if (!(input instanceof HTMLInputElement) || input.type !== "search") return;
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        try {
          window.sessionStorage.setItem(FOCUS_KEY, input.id);
        } catch (error) {
          // Storage may be off; the search still applies.
        }
        form.requestSubmit();
      }, 600);
    });
  });
  try {
    const focused = window.sessionStorage.getItem(FOCUS_KEY);
    window.sessionStorage.removeItem(FOCUS_KEY);
    const input = focused ? document.getElementById(focused) : null;
    if (input instanceof HTMLInputElement) {
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    }
  } catch (error) {
    // Without storage the box simply is not focused again.
  }

  if (!board) return;

  function say(text) {
    if (!message) return;
    message.textContent = text;
    message.hidden = !text;
  }

  function countOf(column) {
    return column.querySelector("[data-count]");
  }

  function addToCount(column, delta) {
    const badge = countOf(column);
    if (!badge) return;
    const value = parseInt(badge.textContent.replace(/[^0-9]/g, ""), 10) || 0;
    badge.textContent = String(Math.max(0, value + delta));
  }

  function moveUrl(id) {
    return board.dataset.moveUrl.replace(/\/0\/move\/$/, "/" + id + "/move/");
  }

  let dragged = null;
  let origin = null; // {list, next, column}

  board.addEventListener("dragstart", function (event) {
    const card = event.target instanceof Element ? event.target.closest(".board-card") : null;
    if (!card) return;
    dragged = card;
    origin = {
      list: card.parentElement,
      next: card.nextElementSibling,
      column: card.closest(".board-column"),
    };
    card.classList.add("dragging");
    if (event.dataTransfer) {
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.dataset.id || "");
    }
  });

  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    board.querySelectorAll(".drop-target").forEach(function (list) {
      list.classList.remove("drop-target");
    });
  });

  board.addEventListener("dragover", function (event) {
    const list = event.target instanceof Element ? event.target.closest("[data-dropzone]") : null;
    if (!list || !dragged) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "move";
    board.querySelectorAll(".drop-target").forEach(function (other) {
      if (other !== list) other.classList.remove("drop-target");
    });
    list.classList.add("drop-target");
  });

  board.addEventListener("drop", function (event) {
    const list = event.target instanceof Element ? event.target.closest("[data-dropzone]") : null;
    if (!list || !dragged || !origin) return;
    event.preventDefault();
    list.classList.remove("drop-target");
    const card = dragged;
    const from = origin;
    dragged = null;
    origin = null;
    card.classList.remove("dragging");
    const column = list.closest(".board-column");
    if (!column || column === from.column) return;
    // Newest first: the moved card goes to the top of its new column.
    const first = list.querySelector(".board-card");
    list.insertBefore(card, first || list.querySelector(".board-more"));
    addToCount(from.column, -1);
    addToCount(column, 1);
    card.classList.add("saving");
    say("");
    save(card, column.dataset.status, function (error) {
      card.classList.remove("saving");
      if (!error) {
        card.dataset.status = column.dataset.status;
        return;
      }
      // Snap back to where the card was, and say why.
      from.list.insertBefore(card, from.next && from.next.parentElement === from.list ? from.next : null);
      addToCount(column, -1);
      addToCount(from.column, 1);
      say(error);
    });
  });

  function save(card, status, done) {
    const body = new URLSearchParams({ status: status });
    fetch(moveUrl(card.dataset.id), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "X-CSRFToken": board.dataset.csrfToken || "",
      },
      body: body,
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            if (response.ok) return done("");
            done(data.error || "The request could not be moved (" + response.status + ").");
          });
      })
      .catch(function () {
        done("Rapport cannot be reached. The request was not moved.");
      });
  }
})();
