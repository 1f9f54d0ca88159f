// The sandbox page: shows what one person sees in the fake Slack, and sends what they do.
// It polls /sandbox/state every second and redraws only what changed.
"use strict";

const $ = (id) => document.getElementById(id);
const view = { me: null, channel: null, home: false, state: null, drawn: {} };

// ---- talking to the sandbox ----

async function post(path, body) {
  const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
                                      body: JSON.stringify({ user: view.me, ...body }) });
  return response.json();
}

async function refresh() {
  const query = new URLSearchParams({ user: view.me || "", channel: view.channel || "" });
  const state = await (await fetch(`/sandbox/state?${query}`)).json();
  view.state = state;
  view.me = state.me;
  view.channel = state.channel.id;
  drawOnce("sidebar", [state.me, state.channels, state.channel.id, view.home], drawSidebar);
  drawClock(state.clock);
  if (view.home) drawOnce("main", ["home", state.home], drawHome);
  else drawOnce("main", [state.channel, state.names], drawChannel);
  drawOnce("modal", [state.modal && state.modal.id, state.modal && state.modal.hash,
                     state.modal && state.modal.errors], drawModal);
}

function drawOnce(part, key, draw) {
  const text = JSON.stringify(key);
  if (view.drawn[part] !== text) { view.drawn[part] = text; draw(view.state); }
}

// ---- the sidebar ----

function drawClock(clock) {
  const when = new Date(clock.now * 1000).toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
  $("clock").textContent = clock.speed === 1 ? `Sandbox time ${when} (real time)`
    : `Sandbox time ${when}: one real second plays ${clock.speed} seconds`;
}

function drawSidebar(state) {
  const select = $("act-as");
  select.replaceChildren(...state.people.filter((p) => !p.is_bot).map((p) =>
    new Option(`${p.real_name} (${p.part})`, p.id, false, p.id === state.me)));
  $("part").textContent = `You see what ${person(state.me).real_name} sees.`;
  $("channels").replaceChildren(...state.channels.map((c) => {
    const link = el("a", { href: "#", "data-channel": c.name }, `${c.is_private ? "🔒" : "#"} ${c.name}`);
    link.classList.toggle("joined", c.member);
    link.classList.toggle("current", !view.home && c.id === state.channel.id);
    link.onclick = (event) => { event.preventDefault(); openChannel(c.id); };
    return el("li", {}, link);
  }));
  $("open-dm").classList.toggle("current", !view.home && state.channel.id === state.dm);
  $("open-home").classList.toggle("current", view.home);
}

function openChannel(channel) {
  view.home = false;
  view.channel = channel;
  refresh();
}

// ---- a channel ----

function drawChannel(state) {
  const channel = state.channel;
  $("title").textContent = channel.is_im ? "Incident Bot" : `${channel.is_private ? "🔒" : "#"} ${channel.name}`;
  $("topic").innerHTML = mrkdwn(channel.topic || "");
  $("join").hidden = channel.member || channel.is_private;
  $("composer").hidden = !channel.member;
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.replaceChildren(...channel.messages.map(drawMessage));
  if (atBottom || view.drawn.scrolledFor !== channel.id) box.scrollTop = box.scrollHeight;
  view.drawn.scrolledFor = channel.id;
}

