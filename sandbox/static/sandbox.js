// The sandbox page: two chat panes and an IVR panel over /sandbox/api. No framework, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
let lastRendered = { customer: "", agent: "", webchat: "" };

async function api(path, body, headers) {
  const options = body === undefined ? {} : {
    method: "POST",
    body: body instanceof Blob ? body : JSON.stringify(body),
    headers: headers || { "Content-Type": "application/json" },
  };
  const answer = await fetch("/sandbox/api/" + path, options);
  const payload = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(payload.message || answer.statusText);
  return payload;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function time(at) {
  const date = typeof at === "number" ? new Date(at * 1000) : new Date(at);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function bubbleRow(side, body, meta) {
  const row = element("li", side);
  const bubble = element("div", "bubble");
  if (typeof body === "string") bubble.textContent = body; else bubble.append(body);
  row.append(bubble);
  if (meta) row.append(element("span", "meta", meta));
  return row;
}

function attachmentNode(name, url, contentType, card) {
  if (url && contentType && contentType.startsWith("image/")) {
    const image = element("img");
    image.src = url;
    image.alt = name || "image";
    // The image grows its row once loaded: keep the newest item in view.
    image.addEventListener("load", () => {
      const list = image.closest(".transcript");
      if (list) list.scrollTop = list.scrollHeight;
    });
    return image;
  }
  if (card) {  // Messenger shows a file as a card with the name it was sent under
    const link = element(url ? "a" : "span", "filecard", name || "file");
    if (url) { link.href = url; link.target = "_blank"; }
    return link;
  }
  if (url) {
    const link = element("a", "", "file: " + (name || "file"));
    link.href = url;
    link.target = "_blank";
    return link;
  }
  return element("span", "", "file: " + (name || "file"));
}

function renderCustomer(state) {
  const list = $("customer-transcript");
  const key = JSON.stringify(state.customer);
  if (key === lastRendered.customer) return;
  lastRendered.customer = key;
  list.replaceChildren(...state.customer.map((entry) => {
    const mine = entry.from === "customer";
    // The customer's own files keep the names they chose; the Page's files, sent by URL, carry no name: label by type.
    const body = entry.attachment
      ? attachmentNode(entry.attachment.name || entry.attachment.content_type, entry.attachment.url,
                       entry.attachment.content_type, mine)
      : entry.text;
    const meta = mine
      ? time(entry.at) + (entry.webhook_status === 200 ? " · delivered to webhook" : " · webhook answered " + entry.webhook_status)
      : time(entry.at);
    const row = bubbleRow(mine ? "mine" : "theirs", body, meta);
    if (entry.quick_replies && entry.quick_replies.length) row.append(element("span", "meta", "quick replies: " + entry.quick_replies.join(" · ")));
    return row;
  }));
  list.scrollTop = list.scrollHeight;
}

function renderAgent(state) {
  const list = $("agent-transcript");
  const key = JSON.stringify(state.contacts);
  if (key === lastRendered.agent) return;
  lastRendered.agent = key;
  const rows = [];
  for (const contact of state.contacts) {
    rows.push(element("li", "event", "— contact " + contact.contact_id.slice(0, 8) + " · " + contact.display_name +
      (contact.processor ? " · message processor on" : "") + " —"));
    for (const item of contact.items) {
      if (item.kind === "event") {
        rows.push(element("li", "event", item.text + " · " + time(item.at)));
      } else if (item.kind === "message") {
        const processed = item.processing ? " · " + item.processing : "";
        rows.push(bubbleRow(item.role === "CUSTOMER" ? "theirs" : "mine", item.text, item.role.toLowerCase() + " · " + time(item.at) + processed));
      } else if (item.kind === "attachment") {
        const body = element("span");
        body.append(attachmentNode(item.name, item.url, item.content_type), " ", element("span", "status-" + item.status, item.status));
        rows.push(bubbleRow(item.role === "CUSTOMER" ? "theirs" : "mine", body, item.role.toLowerCase() + " file · scanned · " + time(item.at)));
      }
    }
  }
  list.replaceChildren(...rows);
  list.scrollTop = list.scrollHeight;
  $("agent-contact").textContent = state.active_contact ? "contact " + state.active_contact.slice(0, 8) : "no active chat";
}

function renderStatus(state) {
  const calls = Object.entries(state.connect_calls).map(([name, count]) => name + " " + count).join(", ") || "none yet";
  const stream = state.stream;
  const errors = state.graph_errors.length ? " · Graph errors: " + state.graph_errors.length : "";
  $("status").textContent = "Connect calls: " + calls + " · streamed to connect_stream_handler: " + stream.DELIVERED +
    (stream.FAILED ? " (failed " + stream.FAILED + ")" : "") + errors;
  $("customer-typing").hidden = !state.customer_typing;
  $("customer-psid").textContent = state.psid;
  $("ivr-send").disabled = !state.ivr_available;
}

// The web-chat pane: what the customer typed, what the processor answered, what reached the other side.
function renderWebChat(state) {
  const web = state.webchat;
  if (!web) return;
  const list = $("webchat-transcript");
  const key = JSON.stringify(web);
  if (key === lastRendered.webchat) return;
  lastRendered.webchat = key;
  list.replaceChildren(...web.messages.map((message) => {
    const mine = message.from === "customer";
    const text = mine ? message.text : (message.delivered ? message.text : "(agent message not delivered)");
    let meta = time(message.at) + " · " + message.status;
    if (mine && message.delivered && message.delivered_text !== message.text) meta += " · agent saw: " + message.delivered_text;
    if (!message.delivered) meta += " · not delivered";
    if (message.note) meta += " · " + message.note;
    const row = bubbleRow(mine ? "mine" : "theirs", text, meta);
    row.classList.add("processing-" + message.status);
    return row;
  }));
  list.scrollTop = list.scrollHeight;
  $("webchat-contact").textContent = web.contact_id ? "contact " + web.contact_id.slice(0, 8) : "no chat yet";
  if (web.failure_mode) $("webchat-failure-mode").value = web.failure_mode;
  $("webchat-broken").checked = !!web.broken;
}
// The sandbox has two customers: one on Messenger, one on Instagram (ids as in sandbox/customer.py).
const CUSTOMER_IDS = { messenger: "7000000000000001", instagram: "8000000000000001" };
function customerId() { return CUSTOMER_IDS[$("customer-channel").value]; }

async function refresh() {
  try {
    const state = await api("state?psid=" + customerId());
    renderCustomer(state);
    renderAgent(state);
    renderStatus(state);
    renderWebChat(state);
  } catch (error) {
    $("status").textContent = "sandbox not answering: " + error.message;
  }
}

// Errors stay on screen until dismissed; the status line below keeps refreshing on its own.
function showError(message) {
  $("error-text").textContent = message;
  $("error").hidden = false;
}

$("error-dismiss").addEventListener("click", () => { $("error").hidden = true; });

// Send what a composer holds; its text is cleared only once the send succeeded.
async function submitText(inputId, path, extra) {
  const input = $(inputId);
  const text = input.value.trim();
  if (!text) return;
  try {
    await api(path, Object.assign({ text }, extra || {}));
    input.value = "";
  } catch (error) {
    showError(error.message);
  }
  refresh();
}

async function sendFile(input, path) {
  const file = input.files[0];
  if (!file) return;
  input.value = "";
  try {
    await api(path + "?name=" + encodeURIComponent(file.name), file, { "Content-Type": file.type || "application/octet-stream" });
  } catch (error) { showError(error.message); }
  refresh();
}

$("customer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  submitText("customer-input", "customer/message", { channel: $("customer-channel").value, psid: customerId() });
});

$("agent-form").addEventListener("submit", (event) => {
  event.preventDefault();
  submitText("agent-input", "agent/message", { content_type: $("agent-markdown").checked ? "text/markdown" : "text/plain" });
});

let typingSent = 0;
$("agent-input").addEventListener("input", () => {
  if (Date.now() - typingSent > 5000) {
    typingSent = Date.now();
    api("agent/typing", {}).catch(() => {});
  }
});

$("agent-end").addEventListener("click", async () => {
  try { await api("agent/end", {}); } catch (error) { showError(error.message); }
  refresh();
});

$("customer-file").addEventListener("change", () => sendFile($("customer-file"), "customer/file"));
$("agent-file").addEventListener("change", () => sendFile($("agent-file"), "agent/file"));

// secure-ivr.json as the sandbox ran it: each block, the branch taken, logging/recording at that moment.
function describeFlow(flow) {
  const lines = ["secure-ivr.json: branch " + (flow.outcome || "?") + ", contact " + flow.ended +
    "; logging and recording off while digits existed: " + (flow.logging_off_while_digits ? "yes" : "NO") +
    "; flow log: " + flow.flow_log_entries + " entries, " + (flow.flow_log_clean ? "no digit or ciphertext" : "SECRETS LOGGED")];
  for (const step of flow.steps) {
    const state = (step.logging ? "log on " : "log off") + " " + (step.recording ? "rec on " : "rec off");
    lines.push((step.digits_present ? "🔒 " : "   ") + state + "  " + step.action.padEnd(26) + step.branch.padEnd(14) +
      (step.note ? " " + step.note : ""));
  }
  return lines.join("\n");
}

$("ivr-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const digits = $("ivr-input").value.trim();
  if (!digits) return;
  // What the panel can play: 1–64 keypad characters per try, up to 3 tries (the decryptor's value is 0–9 only).
  if (!/^[0-9*#]{1,64}(\s*,\s*[0-9*#]{1,64}){0,2}$/.test(digits)) {
    showError("The IVR takes keypad entries (digits 0–9, * and #), up to 3 tries separated by commas; " +
              "only digits 0–9 come back as a value.");
    return;
  }
  $("ivr-result").textContent = "encrypting…";
  try {
    const result = await api("ivr", { digits });
    $("ivr-result").textContent = "$.External = " + JSON.stringify(result.external, null, 2) +
      "\n\nciphertext: " + result.ciphertext_chars + " base64 chars (" + result.ciphertext_head + "…), key id " +
      result.key_id + "; invoke round trip " + result.elapsed_ms + " ms" + (result.function_error ? "\nfunction error: " + result.function_error : "") +
      (result.flow ? "\n\n" + describeFlow(result.flow) : "");
  } catch (error) {
    $("ivr-result").textContent = "error: " + error.message;
    showError(error.message);
  }
});

$("webchat-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("webchat-input").value.trim();
  if (!text) return;
  $("webchat-input").value = "";
  try { await api("webchat/message", { text, content_type: $("webchat-type").value }); } catch (error) { flash(error.message); }
  refresh();
});

async function webchatSwitches() {
  try {
    await api("webchat/failure", { failure_mode: $("webchat-failure-mode").value, broken: $("webchat-broken").checked });
  } catch (error) { flash(error.message); }
  refresh();
}
$("webchat-failure-mode").addEventListener("change", webchatSwitches);
$("webchat-broken").addEventListener("change", webchatSwitches);
$("webchat-new").addEventListener("click", async () => {
  try { await api("webchat/start", {}); } catch (error) { flash(error.message); }
  refresh();
});

$("expire-tokens").addEventListener("click", async () => {
  try {
    const answer = await api("expire-tokens", {});
    $("status").textContent = "expired " + answer.expired + " connection token(s): the next customer message must recover";
  } catch (error) { showError(error.message); }
});

refresh();
setInterval(refresh, 700);
