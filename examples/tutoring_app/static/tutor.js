// The tutoring page: sends the problem to /api/stream (the summary stream, see summary.py) and draws the problem
// and answer as math, the vote as bars, and the reasoning of the sample that supports the answer as steps.
"use strict";

// Below half of the vote the answer is shown as "not sure" (docs/deployment.md, "The page").
const NOT_SURE_BELOW = 0.5;
const MAX_BARS = 6;
const DELIMITERS = [
  {left: "$$", right: "$$", display: true}, {left: "\\[", right: "\\]", display: true},
  {left: "\\(", right: "\\)", display: false}, {left: "$", right: "$", display: false},
];
const $ = (id) => document.getElementById(id);
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
const sampleName = (id) => `sample ${id.slice(id.lastIndexOf("/") + 1)}`;  // "r/3" -> "sample 3"

// ---- math ------------------------------------------------------------------------------------------------------
function renderText(el, text) {
  el.textContent = text;  // model and user text never becomes markup; KaTeX replaces only the math in it
  renderMathInElement(el, {delimiters: DELIMITERS, throwOnError: false});
  renderBareBoxes(el);
}

function renderTex(el, tex) {
  el.dataset.source = tex;
  katex.render(tex, el, {throwOnError: false});
}

// The index just past the brace that closes the one at `open`, or -1 while it is still open (text streaming in).
function closingBrace(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "\\") { i++; continue; }
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return i + 1;
  }
  return -1;
}

// Models often write the final \boxed{...} outside any $...$: render it too, or the answer shows as source.
function renderBareBoxes(el) {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const found = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.nodeValue.includes("\\boxed{") && !node.parentElement.closest(".katex")) found.push(node);
  }
  while (found.length) {
    const node = found.pop(), text = node.nodeValue;
    const start = text.indexOf("\\boxed{"), end = closingBrace(text, start + 6);
    if (start < 0 || end < 0) continue;
    const math = document.createElement("span"), rest = document.createTextNode(text.slice(end));
    katex.render(text.slice(start, end), math, {throwOnError: false});
    node.replaceWith(text.slice(0, start), math, rest);
    found.push(rest);
  }
}

// ---- reasoning as steps ----------------------------------------------------------------------------------------
const count = (text, part) => text.split(part).length - 1;
const mathOpen = (text) => count(text, "$$") % 2 === 1 || count(text, "\\[") > count(text, "\\]")
  || count(text, "\\begin{") > count(text, "\\end{");

// One step per line, except that a display formula spanning lines stays one step; the think tags go.
function reasoningSteps(text) {
  const steps = [];
  let current = "";
  for (const line of text.replace(/<\/?think>/g, "\n").split("\n")) {
    current = current ? `${current}\n${line}` : line;
    if (mathOpen(current)) continue;
    if (current.trim()) steps.push(current.trim());
    current = "";
  }
  if (current.trim()) steps.push(current.trim());
  return steps;
}

// Draws a growing text as steps, redrawing only the steps that changed, at most once a frame.
function stepList(list) {
  let text = "", drawn = [], frame = 0;
  const draw = () => {
    frame = 0;
    const steps = reasoningSteps(text);
    steps.forEach((step, i) => {
      if (drawn[i] === step) return;
      const item = list.children[i] || list.appendChild(document.createElement("li"));
      item.className = "step";
      item.dataset.source = step;
      renderText(item, step);
    });
    if (steps.length) list.children[steps.length - 1].classList.toggle("writing", mathOpen(steps.at(-1)));
    while (list.children.length > steps.length) list.lastChild.remove();
    drawn = steps;
    const boxed = [...list.children].filter((item) => item.dataset.source.includes("\\boxed"));
    boxed.forEach((item, i) => item.classList.toggle("final", i === boxed.length - 1));
  };
  return {
    set(value) { text = value; frame = frame || requestAnimationFrame(draw); },
    append(value) { this.set(text + value); },
    now() { cancelAnimationFrame(frame); draw(); },
  };
}