function drawMessage(message) {
  const div = el("div", { class: "message", "data-ts": message.ts });
  div.classList.toggle("private", !!message.private);
  div.classList.toggle("pinned", !!message.pinned);
  div.classList.toggle("thread", !!message.thread_ts);
  const when = new Date(parseFloat(message.ts) * 1000);
  div.append(el("span", { class: "who" }, person(message.user).real_name),
             el("span", { class: "meta" }, [
               message.private ? "Only visible to you" : "",
               message.pinned ? "📌 Pinned" : "",
               message.thread_ts ? "in thread" : "",
               message.edited ? "(edited)" : "",
             ].filter(Boolean).join(" · ")));
  const blocks = message.blocks && message.blocks.length ? message.blocks
    : [{ type: "section", text: { type: "mrkdwn", text: message.text } }];
  // Drawn as Slack draws it: a reminder the bot has superseded, answered or closed was edited without its
  // buttons, so none is left to press.
  const onAction = (action) => post("/sandbox/press", { channel: view.channel, ts: message.ts, action });
  for (const block of blocks) div.append(drawBlock(block, onAction));
  if (!message.private) {
    div.append(drawReactions(message));
    div.append(drawTools(message));
  }
  for (const file of message.files || []) {
    div.append(el("div", { class: "file" }, el("a", { href: `/sandbox/files/${file.id}`, target: "_blank" },
                                               `📄 ${file.title}`)));
  }
  div.title = when.toLocaleString();
  return div;
}

// Reactions under a message; pressing one adds or takes back mine, as in Slack.
function drawReactions(message) {
  return el("div", { class: "reactions" }, (message.reactions || []).map((r) => {
    const button = el("button", { type: "button", class: r.mine ? "mine" : "", "data-reaction": r.name,
                                  title: `:${r.name}:` }, `${EMOJI[r.name] || `:${r.name}:`} ${r.count}`);
    button.onclick = () => react(message, r.name, !r.mine);
    return button;
  }));
}

// What hovering a message offers in Slack: a quick :pushpin: and the ⋯ menu with the app's message shortcuts.
function drawTools(message) {
  const mine = (message.reactions || []).some((r) => r.name === "pushpin" && r.mine);
  const pin = el("button", { type: "button", class: "react-pushpin",
                             title: mine ? "Remove :pushpin:" : "React with :pushpin:" }, "📌");
  pin.onclick = () => react(message, "pushpin", !mine);
  const more = el("button", { type: "button", class: "more", title: "More actions" }, "⋯");
  const tools = el("div", { class: "tools" }, [pin, more]);
  more.onclick = () => {
    const open = tools.querySelector(".menu");
    if (open) { open.remove(); tools.classList.remove("open"); return; }
    const menu = el("div", { class: "menu" }, view.state.shortcuts.map((shortcut) => {
      const item = el("button", { type: "button", "data-callback-id": shortcut.callback_id }, shortcut.name);
      item.onclick = async () => {
        menu.remove();
        tools.classList.remove("open");
        await post("/sandbox/shortcut", { channel: view.channel, ts: message.ts, callback_id: shortcut.callback_id });
        refresh();
      };
      return item;
    }));
    tools.classList.add("open");
    tools.append(menu);
  };
  return tools;
}

async function react(message, name, add) {
  await post("/sandbox/react", { channel: view.channel, ts: message.ts, name, add });
  refresh();
}

// ---- Block Kit ----

function drawBlock(block, onAction) {
  const div = el("div", { class: "block", "data-block-id": block.block_id || "" });
  if (block.type === "section") {
    if (block.text) div.append(text(block.text));
    if (block.fields) div.append(el("div", { class: "fields" }, block.fields.map(text)));
    if (block.accessory) div.append(drawElement(block.accessory, block, onAction));
  } else if (block.type === "context") {
    div.className += " context";
    div.append(...block.elements.filter((e) => e.type !== "image").map(text));
  } else if (block.type === "divider") {
    div.append(el("hr"));
  } else if (block.type === "header") {
    div.className += " header-block";
    div.append(text(block.text));
  } else if (block.type === "actions") {
    div.className += " actions";
    div.append(...block.elements.map((element) => drawElement(element, block, onAction)));
  } else if (block.type === "input") {
    return drawInput(block);
  }
  return div;
}

function text(object) {
  const span = el("span");
  if (object.type === "mrkdwn") span.innerHTML = mrkdwn(object.text);
  else span.textContent = object.text;
  return span;
}

