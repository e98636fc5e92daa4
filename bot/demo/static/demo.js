// The page of phones. It uses only the control API (/api/...) and renders every text with
// textContent, never as HTML, so whatever people type shows as typed.
"use strict";

const POLL_MS = 1000;

async function call(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function notice(text) {
  const box = document.getElementById("notice");
  box.textContent = text;
  box.hidden = !text;
}

class Phone {
  constructor(section) {
    this.section = section;
    section.appendChild(document.getElementById("screen").content.cloneNode(true));
    this.title = section.querySelector(".title");
    this.sub = section.querySelector(".sub");
    this.avatar = section.querySelector(".avatar");
    this.list = section.querySelector(".messages");
    this.keyboard = section.querySelector(".keyboard");
    this.replying = section.querySelector(".replying");
    this.form = section.querySelector(".composer");
    this.chat = null;
    this.topic = null; // a forum topic shown (group only)
    this.replyTo = null;
    this.seen = "";
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const input = this.form.elements.text;
      if (input.value.trim()) this.send({ text: input.value }).then(() => { input.value = ""; });
    });
    for (const button of section.querySelectorAll(".attach")) {
      button.addEventListener("click", () => this.send({ attachment: button.dataset.attachment }));
    }
    this.replying.querySelector(".cancel").addEventListener("click", () => this.reply(null));
  }

  show(chat, topic = null) {
    this.chat = chat;
    this.topic = topic;
    this.seen = "";
    this.reply(null);
    this.title.textContent = chat.kind === "group" ? chat.title : "Oprit";
    this.avatar.textContent = chat.kind === "group" ? "👥" : "O";
    this.sub.textContent = chat.kind === "group" ? "forum group" : `${chat.title}'s chat with the bot`;
    this.section.querySelector(".messages").setAttribute("lang", chat.language || "");
    this.refresh();
  }

  reply(message) {
    this.replyTo = message;
    this.replying.hidden = !message;
    if (message) {
      this.replying.querySelector(".quote").textContent = message.text || "📎";
      this.form.elements.text.focus();
    }
  }

  async send(body) {
    if (!this.chat) return;
    const thread = this.replyTo ? this.replyTo.thread_id : this.topic;
    if (this.replyTo) body.reply_to = this.replyTo.id;
    if (thread) body.thread_id = thread;
    try {
      await call("POST", `/api/chats/${this.chat.id}/messages`, body);
      this.reply(null);
      notice("");
    } catch (error) {
      notice(`Not sent: ${error.message}`);
    }
    this.refresh();
  }

  async press(message, data) {
    try {
      await call("POST", `/api/chats/${this.chat.id}/press`, { message_id: message.id, data });
    } catch (error) {
      notice(`Button: ${error.message}`);
    }
    setTimeout(() => this.refresh(), 300);
  }

  async refresh() {
    if (!this.chat) return;
    const chat = this.chat;
    const messages = await call("GET", `/api/chats/${chat.id}/messages`).catch(() => null);
    if (!messages || chat !== this.chat) return;
    const shown = messages.filter((m) => this.topic === null || m.thread_id === this.topic);
    const key = JSON.stringify(shown);
    if (key === this.seen) return;
    this.seen = key;
    const atEnd = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    this.list.replaceChildren(...shown.map((m) => this.row(m)));
    this.renderKeyboard(messages);
    if (atEnd || !this.list.dataset.scrolled) {
      this.list.scrollTop = this.list.scrollHeight;
      this.list.dataset.scrolled = "1";
    }
  }

  row(message) {
    if (message.service) return el("div", "service", message.service);
    const row = el("div", message.from === "user" ? "row mine" : "row");
    row.dataset.id = message.id;
    const bubble = el("div", "bubble");
    bubble.setAttribute("dir", "auto");
    bubble.title = "Click to reply";
    if (this.chat.kind === "group") {
      if (message.from === "user") bubble.appendChild(el("span", "sender", message.sender));
      const topics = this.chat.topics || {};
      if (this.topic === null && message.thread_id && topics[message.thread_id]) {
        bubble.appendChild(el("span", "topic", `# ${topics[message.thread_id]}`));
      }
    }
    if (message.reply_preview) bubble.appendChild(el("span", "quote", message.reply_preview));
    if (message.photo) {
      const image = el("img");
      image.src = message.photo;
      image.alt = "photo";
      image.addEventListener("load", () => { this.list.scrollTop = this.list.scrollHeight; });
      bubble.appendChild(image);
    }
    if (message.voice) {
      const audio = el("audio");
      audio.controls = true;
      audio.preload = "none";
      audio.src = message.voice;
      bubble.appendChild(audio);
    }
    if (message.document) {
      const link = el("a", "doc", `📄 ${message.document.name}`);
      link.href = message.document.url;
      link.setAttribute("download", "");
      bubble.appendChild(link);
      bubble.appendChild(document.createTextNode("\n"));
    }
    if (message.sticker) bubble.appendChild(el("span", "", message.sticker));
    bubble.appendChild(el("span", "text", message.text));
    bubble.appendChild(el("span", "meta", message.edited ? "edited" : message.from === "user" ? "✓✓" : ""));
    bubble.addEventListener("click", (event) => {
      if (event.target.closest("audio, a, .react")) return;
      this.reply(message);
    });
    row.appendChild(bubble);
    if (message.from !== "user") {
      const like = el("button", "react", "👍");
      like.type = "button";
      like.title = "React with 👍";
      like.addEventListener("click", async () => {
        await call("POST", `/api/chats/${this.chat.id}/react`, { message_id: message.id, emoji: "👍" })
          .catch((error) => notice(`Reaction: ${error.message}`));
        this.refresh();
      });
      bubble.appendChild(like);
    }
    if (message.reactions && message.reactions.length) {
      const reactions = el("div", "reactions");
      for (const emoji of message.reactions) reactions.appendChild(el("span", "", emoji));
      row.appendChild(reactions);
    }
    if (message.buttons && message.buttons.length) {
      const inline = el("div", "inline");
      for (const line of message.buttons) {
        const div = el("div", "line");
        for (const button of line) {
          const b = el("button", "", button.text);
          b.type = "button";
          b.setAttribute("dir", "auto");
          b.addEventListener("click", () => this.press(message, button.data));
          div.appendChild(b);
        }
        inline.appendChild(div);
      }
      row.appendChild(inline);
    }
    return row;
  }

  renderKeyboard(messages) {
    const last = [...messages].reverse().find((m) => m.keyboard !== null && m.keyboard !== undefined);
    const rows = last ? last.keyboard : [];
    this.keyboard.hidden = rows.length === 0;
    this.keyboard.replaceChildren(
      ...rows.map((line) => {
        const div = el("div", "line");
        for (const label of line) {
          const b = el("button", "", label);
          b.type = "button";
          b.setAttribute("dir", "auto");
          b.addEventListener("click", () => this.send({ text: label }));
          div.appendChild(b);
        }
        return div;
      }),
    );
  }
}