// ---- the vote --------------------------------------------------------------------------------------------------
function drawVotes(rows) {
  const list = $("votes");
  list.replaceChildren();
  rows.slice(0, MAX_BARS).forEach((row, i) => {
    const item = document.createElement("li");
    item.className = i === 0 ? "vote first" : "vote";
    item.dataset.answer = row.answer;
    item.dataset.count = row.count;
    const label = document.createElement("span"), track = document.createElement("span");
    const bar = document.createElement("span"), tally = document.createElement("span");
    label.className = "label"; track.className = "track"; bar.className = "bar"; tally.className = "count";
    renderTex(label, row.answer);
    bar.style.width = `${(100 * row.share).toFixed(1)}%`;
    tally.textContent = `${plural(row.count, "vote")} · ${Math.round(100 * row.share)}%`;
    track.append(bar);
    item.append(label, track, tally);
    list.append(item);
  });
  const more = rows.length - MAX_BARS;
  $("vote-extra").textContent = more > 0 ? `and ${plural(more, "other answer")} with fewer votes` : "";
  $("vote-card").classList.toggle("filled", rows.length > 0);
}

// ---- one solve ---------------------------------------------------------------------------------------------------
let controller = null;
let maxChars = null;  // the server's problem limit: say so here rather than send a problem it refuses
const reasoning = stepList($("reasoning"));
fetch("/api/health").then((r) => r.json()).then((h) => { maxChars = h.limits.max_problem_chars; }).catch(() => {});

function setState(state, message) {
  $("result").dataset.state = state;
  $("status").textContent = message;
  $("go").disabled = state === "streaming";
}

function reset(problem) {
  $("result").hidden = false;
  renderText($("problem-shown"), problem);
  for (const id of ["error", "not-sure", "out-of-scope"]) $(id).hidden = true;
  $("answer").textContent = "…";
  delete $("answer").dataset.source;
  for (const id of ["confidence", "vote-note", "lead", "vote-extra"]) $(id).textContent = "";
  $("more-reasoning").replaceChildren();
  $("reasoning-card").classList.remove("filled");
  drawVotes([]);
  reasoning.set("");
  reasoning.now();
}

let lead = null;
const handlers = {
  started(d) { setState("streaming", `Thinking… (waited ${d.queued_s.toFixed(2)} s for a turn)`); },
  lead(d) {
    lead = d.sample_id;
    $("lead").textContent = `(following ${sampleName(lead)} as it writes)`;
    $("reasoning-card").classList.add("filled");
    reasoning.set(d.text);
  },
  text(d) { if (d.sample_id === lead) reasoning.append(d.text); },
  progress(p) {
    const total = p.tally.reduce((sum, [, n]) => sum + n, 0);
    drawVotes(p.tally.map(([answer, n]) => ({answer, count: n, share: n / total})));
    $("vote-note").textContent = p.tally.length ? "(so far)" : "";
    const budget = p.budget_s ? ` of ${p.budget_s.toFixed(0)} s` : "";
    setState("streaming", `Thinking… ${p.finished} of ${p.finished + p.running} samples done · `
      + `${Math.round(p.tokens_per_s)} tokens/s · ${p.elapsed_s.toFixed(1)} s${budget}`);
  },
  solution(s) { showSolution(s); },
  error(e) { showError(e); },
};

function showSolution(s) {
  if (s.status === "out_of_scope") return showOutOfScope(s);
  const share = Math.round(100 * s.confidence);
  // An answer with a status_reason carries a caveat (every sample that answered wrote a false arithmetic step).
  const sure = s.status === "answered" && !s.status_reason && s.confidence >= NOT_SURE_BELOW;
  if (s.answer === null) $("answer").textContent = "No answer";
  else renderTex($("answer"), s.answer);
  $("confidence").textContent = s.answer === null ? "" : `${share}% of the vote`;
  if (!sure) {
    const reason = s.status_reason || (s.status !== "answered" ? "no answer" : "");
    $("not-sure-reason").textContent = reason ? `${reason[0].toUpperCase()}${reason.slice(1)}.`
      : `The samples disagree: only ${share}% of the vote chose this answer. Check it before relying on it.`;
    $("not-sure").hidden = false;
  }
  const weight = s.votes.reduce((sum, v) => sum + v.weight, 0);
  drawVotes(s.votes.map((v) => ({answer: v.answer, count: v.count, share: v.weight / weight})));
  $("vote-note").textContent = `(${plural(s.samples.length, "sample")})`;
  const unanswered = s.samples.filter((x) => x.answer === null);
  const stopped = unanswered.filter((x) => x.finish_reason === "cancelled").length;
  const notes = [$("vote-extra").textContent];
  if (unanswered.length > stopped) notes.push(`${plural(unanswered.length - stopped, "sample")} reached no answer`);
  if (stopped) notes.push(`${plural(stopped, "sample")} stopped early, the vote being settled`);
  $("vote-extra").textContent = notes.filter(Boolean).join("; ");
  showReasoning(s);
  const seconds = (s.timings.total_s ?? 0).toFixed(1);
  setState(sure ? "answered" : "not-sure", `Done in ${seconds} s with ${s.plan.strategy}.`);
}