function drawElement(element, block, onAction) {
  const action = { type: element.type, action_id: element.action_id, block_id: block.block_id || "" };
  if (element.type === "button") {
    const button = el("button", { type: "button", class: element.style || "", "data-action-id": element.action_id },
                      element.text.text);
    button.onclick = () => onAction({ ...action, value: element.value, text: element.text });
    return button;
  }
  if (element.type === "checkboxes") {
    const box = el("div", { class: "checkboxes" });
    const initial = new Set((element.initial_options || []).map((o) => o.value));
    for (const option of element.options) {
      const input = el("input", { type: "checkbox", value: option.value });
      input.checked = initial.has(option.value);
      input.onchange = () => {
        const chosen = [...box.querySelectorAll("input:checked")].map((i) =>
          element.options.find((o) => o.value === i.value));
        onAction({ ...action, selected_options: chosen });
      };
      box.append(el("label", {}, [input, " ", text(option.text)]));
    }
    return box;
  }
  if (element.type === "static_select" || element.type === "users_select") {
    const select = selectFor(element);
    select.onchange = () => onAction({ ...action, ...chosenIn(element, select) });
    return select;
  }
  return el("span", { class: "meta" }, `[${element.type}]`);
}

// ---- modals ----

function drawModal(state) {
  const modal = state.modal;
  $("modal").hidden = !modal;
  const before = $("modal").querySelector("form");
  // Slack keeps what was typed when the bot answers errors (or updates the view): so does the page.
  const typed = before && modal && before.dataset.viewId === modal.id ? typedIn(before) : {};
  if (!modal) return $("modal").replaceChildren();
  const form = el("form", { "data-callback-id": modal.callback_id, "data-view-id": modal.id });
  const onAction = (action) => post("/sandbox/press", { view_id: modal.id, action });
  form.append(el("h3", {}, modal.title.text), ...modal.blocks.map((block) => drawBlock(block, onAction)));
  for (const [blockId, error] of Object.entries(modal.errors || {})) {
    const input = form.querySelector(`[data-block-id="${blockId}"]`);
    if (input) input.append(el("div", { class: "error" }, error));
  }
  const close = el("button", { type: "button" }, modal.close ? modal.close.text : "Close");
  close.onclick = () => post("/sandbox/dismiss", { view_id: modal.id }).then(refresh);
  const buttons = el("div", { class: "buttons" }, close);
  if (modal.submit) buttons.append(el("button", { type: "submit", class: "primary" }, modal.submit.text));
  form.append(buttons);
  form.onsubmit = async (event) => {
    event.preventDefault();
    await post("/sandbox/submit", { view_id: modal.id, values: valuesOf(form, modal) });
    refresh();
  };
  $("modal").replaceChildren(form);
  putBack(form, typed);
}

function typedIn(form) {
  const typed = {};
  for (const div of form.querySelectorAll(".block.input")) {
    typed[div.dataset.blockId] = [...div.querySelectorAll("input, textarea, select")].map((field) =>
      field.type === "checkbox" ? field.checked : field.value);
  }
  return typed;
}

function putBack(form, typed) {
  for (const [blockId, values] of Object.entries(typed)) {
    const div = form.querySelector(`.block.input[data-block-id="${blockId}"]`);
    const fields = div ? [...div.querySelectorAll("input, textarea, select")] : [];
    if (fields.length !== values.length) continue;  // the bot changed the field: show its own
    fields.forEach((field, i) => {
      if (field.type === "checkbox") field.checked = values[i];
      else field.value = values[i];
    });
  }
}

function drawInput(block) {
  const element = block.element;
  const div = el("div", { class: "block input", "data-block-id": block.block_id });
  let field;
  if (element.type === "plain_text_input") {
    field = el(element.multiline ? "textarea" : "input", { name: block.block_id });
    field.value = element.initial_value || "";
  } else if (element.type === "checkboxes") {
    field = drawElement(element, block, () => {});
  } else {
    field = selectFor(element);
  }
  div.append(el("span", {}, block.label.text + (block.optional ? " (optional)" : "")), field);
  if (block.hint) div.append(el("div", { class: "meta" }, block.hint.text));
  return div;
}

