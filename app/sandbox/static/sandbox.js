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
  const onAction = (action) => post("/sandbox/press", { channel: view.channel, ts: message.ts, action });
  for (const block of blocks) div.append(drawBlock(block, onAction));
  for (const file of message.files || []) {
    div.append(el("div", { class: "file" }, el("a", { href: `/sandbox/files/${file.id}`, target: "_blank" },
                                               `📄 ${file.title}`)));
  }
  div.title = when.toLocaleString();
  return div;
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
  if (!modal) return $("modal").replaceChildren();
  const form = el("form", { "data-callback-id": modal.callback_id });
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

const EMOJI = { rotating_light: "🚨", white_check_mark: "✅", warning: "⚠️", pushpin: "📌", memo: "📝",
  alarm_clock: "⏰", scales: "⚖️", clipboard: "📋", wave: "👋", lock: "🔒", eyes: "👀", bar_chart: "📊",
  arrows_counterclockwise: "🔄", zzz: "💤", x: "❌", white_large_square: "⬜", tada: "🎉", pencil2: "✏️",
  pager: "📟", mega: "📣", mag_right: "🔎", mag: "🔍", hourglass_flowing_sand: "⏳", hourglass: "⌛",
  envelope_with_arrow: "📩", bust_in_silhouette: "👤" };

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
  const [target, label] = inner.split("|", 2);
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
    return `<a href="${escape(target)}" target="_blank">${escape(unslack(label || target))}</a>`;
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
    const days = Math.round((startOfDay(when) - startOfDay(new Date())) / 86400000);
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
  };
  return format.replace(/\{(\w+)\}/g, (whole, name) => parts[name] || whole);
}

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
  const text = $("say").value;
  $("say").value = "";
  await post("/sandbox/say", { channel: view.channel, text });
  refresh();
};

refresh();
setInterval(refresh, 1000);