// A problem outside the model's scope ran no sample: the model would have answered it anyway, and wrongly, so the
// page says why there is no answer instead of showing an empty vote.
function showOutOfScope(s) {
  const reason = s.status_reason;
  $("out-of-scope-reason").textContent = `${reason[0].toUpperCase()}${reason.slice(1)}. `
    + "It would have guessed, and guessed wrong, so it did not try.";
  $("out-of-scope").hidden = false;
  setState("out-of-scope", "Not attempted: the question is outside what the model was taught.");
}

function showReasoning(s) {
  const samples = new Map(s.samples.map((x) => [x.sample_id, x]));
  const shown = (s.shown_samples || []).map((id) => samples.get(id)).filter(Boolean);
  if (!shown.length) {  // nothing ran to the end: keep what streamed, said to be unfinished
    $("lead").textContent = lead ? `(${sampleName(lead)}, unfinished)` : "";
    return;
  }
  const [first, ...others] = shown;
  const agreeing = s.votes.length ? s.votes[0].count : 0;
  $("lead").textContent = s.answer === null ? `(${sampleName(first.sample_id)}, which reached no answer)`
    : `(${sampleName(first.sample_id)}, one of ${agreeing} that gave this answer)`;
  $("reasoning-card").classList.add("filled");
  reasoning.set(first.text);
  reasoning.now();
  for (const other of others) {
    const box = document.createElement("details"), title = document.createElement("summary");
    const list = document.createElement("ol");
    list.className = "steps";
    title.textContent = `The reasoning of ${sampleName(other.sample_id)}, which gave the same answer`;
    box.append(title, list);
    box.addEventListener("toggle", () => { const steps = stepList(list); steps.set(other.text); steps.now(); },
                         {once: true});
    $("more-reasoning").append(box);
  }
}

function showError(e) {
  const hint = e.status === 413 ? " Try a shorter problem." : "";
  const message = e.retry_after_s ? `The tutor is busy: please try again in ${Math.ceil(e.retry_after_s)} s.`
    : `${e.error[0].toUpperCase()}${e.error.slice(1)}${e.status ? ` (HTTP ${e.status})` : ""}.${hint}`;
  $("error").textContent = message;
  $("error").hidden = false;
  setState("error", "Stopped: no answer.");
}

// Server-sent events over fetch rather than EventSource, so a refused request's status and message show.
async function readEvents(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += value;
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const fields = Object.fromEntries(buffer.slice(0, end).split("\n").map((line) => {
        const colon = line.indexOf(": ");
        return [line.slice(0, colon), line.slice(colon + 2)];
      }));
      buffer = buffer.slice(end + 2);
      onEvent(fields.event, JSON.parse(fields.data));
    }
  }
}

async function solve(problem, budget) {
  if (controller) controller.abort();
  controller = new AbortController();
  const mine = controller;
  lead = null;
  reset(problem);
  setState("streaming", "Waiting for a turn…");
  let ended = false;
  try {
    const response = await fetch("/api/stream?" + new URLSearchParams({problem, budget_s: budget}),
                                 {signal: mine.signal});
    if (!response.ok) {
      showError(await response.json().catch(() => ({error: response.statusText, status: response.status})));
      return;
    }
    await readEvents(response, (kind, data) => {
      ended = ended || kind === "solution" || kind === "error";
      if (handlers[kind]) handlers[kind](data);
    });
  } catch (err) {
    if (mine.signal.aborted) return;
  }
  if (!ended && !mine.signal.aborted) showError({error: "the connection was lost before an answer came"});
}

$("ask").addEventListener("submit", (e) => {
  e.preventDefault();
  const problem = $("problem").value.trim();
  if (!problem) { $("status").textContent = "Please type a problem first."; return; }
  const length = [...problem].length;
  if (maxChars !== null && length > maxChars) {
    $("status").textContent = `The problem is ${length} characters; the limit is ${maxChars}.`;
    return;
  }
  solve(problem, $("budget").value);
});