// What Slack sends as view.state.values: {block_id: {action_id: {type, value | selected_... }}}.
function valuesOf(form, modal) {
  const values = {};
  for (const block of modal.blocks.filter((b) => b.type === "input")) {
    const element = block.element;
    const div = form.querySelector(`[data-block-id="${block.block_id}"]`);
    let value = { type: element.type };
    if (element.type === "plain_text_input") value.value = div.querySelector("input, textarea").value || null;
    else if (element.type === "checkboxes") {
      const ticked = new Set([...div.querySelectorAll("input:checked")].map((i) => i.value));
      value.selected_options = element.options.filter((o) => ticked.has(o.value));
    } else value = { ...value, ...chosenIn(element, div.querySelector("select")) };
    values[block.block_id] = { [element.action_id]: value };
  }
  return values;
}

function selectFor(element) {
  const select = el("select", { "data-action-id": element.action_id });
  select.append(new Option(element.placeholder ? element.placeholder.text : "Choose…", ""));
  for (const option of optionsOf(element)) {
    const initial = element.initial_option ? element.initial_option.value : element.initial_user;
    select.append(new Option(option.text.text, option.value, false, option.value === initial));
  }
  return select;
}

function optionsOf(element) {
  if (element.type === "users_select") {
    return view.state.people.filter((p) => !p.is_bot).map((p) => ({ text: { text: p.real_name }, value: p.id }));
  }
  return element.options || (element.option_groups || []).flatMap((group) => group.options);
}

function chosenIn(element, select) {
  if (element.type === "users_select") return { selected_user: select.value || null };
  const option = optionsOf(element).find((o) => o.value === select.value);
  return { selected_option: option || null };
}

// ---- App Home ----

function drawHome(state) {
  $("title").textContent = "Incident Bot · Home";
  $("topic").textContent = "";
  $("join").hidden = true;
  $("composer").hidden = true;
  const home = state.home;
  const onAction = (action) => post("/sandbox/press", { view_id: home.id, action });
  $("messages").replaceChildren(...(home ? home.blocks.map((block) => drawBlock(block, onAction))
    : [el("p", { class: "meta" }, "The bot has published no Home tab for you.")]));
}

// ---- Slack's mrkdwn ----

const EMOJI = { rotating_light: "🚨", repeat: "🔁", white_check_mark: "✅", warning: "⚠️", pushpin: "📌", memo: "📝",
  alarm_clock: "⏰", scales: "⚖️", clipboard: "📋", wave: "👋", lock: "🔒", eyes: "👀", bar_chart: "📊",
  arrows_counterclockwise: "🔄", zzz: "💤", x: "❌", white_large_square: "⬜", tada: "🎉", pencil2: "✏️",
  pager: "📟", mega: "📣", mag_right: "🔎", mag: "🔍", hourglass_flowing_sand: "⏳", hourglass: "⌛",
  envelope_with_arrow: "📩", bust_in_silhouette: "👤", red_circle: "🔴", large_green_circle: "🟢",
  large_orange_circle: "🟠", large_yellow_circle: "🟡", large_blue_circle: "🔵", white_circle: "⚪",
  black_circle: "⚫", chart_with_upwards_trend: "📈", chart_with_downwards_trend: "📉",
  spiral_calendar_pad: "🗓️", ticket: "🎫", file_cabinet: "🗄️", fire: "🔥", rocket: "🚀", sos: "🆘",
  heavy_check_mark: "✔️", hammer_and_wrench: "🛠️", speech_balloon: "💬", link: "🔗", bell: "🔔",
  stopwatch: "⏱️", siren: "🚨", information_source: "ℹ️", no_entry: "⛔", thumbsup: "👍", "+1": "👍", jigsaw: "🧩" };

