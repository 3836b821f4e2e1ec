// The chat page: pick a room (or open /?room=lobby), then every line you send goes to everyone in it.
// Plain text both ways, as in the tutorial; user text only ever goes through textContent.
"use strict";

(() => {
  const ROOM = /^[A-Za-z0-9_-]{1,99}$/;   // what the route accepts and a group name can hold
  const BACKOFF_BASE_MS = 1000, BACKOFF_MAX_MS = 30000;
  const STABLE_MS = 10000;                 // a connection this old resets the backoff

  const $ = (id) => document.getElementById(id);
  const stateEl = $("state"), log = $("log"), roomInput = $("room"), messageInput = $("message"), sendButton = $("send");

  let room = null, socket = null, attempt = 0, retryTimer = null, countdownTimer = null;

  function setState(cls, text) {
    stateEl.className = "state " + cls;
    stateEl.textContent = text;
    const connected = cls === "connected";
    messageInput.disabled = sendButton.disabled = !connected;
  }

  function append(text, cls) {
    const item = document.createElement("li");
    if (cls) item.className = cls;
    const time = document.createElement("time");
    time.textContent = new Date().toLocaleTimeString();
    item.append(time, document.createTextNode(text));
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 30;
    log.append(item);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  function clearTimers() {
    clearTimeout(retryTimer);
    clearInterval(countdownTimer);
    retryTimer = countdownTimer = null;
  }

  function connect() {
    clearTimers();
    setState("connecting", "connecting");
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(scheme + location.host + "/ws/chat/" + encodeURIComponent(room) + "/");
    socket = ws;
    let openedAt = 0;
    ws.onopen = () => {
      openedAt = Date.now();
      setState("connected", "connected");
      append("joined room " + room, "info");
      messageInput.focus();
    };
    ws.onmessage = (e) => { if (typeof e.data === "string") append(e.data); };
    ws.onclose = () => {
      if (socket !== ws) return;       // a socket we replaced on purpose
      socket = null;
      if (openedAt) append("connection to room " + room + " lost", "info");
      if (openedAt && Date.now() - openedAt >= STABLE_MS) attempt = 0;   // not for a server that drops us at once
      scheduleReconnect();
    };
  }

  // Exponential backoff with full jitter, capped: 0..1s, 0..2s, 0..4s, ... 0..30s.
  function scheduleReconnect() {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
    attempt++;
    const delay = Math.max(250, Math.random() * ceiling);
    const due = Date.now() + delay;
    const show = () => setState("reconnecting", "reconnecting in " + Math.ceil((due - Date.now()) / 1000) + "s");
    show();
    countdownTimer = setInterval(show, 1000);
    retryTimer = setTimeout(connect, delay);
  }

  function join(name) {
    if (!ROOM.test(name)) { append("room names are 1-99 letters, digits, - or _", "info"); return; }
    if (name === room && socket) return;
    clearTimers();
    if (socket) { const old = socket; socket = null; old.close(1000); }
    room = name;
    attempt = 0;
    roomInput.value = name;
    document.title = name + " · Channels.Net chat";
    history.replaceState(null, "", "?room=" + encodeURIComponent(name));
    connect();
  }

  $("room-form").addEventListener("submit", (e) => {
    e.preventDefault();
    join(roomInput.value.trim());
  });

  $("message-form").addEventListener("submit", (e) => {   // the Enter key submits the form
    e.preventDefault();
    const text = messageInput.value;
    if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(text);
    messageInput.value = "";
  });

  // Back online: retry now rather than at the end of the backoff.
  window.addEventListener("online", () => { if (room && !socket) { attempt = 0; connect(); } });

  const initial = new URLSearchParams(location.search).get("room");
  if (initial) join(initial); else { setState("disconnected", "disconnected"); roomInput.focus(); }
})();
