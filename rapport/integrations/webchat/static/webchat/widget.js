// Rapport web chat widget. A site shows it with one line:
//   <script src="https://rapport.example.com/webchat/pk_xxx/widget.js" async></script>
// For a signed-in customer, the site's backend adds who they are to that line:
//   data-email="jo@acme.example" data-name="Jo Buyer" data-user-hash="<hex HMAC-SHA256
//   of the email under the site's identity secret>"
// and the chat starts as them, verified, without asking for an email.
// It runs on the customer's page, so it depends on nothing there: no libraries, no
// globals besides one guard, no inline script or style attributes (a strict CSP on the
// host page stays intact), and all its markup and CSS live in a Shadow DOM, so the
// page's CSS cannot break it and its CSS cannot leak out.
(function () {
  "use strict";

  const POLL_OPEN_MS = 4000; // while the panel is open, replies show within seconds
  const POLL_CLOSED_MS = 30000; // while closed, only to light the unread badge
  const RETRY_MAX_MS = 30000;
  const TEXT_MAX = 4000;
  const SCRIPT_PATH = /^(.*)\/webchat\/([^/]+)\/widget\.js$/;

  // --- where am I served from --------------------------------------------------------------
  function ownScript() {
    if (document.currentScript && document.currentScript.src) return document.currentScript;
    const scripts = document.getElementsByTagName("script");
    for (let i = scripts.length - 1; i >= 0; i--) {
      const src = scripts[i].src || "";
      if (SCRIPT_PATH.test(src.split(/[?#]/)[0].replace(/^[a-z]+:\/\/[^/]+/i, ""))) {
        return scripts[i];
      }
    }
    return null;
  }

  const script = ownScript();
  if (!script) return;
  const src = new URL(script.src, document.baseURI);
  const match = src.pathname.match(SCRIPT_PATH);
  if (!match) return;
  const KEY = decodeURIComponent(match[2]);
  const API = src.origin + match[1] + "/webchat/api/" + encodeURIComponent(KEY);
  const STORE = "rapport-chat:" + KEY;

  // The signed-in customer the host page names, or null for an anonymous visitor. Both
  // the email and its signature are needed: an email alone would be only a claim.
  function identity() {
    const email = (script.getAttribute("data-email") || "").trim();
    const userHash = (script.getAttribute("data-user-hash") || "").trim();
    if (!email || !userHash) return null;
    const name = (script.getAttribute("data-name") || "").trim();
    return { email: email, name: name, userHash: userHash };
  }
  const IDENTITY = identity();
  const WHO = IDENTITY ? IDENTITY.email.toLowerCase() : "";
  const EXPIRED = IDENTITY
    ? "Your chat has expired; start it again."
    : "Your chat has expired. Leave your email to start again.";

  // Pasted twice, or loaded by a single-page app on every route: show one widget.
  const loaded = (window.__rapportChat = window.__rapportChat || {});
  if (loaded[KEY]) return;
  loaded[KEY] = true;

  // --- state kept across page loads ----------------------------------------------------------
  // token: the visitor's secret; outbox: messages not yet accepted by Rapport, so a
  // reload or a dropped connection resends them with the same id (stored once); who: the
  // signed-in customer the chat was started for ("" for an anonymous visitor).
  function blank() {
    return { token: "", seenId: 0, outbox: [], who: WHO };
  }

  function load() {
    try {
      const raw = JSON.parse(window.localStorage.getItem(STORE) || "{}");
      const who = typeof raw.who === "string" ? raw.who : "";
      // Someone else is signed in now, or nobody is: the chat kept here is not theirs.
      if (who !== WHO) return blank();
      return {
        token: typeof raw.token === "string" ? raw.token : "",
        seenId: Number(raw.seenId) || 0,
        outbox: Array.isArray(raw.outbox) ? raw.outbox : [],
        who: who,
      };
    } catch (error) {
      return blank(); // storage blocked: keep state in memory
    }
  }

  function save() {
    try {
      window.localStorage.setItem(STORE, JSON.stringify(state));
    } catch (error) {
      // Storage blocked or full: the chat still works until the page is left.
    }
  }

  let state = load();
  if (!state.token) save(); // forget a chat the page's visitor may not see
  const messages = new Map(); // "m<id>" or "c<client id>" -> message
  let lastId = 0;
  let isOpen = false;
  let polling = false;
  let pollTimer = 0;
  let flushing = false;
  let flushTimer = 0;
  let retryMs = 0;

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID(); // secure contexts only
    }
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)]
      .join("-");
  }

  // --- talking to Rapport -------------------------------------------------------------------
  // No cookies are sent or needed: the site key is in the URL, the visitor token in the call.
  async function call(method, path, body) {
    const init = { method: method, mode: "cors", credentials: "omit", cache: "no-store" };
    if (body) {
      init.headers = { "Content-Type": "application/json" };
      init.body = JSON.stringify(body);
    }
    const response = await fetch(API + path, init); // rejects on a network failure
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    return {
      status: response.status,
      data: data || {},
      retryAfter: Number(response.headers.get("Retry-After")) || 0,
    };
  }

  function nextRetry() {
    retryMs = Math.min(retryMs ? retryMs * 2 : 1000, RETRY_MAX_MS);
    return retryMs;
  }

  // --- the interface ------------------------------------------------------------------------
  function el(tag, attrs) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([name, value]) => {
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (value === true) node.setAttribute(name, "");
      else if (value !== false && value != null) node.setAttribute(name, String(value));
    });
    for (let i = 2; i < arguments.length; i++) {
      if (arguments[i]) node.append(arguments[i]);
    }
    return node;
  }

  function bubbleIcon() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(ns, "path");
    path.setAttribute(
      "d",
      "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"
    );
    svg.append(path);
    return svg;
  }

  const CSS = `
    :host { all: initial !important; }
    * { box-sizing: border-box; }
    [hidden] { display: none !important; }
    .root {
      position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
      font: 14px/1.45 ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, Arial,
        sans-serif;
      color: #18202f; text-align: left; direction: ltr;
    }
    button, input, textarea { font: inherit; color: inherit; margin: 0; }
    .launcher {
      display: flex; align-items: center; gap: 8px; margin-left: auto;
      padding: 12px 18px; border: 0; border-radius: 999px; cursor: pointer;
      background: #4f46e5; color: #fff; font-weight: 600;
      box-shadow: 0 8px 24px rgb(16 24 40 / 22%);
    }
    .launcher:hover { background: #4338ca; }
    .launcher:focus-visible, button:focus-visible, input:focus-visible,
    textarea:focus-visible { outline: 3px solid #a5b4fc; outline-offset: 2px; }
    .launcher svg { width: 20px; height: 20px; fill: currentColor; }
    .badge {
      min-width: 20px; padding: 0 6px; border-radius: 999px; background: #fff;
      color: #4f46e5; font-size: 12px; line-height: 20px; text-align: center;
    }
    .panel {
      display: flex; flex-direction: column; position: absolute; right: 0; bottom: 64px;
      width: 360px; max-width: calc(100vw - 40px);
      height: 520px; max-height: calc(100vh - 110px);
      background: #fff; border: 1px solid #e3e6eb; border-radius: 14px; overflow: hidden;
      box-shadow: 0 12px 40px rgb(16 24 40 / 24%);
    }
    .head {
      display: flex; align-items: center; justify-content: space-between;
      padding: 14px 16px; background: #4f46e5; color: #fff;
    }
    .head h2 { margin: 0; font-size: 16px; font-weight: 600; }
    .close {
      border: 0; background: transparent; color: #fff; cursor: pointer;
      font-size: 22px; line-height: 1; padding: 2px 6px; border-radius: 6px;
    }
    .start { display: flex; flex-direction: column; gap: 12px; padding: 18px 16px; }
    .start p { margin: 0; color: #475467; }
    label { display: flex; flex-direction: column; gap: 4px; font-weight: 600; font-size: 13px; }
    input, textarea {
      width: 100%; padding: 9px 10px; border: 1px solid #cfd4dc; border-radius: 8px;
      background: #fff; font-weight: 400;
    }
    .primary {
      padding: 10px 14px; border: 0; border-radius: 8px; cursor: pointer;
      background: #4f46e5; color: #fff; font-weight: 600;
    }
    .primary:hover { background: #4338ca; }
    .primary:disabled { background: #a5b4fc; cursor: default; }
    .error { margin: 0; color: #b42318; font-size: 13px; }
    .error:empty { display: none; }
    .chat { display: flex; flex-direction: column; flex: 1; min-height: 0; }
    .messages {
      flex: 1; overflow-y: auto; margin: 0; padding: 14px 12px; list-style: none;
      display: flex; flex-direction: column; gap: 8px; background: #f9fafb;
    }
    .hint { color: #6b7585; text-align: center; margin: auto 0; }
    .msg { max-width: 85%; display: flex; flex-direction: column; gap: 2px; }
    .msg .text {
      padding: 8px 11px; border-radius: 12px; white-space: pre-wrap;
      overflow-wrap: anywhere;
    }
    .msg .meta { font-size: 11px; color: #6b7585; }
    .mine { align-self: flex-end; align-items: flex-end; }
    .mine .text { background: #4f46e5; color: #fff; border-bottom-right-radius: 4px; }
    .team { align-self: flex-start; }
    .team .text { background: #fff; border: 1px solid #e3e6eb; border-bottom-left-radius: 4px; }
    .failed .text { background: #fdeceb; color: #b42318; }
    .composer {
      display: flex; gap: 8px; align-items: flex-end; padding: 10px 12px;
      border-top: 1px solid #e3e6eb; background: #fff;
    }
    .composer textarea { resize: none; min-height: 40px; max-height: 120px; }
    .chat > .error { padding: 0 12px 8px; }
    .sr {
      position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
      overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
    }
  `;

  function adoptStyles(root) {
    // A constructed stylesheet is not an inline <style>, so a host page whose CSP forbids
    // inline styles still lets it apply; older browsers get a <style> element.
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (error) {
      root.append(el("style", { text: CSS }));
    }
  }

  const ui = {};

  function build() {
    const host = document.createElement("rapport-chat");
    const root = host.attachShadow({ mode: "open" });
    adoptStyles(root);

    ui.badge = el("span", { class: "badge", hidden: true });
    ui.launcher = el(
      "button",
      { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "panel" },
      bubbleIcon(),
      el("span", { text: "Chat with us" }),
      ui.badge
    );
    ui.email = el("input", {
      type: "email", name: "email", required: true, autocomplete: "email", maxlength: 254,
    });
    ui.name = el("input", { type: "text", name: "name", autocomplete: "name", maxlength: 200 });
    if (IDENTITY) {
      // The site vouches for the email: the visitor cannot change it here.
      ui.email.value = IDENTITY.email;
      ui.email.readOnly = true;
      ui.name.value = IDENTITY.name;
    }
    ui.startError = el("p", { class: "error", role: "alert" });
    ui.startButton = el("button", { class: "primary", type: "submit", text: "Start chat" });
    ui.start = el(
      "form",
      { class: "start", novalidate: true },
      el("p", {
        text: IDENTITY
          ? "You are signed in: the team will know it is you."
          : "Leave your email so the team can answer you, even after you leave.",
      }),
      el("label", {}, "Email", ui.email),
      el("label", {}, "Name (optional)", ui.name),
      ui.startError,
      ui.startButton
    );
    ui.list = el("ol", { class: "messages", "aria-live": "polite", "aria-label": "Conversation" });
    ui.text = el("textarea", {
      id: "message", name: "message", rows: 1, maxlength: TEXT_MAX,
      placeholder: "Write a message…",
    });
    ui.sendButton = el("button", { class: "primary", type: "submit", text: "Send" });
    ui.chatError = el("p", { class: "error", role: "alert" });
    ui.chat = el(
      "div",
      { class: "chat", hidden: true },
      ui.list,
      el(
        "form",
        { class: "composer" },
        el("label", { class: "sr", for: "message", text: "Message" }),
        ui.text,
        ui.sendButton
      ),
      ui.chatError
    );
    ui.closeButton = el("button", {
      class: "close", type: "button", "aria-label": "Close chat", text: "×",
    });
    ui.panel = el(
      "section",
      { id: "panel", class: "panel", role: "dialog", "aria-label": "Chat", hidden: true },
      el("div", { class: "head" }, el("h2", { text: "Chat with us" }), ui.closeButton),
      ui.start,
      ui.chat
    );
    root.append(el("div", { class: "root" }, ui.panel, ui.launcher));

    ui.launcher.addEventListener("click", () => setOpen(!isOpen));
    ui.closeButton.addEventListener("click", () => setOpen(false));
    ui.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") setOpen(false);
    });
    ui.start.addEventListener("submit", onStart);
    ui.chat.querySelector("form").addEventListener("submit", (event) => {
      event.preventDefault();
      onSend();
    });
    ui.text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        onSend();
      }
    });
    document.body.append(host);
  }

  function showView() {
    ui.start.hidden = Boolean(state.token);
    ui.chat.hidden = !state.token;
  }

  function setOpen(open) {
    isOpen = open;
    ui.panel.hidden = !open;
    ui.launcher.setAttribute("aria-expanded", String(open));
    showView();
    if (open) {
      markSeen();
      (state.token ? ui.text : IDENTITY ? ui.startButton : ui.email).focus();
      if (state.token) poll(true);
      else if (IDENTITY && !ui.startError.textContent) startChat();
    } else {
      ui.launcher.focus();
    }
    schedulePoll();
  }

  function formatTime(iso) {
    const date = iso ? new Date(iso) : new Date();
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function render() {
    const atBottom = ui.list.scrollHeight - ui.list.scrollTop - ui.list.clientHeight < 40;
    const items = Array.from(messages.values()).sort((a, b) => {
      // Stored messages in id order; messages still on their way after them.
      if (a.id && b.id) return a.id - b.id;
      if (a.id || b.id) return a.id ? -1 : 1;
      return a.order - b.order;
    });
    const nodes = items.map((m) => {
      const mine = m.direction === "inbound";
      let meta = mine ? "You" : m.author || "Team";
      meta += " · " + formatTime(m.sentAt);
      if (m.status === "sending") meta += " · Sending…";
      if (m.status === "waiting") meta += " · Will retry…";
      if (m.status === "failed") meta += " · Not sent: " + (m.error || "refused");
      return el(
        "li",
        { class: "msg " + (mine ? "mine" : "team") + (m.status === "failed" ? " failed" : "") },
        el("span", { class: "text", text: m.text }),
        el("span", { class: "meta", text: meta })
      );
    });
    if (!nodes.length) {
      nodes.push(el("li", { class: "hint", text: "Ask us anything; we usually answer quickly." }));
    }
    ui.list.replaceChildren(...nodes);
    if (atBottom || !ui.list.dataset.seen) {
      ui.list.scrollTop = ui.list.scrollHeight;
      ui.list.dataset.seen = "1";
    }
  }

  function markSeen() {
    if (isOpen && lastId > state.seenId) {
      state.seenId = lastId;
      save();
    }
    updateBadge();
  }

  function updateBadge() {
    let unread = 0;
    messages.forEach((m) => {
      if (m.direction === "outbound" && m.id > state.seenId) unread += 1;
    });
    ui.badge.hidden = isOpen || unread === 0;
    ui.badge.textContent = String(unread);
    ui.launcher.setAttribute(
      "aria-label",
      unread && !isOpen ? "Chat with us, " + unread + " new" : "Chat with us"
    );
  }

  // --- starting a chat ----------------------------------------------------------------------
  function onStart(event) {
    event.preventDefault();
    startChat();
  }

  async function startChat() {
    if (ui.startButton.disabled) return; // already starting
    const email = ui.email.value.trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
      ui.startError.textContent = "Enter a valid email address.";
      ui.email.focus();
      return;
    }
    ui.startError.textContent = "";
    ui.startButton.disabled = true;
    const body = { email: email, name: ui.name.value.trim() };
    if (IDENTITY) body.user_hash = IDENTITY.userHash;
    try {
      const answer = await call("POST", "/visitors", body);
      if (answer.status === 201 && answer.data.token) {
        state = { token: answer.data.token, seenId: 0, outbox: [], who: WHO };
        save();
        messages.clear();
        lastId = 0;
        showView();
        render();
        ui.text.focus();
        schedulePoll();
      } else {
        ui.startError.textContent = answer.data.error || "The chat could not start; try again.";
      }
    } catch (error) {
      ui.startError.textContent = "The chat cannot be reached right now; try again.";
    } finally {
      ui.startButton.disabled = false;
    }
  }

  function restart(reason) {
    state = blank();
    save();
    messages.clear();
    lastId = 0;
    ui.startError.textContent = reason;
    showView();
    render();
  }

  // --- sending ------------------------------------------------------------------------------
  let order = 0;

  function onSend() {
    const text = ui.text.value.trim();
    if (!text || !state.token) return;
    if (text.length > TEXT_MAX) {
      ui.chatError.textContent = "The message is longer than " + TEXT_MAX + " characters.";
      return;
    }
    ui.chatError.textContent = "";
    const item = { id: uuid(), text: text, at: new Date().toISOString() };
    state.outbox.push(item);
    save();
    showPending(item);
    ui.text.value = "";
    ui.list.scrollTop = ui.list.scrollHeight;
    flush();
  }

  function showPending(item) {
    messages.set("c" + item.id, {
      id: 0,
      clientId: item.id,
      order: order++,
      direction: "inbound",
      text: item.text,
      sentAt: item.at,
      status: "sending",
    });
    render();
  }

  function setStatus(clientId, status, error) {
    const pending = messages.get("c" + clientId);
    if (!pending) return;
    pending.status = status;
    pending.error = error || "";
    render();
  }

  function scheduleFlush(ms) {
    window.clearTimeout(flushTimer);
    flushTimer = window.setTimeout(flush, ms);
  }

  // Send the outbox in order. A message keeps its id through every retry, so Rapport
  // stores it once however many times it arrives.
  async function flush() {
    if (flushing || !state.token) return;
    flushing = true;
    try {
      while (state.outbox.length) {
        const item = state.outbox[0];
        let answer;
        try {
          answer = await call("POST", "/messages", {
            token: state.token,
            client_message_id: item.id,
            text: item.text,
          });
        } catch (error) {
          setStatus(item.id, "waiting");
          scheduleFlush(nextRetry());
          return;
        }
        if (answer.status === 202) {
          retryMs = 0;
          state.outbox.shift();
          save();
          setStatus(item.id, "sent");
          continue;
        }
        if (answer.status === 401) {
          restart(EXPIRED);
          return;
        }
        if (answer.status === 429 || answer.status >= 500) {
          setStatus(item.id, "waiting");
          scheduleFlush(answer.retryAfter ? answer.retryAfter * 1000 : nextRetry());
          return;
        }
        // Any other refusal (too long, empty) will not change on a retry.
        state.outbox.shift();
        save();
        setStatus(item.id, "failed", answer.data.error);
      }
      poll();
    } finally {
      flushing = false;
    }
  }

  // --- receiving ----------------------------------------------------------------------------
  function schedulePoll() {
    window.clearTimeout(pollTimer);
    if (!state.token) return;
    const visible = document.visibilityState !== "hidden";
    pollTimer = window.setTimeout(poll, isOpen && visible ? POLL_OPEN_MS : POLL_CLOSED_MS);
  }

  // Polls ask only for messages after the last one seen. Opening the panel asks for the
  // whole chat again: a message whose transaction committed after a newer one (a reply
  // and a visitor's message in the same instant) is picked up then.
  async function poll(everything) {
    if (polling || !state.token) return;
    polling = true;
    try {
      const after = lastId && everything !== true ? "&after=" + lastId : "";
      const query = "?token=" + encodeURIComponent(state.token) + after;
      const answer = await call("GET", "/messages" + query);
      if (answer.status === 200 && Array.isArray(answer.data.items)) {
        merge(answer.data.items);
      } else if (answer.status === 401) {
        restart(EXPIRED);
      }
    } catch (error) {
      // Offline for a moment: the next poll tries again.
    } finally {
      polling = false;
      schedulePoll();
    }
  }

  function merge(items) {
    if (!items.length) return;
    items.forEach((item) => {
      if (item.client_message_id) messages.delete("c" + item.client_message_id);
      messages.set("m" + item.id, {
        id: item.id,
        direction: item.direction,
        author: item.author,
        text: item.text,
        sentAt: item.sent_at,
      });
      lastId = Math.max(lastId, item.id);
    });
    render();
    markSeen();
  }

  // --- start ------------------------------------------------------------------------------------
  function init() {
    build();
    showView();
    state.outbox.forEach(showPending);
    render();
    updateBadge();
    if (state.token) {
      poll();
      flush();
    }
    window.addEventListener("online", () => {
      retryMs = 0;
      flush();
      poll();
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && state.token) poll();
    });
    // Another tab of the same site started or reset the chat.
    window.addEventListener("storage", (event) => {
      if (event.key !== STORE) return;
      const fresh = load();
      if (fresh.token !== state.token) {
        state = fresh;
        messages.clear();
        lastId = 0;
        showView();
        render();
        poll();
      }
    });
  }

  if (document.body) init();
  else document.addEventListener("DOMContentLoaded", init);
})();