const phones = {};
let chats = [];

function byKind(kind) {
  return chats.filter((c) => c.kind === kind);
}

async function loadChats() {
  chats = await call("GET", "/api/chats");
  const select = document.getElementById("participant-select");
  const chosen = select.value;
  select.replaceChildren(
    ...byKind("participant").map((c) => {
      const option = el("option", "", `${c.title} (${c.language})`);
      option.value = c.id;
      return option;
    }),
  );
  if (chosen) select.value = chosen;
  const group = byKind("group")[0];
  const topics = document.getElementById("topic-select");
  const topic = topics.value;
  const options = [el("option", "", "All topics")];
  options[0].value = "";
  for (const [id, name] of Object.entries((group && group.topics) || {})) {
    const option = el("option", "", name);
    option.value = id;
    options.push(option);
  }
  topics.replaceChildren(...options);
  topics.value = topic;
  return chats;
}

function showParticipant() {
  const id = Number(document.getElementById("participant-select").value);
  const chat = chats.find((c) => c.id === id);
  if (chat) phones.participant.show(chat);
}

function showOfficer(view) {
  for (const tab of document.querySelectorAll(".tabs [role=tab]")) {
    tab.setAttribute("aria-selected", String(tab.dataset.view === view));
  }
  const topics = document.getElementById("topic-select");
  topics.hidden = view !== "group";
  if (view === "group") {
    const group = byKind("group")[0];
    phones.officer.show(group, topics.value ? Number(topics.value) : null);
  } else {
    phones.officer.show(byKind("officer")[0]);
  }
}

async function refreshClock() {
  const clock = await call("GET", "/api/clock").catch(() => null);
  if (!clock) return;
  document.getElementById("clock-now").textContent = clock.local;
  const hours = Math.round(clock.ahead_seconds / 360) / 10;
  document.getElementById("clock-ahead").textContent = hours ? `(${hours} h ahead of real time)` : "";
}

async function travel(body) {
  try {
    await call("POST", "/api/clock", body);
    notice("");
  } catch (error) {
    notice(`Time travel: ${error.message}`);
  }
  refreshClock();
}

async function poll() {
  try {
    await loadChats();
    const group = byKind("group")[0];
    if (phones.officer.chat && group && phones.officer.chat.id === group.id) phones.officer.chat = group;
    await Promise.all(Object.values(phones).map((p) => p.refresh()));
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

async function start() {
  for (const kind of ["participant", "officer", "coordinator"]) {
    phones[kind] = new Phone(document.getElementById(`phone-${kind}`));
  }
  while (byKind("participant").length === 0) {
    notice("The demo is starting: signing up the invented participants…");
    await loadChats().catch(() => null);
    if (byKind("participant").length === 0) await new Promise((r) => setTimeout(r, 500));
  }
  notice("");
  showParticipant();
  showOfficer("private");
  phones.coordinator.show(byKind("coordinator")[0]);
  document.getElementById("participant-select").addEventListener("change", showParticipant);
  for (const tab of document.querySelectorAll(".tabs [role=tab]")) {
    tab.addEventListener("click", () => showOfficer(tab.dataset.view));
  }
  document.getElementById("topic-select").addEventListener("change", () => showOfficer("group"));
  for (const button of document.querySelectorAll("[data-travel]")) {
    button.addEventListener("click", () => travel(JSON.parse(button.dataset.travel)));
  }
  document.getElementById("new-participant").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    notice("Signing up with a fresh invite…");
    try {
      const chat = await call("POST", "/api/participants", {
        name: form.elements.name.value,
        language: form.elements.language.value,
      });
      await loadChats();
      document.getElementById("participant-select").value = chat.id;
      showParticipant();
      form.reset();
      form.closest("details").open = false;
      notice("");
    } catch (error) {
      notice(`Not signed up: ${error.message}`);
    }
  });
  showDashboardLinks();
  refreshClock();
  setInterval(refreshClock, 5000);
  poll();
}

// The dashboard links appear once the invented data is in place (each click makes a
// one-time login link, as /dashboard in the bot does).
async function showDashboardLinks() {
  const status = await call("GET", "/api/status").catch(() => ({}));
  if (!status.dashboard) {
    setTimeout(showDashboardLinks, 2000);
    return;
  }
  const officer = document.getElementById("dashboard");
  officer.href = status.dashboard;
  officer.hidden = false;
  const coordinator = document.getElementById("dashboard-coordinator");
  coordinator.href = `${status.dashboard}?as=coordinator`;
  coordinator.hidden = false;
}

start();
