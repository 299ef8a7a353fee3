/*
 * The chat example's page: log in on the example's web side, connect to
 * Snorky, authenticate with a token from the web side, chat in rooms.
 *
 * Every (re)connection is a new Snorky connection with no identity and no
 * rooms, so each time one opens the page gets a fresh single-use token,
 * authenticates and joins its rooms again.
 */
(function () {
  "use strict";

  const MAX_LOG = 500;
  const $ = (id) => document.getElementById(id);
  // Identities here are {"name": ...}; one member per identity.
  const identityKey = (identity) => JSON.stringify(identity);

  let snorky = null;
  let snorkyUrl = null;
  let me = null;
  let current = null;
  // Room name -> {log: [...], members: Map(identity key -> identity), unread}
  const rooms = new Map();

  async function request(method, path, body) {
    const response = await fetch(path, {
      method: method,
      credentials: "same-origin",
      headers: body === undefined ? {} : {"Content-Type": "application/json"},
      body: body === undefined ? undefined : JSON.stringify(body)
    });
    const data = await response.json();
    if (!response.ok) {
      throw new Error(data.error || response.statusText);
    }
    return data;
  }

  function showError(err) {
    $("error").textContent = err ? String(err.message || err) : "";
  }

  function setOnline(online) {
    const status = $("status");
    status.textContent = online ? "online" : "offline";
    status.classList.toggle("online", online);
  }

  function addRoom(name) {
    if (!rooms.has(name)) {
      rooms.set(name, {log: [], members: new Map(), unread: 0});
    }
    return rooms.get(name);
  }

  function addLine(room, line) {
    room.log.push(line);
    if (room.log.length > MAX_LOG) {
      room.log.shift();
    }
  }

  function isViewing(name) {
    return name === current && !document.hidden;
  }

  function markRead(name) {
    const room = rooms.get(name);
    if (room && room.unread > 0) {
      room.unread = 0;
      // The same user's other tabs clear their marks too.
      snorky.services.chat.read({channel: name}).then(null, showError);
    }
  }

  /* Snorky --------------------------------------------------------------- */

  function connect() {
    snorky = new Snorky(WebSocket, snorkyUrl, {
      identity: Snorky.RPCService,
      chat: Snorky.Chat
    });
    const chat = snorky.services.chat;
    chat.messageReceived.add(onMessage);
    chat.presenceReceived.add(onPresence);
    chat.readReceived.add(onRead);
    snorky.connected.add(onConnected);
    snorky.disconnected.add(() => setOnline(false));
  }

  async function onConnected() {
    try {
      const data = await request("POST", "/token");
      await snorky.services.identity.rpcCall("authenticate", {token: data.token});
      for (const name of Array.from(rooms.keys())) {
        await join(name);
      }
      setOnline(true);
      showError(null);
    } catch (err) {
      showError(err);
    }
  }

  async function join(name) {
    const data = await snorky.services.chat.join({channel: name});
    const room = addRoom(name);
    room.members = new Map(data.members.map((m) => [identityKey(m), m]));
    render();
  }

  function onMessage(message) {
    const room = rooms.get(message.channel);
    if (!room) {
      return;
    }
    addLine(room, {kind: "message", from: message.from, text: String(message.body),
                   time: message.timestamp});
    if (identityKey(message.from) !== identityKey(me)) {
      room.unread += 1;
      if (isViewing(message.channel)) {
        markRead(message.channel);
      }
    }
    render();
  }

  function onPresence(presence) {
    const room = rooms.get(presence.channel);
    if (!room) {
      return;
    }
    const key = identityKey(presence.from);
    if (presence.status === "joined") {
      room.members.set(key, presence.from);
    } else {
      room.members.delete(key);
    }
    addLine(room, {kind: "presence", from: presence.from,
                   text: presence.status === "joined" ? "joined" : "left",
                   time: presence.timestamp});
    render();
  }

  function onRead(notification) {
    const room = rooms.get(notification.channel);
    if (room) {
      room.unread = 0;
      render();
    }
  }

  /* Rendering ------------------------------------------------------------ */

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function render() {
    const roomList = $("rooms");
    roomList.replaceChildren();
    for (const [name, room] of rooms) {
      const item = element("li", name === current ? "active" : "", name);
      item.dataset.room = name;
      if (room.unread > 0) {
        item.appendChild(element("span", "unread", String(room.unread)));
      }
      item.addEventListener("click", () => select(name));
      roomList.appendChild(item);
    }

    const room = rooms.get(current);
    $("room").hidden = !room;
    $("members").replaceChildren();
    $("log").replaceChildren();
    if (!room) {
      return;
    }
    $("room-name").textContent = current;
    for (const member of room.members.values()) {
      const you = identityKey(member) === identityKey(me) ? " (you)" : "";
      $("members").appendChild(element("li", "", member.name + you));
    }
    const log = $("log");
    for (const line of room.log) {
      const item = element("li", line.kind);
      item.appendChild(element("span", "time", new Date(line.time).toLocaleTimeString()));
      item.appendChild(element("span", "from", line.from.name));
      item.appendChild(element("span", "text", line.text));
      log.appendChild(item);
    }
    log.scrollTop = log.scrollHeight;
  }

  function select(name) {
    current = name;
    markRead(name);
    render();
  }

  /* Log in and out -------------------------------------------------------- */

  function showLogin() {
    $("login").hidden = false;
    $("chat").hidden = true;
    $("me").hidden = true;
    $("login-name").focus();
  }

  function start(identity) {
    me = identity;
    $("my-name").textContent = identity.name;
    $("login").hidden = true;
    $("chat").hidden = false;
    $("me").hidden = false;
    setOnline(false);
    addRoom("lobby");
    current = "lobby";
    render();
    connect();
  }

  $("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const data = await request("POST", "/login", {name: $("login-name").value.trim()});
      $("login-error").textContent = "";
      start(data.identity);
    } catch (err) {
      $("login-error").textContent = err.message;
    }
  });

  $("logout").addEventListener("click", async () => {
    await request("POST", "/logout", {});
    snorky.disconnect();
    snorky = null;
    rooms.clear();
    current = null;
    showLogin();
  });

  $("join").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = $("join-name").value.trim();
    $("join-name").value = "";
    if (!rooms.has(name)) {
      try {
        await join(name);
      } catch (err) {
        showError(err);
        return;
      }
    }
    select(name);
  });

  $("leave").addEventListener("click", async () => {
    const name = current;
    rooms.delete(name);
    current = rooms.keys().next().value || null;
    render();
    await snorky.services.chat.leave({channel: name}).then(null, showError);
  });

  $("send").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = $("body").value;
    $("body").value = "";
    snorky.services.chat.send({channel: current, body: body}).then(null, showError);
  });

  document.addEventListener("visibilitychange", () => {
    if (current && !document.hidden) {
      markRead(current);
      render();
    }
  });

  request("GET", "/session").then((session) => {
    snorkyUrl = session.snorkyUrl;
    if (session.identity) {
      start(session.identity);
    } else {
      showLogin();
    }
  }, showError);
})();
