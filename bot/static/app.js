// Newsdesk's page: asks /v1/ask/stream, shows the answer as it streams, then the checked answer with its
// citations as cards. Plain browser JavaScript, no build step. All text from the server is set with
// textContent (never innerHTML), so an article cannot inject markup into the page.
"use strict";

const form = document.getElementById("ask-form");
const box = document.getElementById("question");
const askButton = document.getElementById("ask");
const resetButton = document.getElementById("new-conversation");
const statusLine = document.getElementById("status");
const conversation = document.getElementById("conversation");
const keyBox = document.getElementById("key-box");
const keyInput = document.getElementById("api-key");

const history = []; // [{role, content}] of this conversation, sent with each follow-up
let turnCount = 0;

keyInput.value = localStorage.getItem("newsdesk-api-key") || "";
if (keyInput.value) keyBox.hidden = false;
keyInput.addEventListener("change", () => localStorage.setItem("newsdesk-api-key", keyInput.value.trim()));

box.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    form.requestSubmit();
  }
});

resetButton.addEventListener("click", () => {
  history.length = 0;
  conversation.replaceChildren();
  resetButton.hidden = true;
  box.placeholder = "Ask about the news";
  box.focus();
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const question = box.value.trim();
  if (!question) return;
  box.value = "";
  await ask(question);
});

async function ask(question) {
  const turn = newTurn(question);
  setBusy(true, "Searching the archive…");
  const headers = { "Content-Type": "application/json", Accept: "text/event-stream" };
  const key = keyInput.value.trim();
  if (key) headers.Authorization = `Bearer ${key}`;
  try {
    const response = await fetch("/v1/ask/stream", {
      method: "POST",
      headers,
      body: JSON.stringify({ question, history: history.length ? history.slice(-20) : null }),
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({ message: `HTTP ${response.status}` }));
      if (response.status === 401 || response.status === 403) keyBox.hidden = false;
      showError(turn, problem.message || `HTTP ${response.status}`);
      return;
    }
    setBusy(true, "Writing the answer…");
    let final = null;
    for await (const { event, data } of readEvents(response.body)) {
      if (event === "token") {
        turn.text.textContent += data.text || "";
      } else if (event === "citations") {
        renderCards(turn.citations, data.citations || [], turn.id);
      } else if (event === "done") {
        final = data;
      } else if (event === "error") {
        showError(turn, data.message || "the answer failed part-way; ask again");
      }
    }
    if (final) {
      showAnswer(turn, final);
      history.push({ role: "user", content: question }, { role: "assistant", content: final.answer });
      resetButton.hidden = false;
      box.placeholder = "Ask a follow-up question";
    }
  } catch (error) {
    showError(turn, `The server could not be reached (${error.message}). Try again.`);
  } finally {
    turn.answer.classList.remove("streaming");
    setBusy(false, "");
    box.focus();
  }
}

// Server-Sent Events over fetch (EventSource cannot POST): yields {event, data} with data parsed as JSON.
async function* readEvents(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const parsed = parseFrame(frame);
      if (parsed) yield parsed;
    }
  }
  const last = parseFrame(buffer);
  if (last) yield last;
}