function mrkdwn(source) {
  // Code first (nothing inside it is formatted), then <tokens>, then *bold* _italic_ ~strike~ and :emoji:.
  return source.split(/(```[\s\S]*?```|`[^`\n]*`)/).map((part) => {
    if (part.startsWith("```")) return `<pre>${escape(unslack(part.slice(3, -3)))}</pre>`;
    if (part.startsWith("`") && part.length > 1) return `<code>${escape(unslack(part.slice(1, -1)))}</code>`;
    return part.split(/(<[^<>\n]+>)/).map((piece) =>
      piece.startsWith("<") ? token(piece.slice(1, -1)) : style(escape(unslack(piece)))).join("");
  }).join("").replace(/^&gt; ?(.*)$/gm, "<blockquote>$1</blockquote>").replace(/\n/g, "<br>");
}

function style(html) {
  return html.replace(/(^|[\s(])\*([^*\n]+)\*/g, "$1<b>$2</b>")
    .replace(/(^|[\s(])_([^_\n]+)_/g, "$1<i>$2</i>")
    .replace(/(^|[\s(])~([^~\n]+)~/g, "$1<s>$2</s>")
    .replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] || whole);
}

function token(inner) {
  // Inside <...> Slack's text is escaped already (&amp; &lt; &gt;): read it back once, escape it once for HTML.
  const [target, label] = unslack(inner).split("|", 2);
  if (target.startsWith("@")) return `<span class="mention">@${escape(person(target.slice(1)).real_name)}</span>`;
  if (target.startsWith("#")) {
    const id = target.slice(1);
    const name = view.state.names[id] || label || id;
    return `<a class="mention" href="#" data-channel-id="${escape(id)}">#${escape(name)}</a>`;
  }
  if (target.startsWith("!date^")) return escape(formatDate(target, label));
  if (target.startsWith("!subteam^")) {
    return `<span class="mention">@${escape(view.state.groups[target.slice(9)] || label || "group")}</span>`;
  }
  if (target.startsWith("!")) return `<span class="mention">@${escape(target.slice(1))}</span>`;
  if (/^(https?|mailto):/.test(target)) {
    return `<a href="${escape(target)}" target="_blank">${escape(label || target)}</a>`;
  }
  return escape(`<${unslack(inner)}>`);
}

// <!date^1700000000^{date_short_pretty} at {time}|fallback>, in this browser's time zone.
function formatDate(target, fallback) {
  const [, seconds, format] = target.split("^");
  const when = new Date(parseInt(seconds, 10) * 1000);
  if (isNaN(when) || !format) return fallback || "";
  const date = (options) => when.toLocaleDateString(undefined, options);
  const pretty = (options) => {
    const days = Math.round((startOfDay(when) - startOfDay(sandboxNow())) / 86400000);
    return { 0: "today", "-1": "yesterday", 1: "tomorrow" }[days] || date(options);
  };
  const parts = {
    date_num: when.toISOString().slice(0, 10),
    date: date({ month: "long", day: "numeric", year: "numeric" }),
    date_short: date({ month: "short", day: "numeric", year: "numeric" }),
    date_long: date({ weekday: "long", month: "long", day: "numeric", year: "numeric" }),
    date_pretty: pretty({ month: "long", day: "numeric", year: "numeric" }),
    date_short_pretty: pretty({ month: "short", day: "numeric", year: "numeric" }),
    date_long_pretty: pretty({ weekday: "long", month: "long", day: "numeric", year: "numeric" }),
    time: when.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" }),
    time_secs: when.toLocaleTimeString(),
    ago: ago(when),
  };
  return format.replace(/\{(\w+)\}/g, (whole, name) => parts[name] || whole);
}

// "5 minutes ago", "in 2 hours": measured on the sandbox's clock (which --speed or a drill may run fast).
function ago(when) {
  const seconds = Math.round((sandboxNow() - when) / 1000);
  const units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600],
                 ["minute", 60]];
  const [unit, size] = units.find(([, size]) => Math.abs(seconds) >= size) || ["second", 1];
  if (unit === "second" && Math.abs(seconds) < 45) return "just now";
  const count = Math.round(Math.abs(seconds) / size);
  const said = `${count} ${unit}${count === 1 ? "" : "s"}`;
  return seconds >= 0 ? `${said} ago` : `in ${said}`;
}

const sandboxNow = () => new Date(view.state && view.state.clock ? view.state.clock.now * 1000 : Date.now());
const startOfDay = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate());
const unslack = (s) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
const escape = (s) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                                                     "'": "&#39;" })[c]);
const person = (id) => (view.state.people.find((p) => p.id === id) || { real_name: id, name: id });

function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...[].concat(children));
  return node;
}

// ---- what the person does ----

$("act-as").onchange = (event) => { view.me = event.target.value; view.drawn = {}; refresh(); };
$("open-dm").onclick = (event) => { event.preventDefault(); openChannel(view.state.dm); };
$("messages").onclick = (event) => {  // a #channel link in a message
  const link = event.target.closest("[data-channel-id]");
  if (link) { event.preventDefault(); openChannel(link.dataset.channelId); }
};
$("open-home").onclick = async (event) => {
  event.preventDefault();
  view.home = true;
  await post("/sandbox/home", {});
  refresh();
};
$("join").onclick = () => post("/sandbox/join", { channel: view.channel }).then(refresh);
$("composer").onsubmit = async (event) => {
  event.preventDefault();
  const text = asSlackSends($("say").value);
  $("say").value = "";
  $("suggest").hidden = true;
  await post("/sandbox/say", { channel: view.channel, text });
  refresh();
};

// What Slack's client sends for what was typed: &, < and > escaped, @name as <@U…> (a slash command, whose
// manifest says should_escape, gets <@U…|name>), #channel as <#C…|channel>.
function asSlackSends(typed) {
  const command = typed.trim().startsWith("/");
  return escape(typed).replace(/&#39;/g, "'").replace(/&quot;/g, '"')
    .replace(/(^|[\s(:])@([a-z0-9._-]+)/gi, (whole, before, name) => {
      const found = mentionable().find((p) => p.name.toLowerCase() === name.toLowerCase());
      if (!found) return whole;
      return `${before}<@${found.id}${command ? `|${found.name}` : ""}>`;
    })
    .replace(/(^|[\s(])#([a-z0-9._-]+)/gi, (whole, before, name) => {
      const id = Object.keys(view.state.names).find((c) => view.state.names[c] === name.toLowerCase());
      return id ? `${before}<#${id}|${view.state.names[id]}>` : whole;
    });
}

const mentionable = () => view.state.people.filter((p) => !p.is_bot || p.id === view.state.bot);

// A simple autocomplete: the word being typed starts with @ or #: the people or channels it could be.
$("say").oninput = () => {
  const box = $("say");
  const word = box.value.slice(0, box.selectionStart).match(/(?:^|\s)([@#])([\w.-]*)$/);
  const list = $("suggest");
  if (!word) { list.hidden = true; return; }
  const [, sign, start] = word;
  const choices = sign === "@"
    ? mentionable().map((p) => ({ name: p.name, label: `@${p.name} · ${p.real_name}` }))
    : view.state.channels.map((c) => ({ name: c.name, label: `#${c.name}` }));
  const fitting = choices.filter((c) => c.name.toLowerCase().startsWith(start.toLowerCase())).slice(0, 8);
  list.replaceChildren(...fitting.map((choice) => {
    const item = el("li", { "data-name": choice.name }, choice.label);
    item.onclick = () => {
      const before = box.value.slice(0, box.selectionStart - start.length);
      box.value = `${before}${choice.name} ${box.value.slice(box.selectionStart)}`;
      list.hidden = true;
      box.focus();
    };
    return item;
  }));
  list.hidden = fitting.length === 0;
};

refresh();
setInterval(refresh, 1000);