function parseFrame(frame) {
  let event = "message";
  const data = [];
  for (const line of frame.split("\n")) {
    if (line.startsWith(":")) continue; // keep-alive comment
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return null;
  try {
    return { event, data: JSON.parse(data.join("\n")) };
  } catch {
    return { event, data: { text: data.join("\n") } };
  }
}

function newTurn(question) {
  const node = document.getElementById("turn-template").content.firstElementChild.cloneNode(true);
  const id = `t${++turnCount}`;
  node.id = id;
  node.querySelector(".question").textContent = question;
  const turn = {
    id,
    node,
    answer: node.querySelector(".answer"),
    text: node.querySelector(".answer-text"),
    error: node.querySelector(".error"),
    citations: node.querySelector(".citations"),
    related: node.querySelector(".related"),
  };
  turn.answer.classList.add("streaming");
  conversation.append(node);
  node.scrollIntoView({ behavior: "smooth", block: "end" });
  return turn;
}

// The final, citation-checked answer replaces the streamed draft; [n] markers link to their cards.
function showAnswer(turn, answer) {
  turn.text.replaceChildren(...linkMarkers(answer.answer, turn.id, answer.citations || []));
  renderCards(turn.citations, answer.citations || [], turn.id);
  if (answer.abstained && answer.related && answer.related.length) {
    renderCards(
      turn.related,
      answer.related.map((p, i) => ({ ...p, n: i + 1, quote: p.text })),
      `${turn.id}-related`,
      false,
    );
  }
  const evidence = turn.node.querySelector(".evidence");
  const span = answer.evidence_dates;
  evidence.hidden = !span;
  if (span) {
    const first = formatDate(span.first);
    evidence.textContent = span.first === span.last ? `Evidence from ${first}` : `Evidence from ${first} to ${formatDate(span.last)}`;
  }
  turn.node.dataset.mode = answer.mode || "";
  turn.node.dataset.abstained = String(Boolean(answer.abstained));
}

function linkMarkers(text, turnId, citations) {
  const known = new Set(citations.map((c) => c.n));
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(/\[(\d+)\]/g)) {
    const n = Number(match[1]);
    if (!known.has(n)) continue;
    parts.push(document.createTextNode(text.slice(last, match.index)));
    const sup = document.createElement("sup");
    const link = document.createElement("a");
    link.href = `#${turnId}-c${n}`;
    link.textContent = `[${n}]`;
    sup.append(link);
    parts.push(sup);
    last = match.index + match[0].length;
  }
  parts.push(document.createTextNode(text.slice(last)));
  return parts;
}

// Citation cards highlight the quoted passage; related passages (no citation) are shown as plain excerpts.
function renderCards(section, items, prefix, highlight = true) {
  const list = section.querySelector(".cards");
  list.replaceChildren();
  for (const item of items) {
    const card = document.getElementById("card-template").content.firstElementChild.cloneNode(true);
    card.id = `${prefix}-c${item.n}`;
    card.querySelector(".number").textContent = highlight ? `[${item.n}]` : `${item.n}.`; // related: not citations
    const title = card.querySelector(".title");
    title.textContent = item.title || "Untitled article";
    title.href = safeUrl(item.url) || `/v1/articles/${encodeURIComponent(item.article_id)}`;
    card.querySelector(".outlet").textContent = outletName(item.source, item.via, "");
    const date = card.querySelector(".date");
    if (item.published_at) {
      date.dateTime = item.published_at;
      date.textContent = formatDate(item.published_at);
    }
    const quote = card.querySelector(".quote");
    quote.textContent = (item.quotes && item.quotes.length ? item.quotes : [item.quote || ""]).join(" … ");
    if (!highlight) {
      const excerpt = document.createElement("span");
      excerpt.className = "excerpt";
      excerpt.textContent = quote.textContent;
      quote.replaceWith(excerpt);
    }
    showAlso(card.querySelector(".also"), item.also_reported_by || []);
    list.append(card);
  }
  section.hidden = items.length === 0;
}

// An outlet as the article names it, and how an article from outside the corpus came ("Reuters (via the API)").
function outletName(source, via, unnamed) {
  const name = (source || "").trim() || (via ? "unknown outlet" : unnamed);
  return via ? `${name} (via ${via})` : name;
}

// The same story from other outlets: "Also reported by 2 outlets: Reuters (Oct 5, 2023), AP (Oct 6, 2023)".
function showAlso(node, others) {
  node.replaceChildren();
  node.hidden = others.length === 0;
  if (!others.length) return;
  node.append(document.createTextNode(`Also reported by ${others.length} ${others.length === 1 ? "outlet" : "outlets"}: `));
  others.forEach((other, i) => {
    if (i) node.append(document.createTextNode(", "));
    const name = outletName(other.source, other.via, "another outlet");
    const href = safeUrl(other.url);
    const label = other.published_at ? `${name} (${formatDate(other.published_at)})` : name;
    if (href) {
      const link = document.createElement("a");
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.textContent = label;
      node.append(link);
    } else {
      node.append(document.createTextNode(label));
    }
  });
}

function safeUrl(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function formatDate(iso) {
  const day = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  if (Number.isNaN(day.getTime())) return iso;
  return day.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
}

function showError(turn, message) {
  turn.error.textContent = message;
  turn.error.hidden = false;
  if (!turn.text.textContent) turn.answer.hidden = true;
}

function setBusy(busy, message) {
  askButton.disabled = busy;
  statusLine.textContent = message;
}
