// microreg's stepper view: one ES module for the standalone page and the Jupyter widget (anywidget).
//
// It only shows data that Python prepared (microreg/page.py): node positions, the steps, their
// formulas (MathML) and the numbers that change. Every label is set with textContent or
// createTextNode; MathML is rebuilt element by element from an allow-list, never via innerHTML.

const SVG = "http://www.w3.org/2000/svg";
const MATHML = "http://www.w3.org/1998/Math/MathML";
const MATH_TAGS = new Set(["math", "mi", "mn", "mo", "ms", "mtext", "mspace", "mrow", "mfrac", "msqrt",
  "mroot", "msup", "msub", "msubsup", "mover", "munder", "munderover", "mstyle", "mpadded", "mphantom",
  "mtable", "mtr", "mtd", "menclose", "semantics"]);
const MATH_ATTRS = new Set(["display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace",
  "linethickness", "displaystyle", "scriptlevel", "accent", "accentunder", "columnalign", "width",
  "minsize", "maxsize", "movablelimits", "form", "notation"]);
const PHASE_NAMES = {forward: "forward pass", seed: "seed", backward: "backward pass", layer: "layer view"};

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  return e;
}

// Rebuild MathML from its source with only allowed elements and attributes (text as text nodes).
export function safeMathML(source) {
  if (!source) return null;
  const doc = new DOMParser().parseFromString(source, "application/xml");
  if (doc.getElementsByTagName("parsererror").length) return null;
  const copy = (node) => {
    if (node.nodeType === 3) return document.createTextNode(node.nodeValue);
    if (node.nodeType !== 1 || !MATH_TAGS.has(node.localName)) return null;
    const out = document.createElementNS(MATHML, node.localName);
    for (const a of Array.from(node.attributes)) {
      if (MATH_ATTRS.has(a.name) && !/^\s*(javascript|data):/i.test(a.value)) out.setAttribute(a.name, a.value);
    }
    for (const c of Array.from(node.childNodes)) { const cc = copy(c); if (cc) out.appendChild(cc); }
    return out;
  };
  return copy(doc.documentElement);
}

// A formula too wide for its box, broken into lines: first at its top-level relations after the
// first one (z = a·b + c / = 0.25·0.5 + 0.1 / = 0.23), then, for a line still too wide, before its
// top-level operators (⊙ + − × ·), packing as much on a line as fits. One <math> per line; each is
// measured in ``box`` itself. Chromium's MathML does not wrap lines itself; a single piece still
// too wide (one long vector) scrolls sideways.
const RELATIONS = ["=", "+=", "≈"];
const OPERATORS = ["⊙", "+", "−", "-", "×", "·", "⋅"];

function topRow(math) {
  return math && math.children.length === 1 && math.firstElementChild.localName === "mrow"
    ? math.firstElementChild : math;
}

function mathLine(nodes) {
  const line = document.createElementNS(MATHML, "math");
  const r = document.createElementNS(MATHML, "mrow");
  nodes.forEach((n) => r.appendChild(n.cloneNode(true)));
  line.appendChild(r);
  return line;
}

export function mathLines(math) {
  const row = topRow(math);
  if (!row) return null;
  const isRelation = (c) => c.localName === "mo" && RELATIONS.includes(c.textContent.trim());
  const parts = [[]];
  let seen = false;
  for (const c of Array.from(row.children)) {
    if (isRelation(c) && c.textContent.trim() === "=" && seen) parts.push([]);
    if (isRelation(c)) seen = true;
    parts[parts.length - 1].push(c);
  }
  return parts.length < 2 ? null : parts;
}

export function wrapMath(math, box) {
  const fits = (nodes) => {
    const div = el("div", "mr-formula-line mr-measure");
    div.appendChild(mathLine(nodes));
    box.appendChild(div);
    const ok = div.getBoundingClientRect().width <= box.clientWidth - 4;
    box.removeChild(div);
    return ok;
  };
  const row = topRow(math);
  if (!row) return null;
  const whole = Array.from(row.children);
  if (fits(whole)) return null;
  const lines = [];
  for (const part of mathLines(math) || [whole]) {
    if (fits(part)) { lines.push(part); continue; }
    // pieces: a new one starts before each top-level operator
    const pieces = [[]];
    part.forEach((c, i) => {
      if (i > 1 && c.localName === "mo" && OPERATORS.includes(c.textContent.trim())) pieces.push([]);
      pieces[pieces.length - 1].push(c);
    });
    let current = [];
    for (const piece of pieces) {
      if (current.length && !fits(current.concat(piece))) { lines.push(current); current = []; }
      current = current.concat(piece);
    }
    if (current.length) lines.push(current);
  }
  return lines.length > 1 ? lines.map(mathLine) : null;
}

// Which step indexes start each phase: [{phase, start, end}].
export function phaseSpans(steps) {
  const spans = [];
  steps.forEach((s, i) => {
    const last = spans[spans.length - 1];
    if (last && last.phase === s.phase) last.end = i; else spans.push({phase: s.phase, start: i, end: i});
  });
  return spans;
}

export function mount(root, data, options = {}) {
  const steps = data.steps, nodes = data.nodes, edges = data.edges;
  // quiz: asked = steps the learner tried, missed = steps with a wrong first answer, answered = done
  const state = {k: 0, scale: 1, tx: 0, ty: 0, timer: null, quiz: false, right: 0, asked: new Set(),
                 missed: new Set(), answered: new Set(), listeners: []};
  root.classList.add("mr-stepper");
  root.textContent = "";
  for (const name in data.colors) root.style.setProperty("--mr-" + name, data.colors[name]);

  // --- skeleton ------------------------------------------------------------------------------
  const header = el("div", "mr-header");
  header.appendChild(el("h2", "mr-title", data.title));
  const sample = el("p", "mr-sample", data.sample ? "The sample: " + data.sample + ". " : "");
  sample.appendChild(document.createTextNode(
    "Forward: each node's value (data) is computed from its inputs. Backward: each node's grad = ∂" +
    data.root + "/∂node is filled in by the chain rule, from " + data.root + " back to the inputs."));
  header.appendChild(sample);
  root.appendChild(header);

  const controls = el("div", "mr-controls");
  const prevB = el("button", "mr-prev", "◀ Previous");
  const nextB = el("button", "mr-next", "Next ▶");
  const playB = el("button", "mr-play", "Play");
  const fitB = el("button", "mr-fit", "Fit");
  const quizL = el("label", "mr-quiz-toggle");
  const quizC = el("input");
  quizC.type = "checkbox";
  quizL.appendChild(quizC);
  quizL.appendChild(document.createTextNode(" Quiz me"));
  const counter = el("span", "mr-counter");
  const slider = el("input", "mr-slider");
  slider.type = "range"; slider.min = 0; slider.max = steps.length - 1; slider.value = 0;
  slider.setAttribute("aria-label", "step");
  [prevB, nextB, playB, counter, fitB, quizL].forEach((c) => controls.appendChild(c));
  root.appendChild(controls);

  const track = el("div", "mr-track");
  track.appendChild(slider);
  const markers = el("div", "mr-phases");
  for (const span of phaseSpans(steps)) {
    const m = el("button", "mr-phase mr-phase-" + span.phase, PHASE_NAMES[span.phase] || span.phase);
    m.style.flexGrow = String(span.end - span.start + 1);
    m.title = "steps " + (span.start + 1) + "–" + (span.end + 1);
    m.addEventListener("click", () => { stop(); go(span.start); });
    markers.appendChild(m);
  }
  track.appendChild(markers);
  root.appendChild(track);

  const main = el("div", "mr-main");
  const view = el("div", "mr-view");
  const picture = svg("svg", {class: "mr-graph", role: "img"});
  const viewport = svg("g", {class: "mr-viewport"});
  picture.appendChild(viewport);
  view.appendChild(picture);
  // the output, pinned to the view's corner while its own box is out of view: the learner always
  // sees what is being differentiated (click it to go there)
  const chip = el("button", "mr-output");
  chip.title = "the output " + data.root + ": click to show it in the graph";
  view.appendChild(chip);
  const panel = el("div", "mr-panel");
  main.appendChild(view);
  main.appendChild(panel);
  root.appendChild(main);

  const phaseBadge = el("div", "mr-badge");
  const stepTitle = el("h3", "mr-step-title");
  const formula = el("div", "mr-formula");
  const words = el("pre", "mr-text");     // the step's explanation (its title and formula are above it)
  const quizBox = el("div", "mr-quiz");
  const quizAsk = el("div", "mr-quiz-ask");
  const quizIn = el("input", "mr-quiz-input");
  quizIn.type = "text"; quizIn.setAttribute("inputmode", "decimal"); quizIn.placeholder = "your answer";
  const quizGo = el("button", "mr-quiz-check", "Check");
  const quizShow = el("button", "mr-quiz-reveal", "Show answer");
  const quizHint = el("div", "mr-quiz-hint");
  const score = el("div", "mr-score");
  [quizAsk, quizIn, quizGo, quizShow, quizHint].forEach((c) => quizBox.appendChild(c));
  const legend = el("div", "mr-legend");
  const legendItems = [["mr-key-param", "leaf that gets a gradient (parameter, input)"],
    ["mr-key-data", "data: x, y (no gradient step)"],
    ["mr-key-value", "computed value"], ["mr-key-lit", "this step"], ["mr-key-target", "the number it changes"]];
  legend.appendChild(el("div", "mr-legend-words", "data = the node's value · grad = ∂" + data.root +
    "/∂node, how much " + data.root + " changes per unit change of the node · — = not computed yet"));
  for (const [cls, words_] of legendItems) {
    const item = el("span", "mr-key " + cls);
    item.appendChild(el("i"));
    item.appendChild(document.createTextNode(words_));
    legend.appendChild(item);
  }
  [phaseBadge, stepTitle, formula, quizBox, words, score, legend].forEach((c) => panel.appendChild(c));

  // --- the graph -----------------------------------------------------------------------------
  const font = data.font || 13;
  const edgeGroup = svg("g", {class: "mr-edges"});
  const opGroup = svg("g", {class: "mr-ops"});
  const nodeGroup = svg("g", {class: "mr-nodes"});
  viewport.appendChild(edgeGroup); viewport.appendChild(opGroup); viewport.appendChild(nodeGroup);
  const defs = svg("defs", {});
  const arrow = svg("marker", {id: "mr-arrow-" + Math.random().toString(36).slice(2), viewBox: "0 0 10 10",
    refX: "9", refY: "5", markerWidth: "8", markerHeight: "8", markerUnits: "userSpaceOnUse",
    orient: "auto-start-reverse"});
  arrow.appendChild(svg("path", {d: "M0,0 L10,5 L0,10 z", class: "mr-arrowhead"}));
  defs.appendChild(arrow);
  picture.insertBefore(defs, viewport);
  const marker = "url(#" + arrow.id + ")";

  const boxes = [], ops = [], paths = [], dataText = [], gradText = [];
  let width = 0, height = 0;
  nodes.forEach((n, i) => {
    const g = svg("g", {class: "mr-node mr-" + n.kind, "data-index": String(i)});
    g.appendChild(svg("rect", {x: n.x, y: n.y, width: n.w, height: n.h, rx: 5}));
    let y = n.y + 5 + font;
    for (const line of n.name) {
      const t = svg("text", {x: n.x + 8, y, class: "mr-name"});
      t.textContent = line;
      g.appendChild(t);
      y += 16;
    }
    const d = svg("text", {x: n.x + 8, y, class: "mr-data"});
    d.textContent = "data " + n.data;
    g.appendChild(d);
    let gr = null;         // data (x, y) has no grad: the stepper does not step it
    if (n.grad !== null) {
      gr = svg("text", {x: n.x + 8, y: y + 16, class: "mr-grad"});
      gr.textContent = "grad " + n.grad;
      g.appendChild(gr);
    }
    const title = svg("title", {});
    title.textContent = n.name.join(" ");
    g.appendChild(title);
    nodeGroup.appendChild(g);
    boxes.push(g); dataText.push(d); gradText.push(gr);
    width = Math.max(width, n.x + n.w); height = Math.max(height, n.y + n.h);
    if (n.op !== null) {
      const cx = n.x - n.og - n.ow / 2, cy = n.y + n.h / 2;
      const og = svg("g", {class: "mr-op"});
      og.appendChild(svg("rect", {x: cx - n.ow / 2, y: cy - 13, width: n.ow, height: 26, rx: 13}));
      const t = svg("text", {x: cx, y: cy + 4.5, "text-anchor": "middle"});
      t.textContent = n.op;
      og.appendChild(t);
      opGroup.appendChild(og);
      ops[i] = og;
      const p = svg("path", {d: `M${cx + n.ow / 2},${cy} L${n.x - 1},${cy}`, class: "mr-edge mr-out", "marker-end": marker});
      edgeGroup.appendChild(p);
      ops[i].out = p;
    }
  });
  edges.forEach(([from, to]) => {
    const a = nodes[from], b = nodes[to];
    const x1 = a.x + a.w, y1 = a.y + a.h / 2, x2 = b.x - b.og - b.ow - 1, y2 = b.y + b.h / 2;
    const mid = (x1 + x2) / 2;
    const p = svg("path", {d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`, class: "mr-edge",
      "marker-end": marker});
    edgeGroup.appendChild(p);
    paths.push(p);
  });
  const W = width + 20, H = height + 20;

  // --- arrangement, zoom and pan ------------------------------------------------------------
  // The view opens at a readable size (node text ≥ 12 px for a graph a learner can read) showing
  // the current step; when the graph does not fit beside the side panel at that size, the panel
  // goes below the graph (mr-stacked), so the whole of a small net, output included, is in view.
  const readable = nodes.length <= 60 ? 12 / font : 0;
  function arrange() {
    const total = root.clientWidth || 1280;
    const beside = total - 32 - 12 - 380;
    root.classList.toggle("mr-stacked", total < 1000 || (readable > 0 && W * readable > beside));
    if (root.classList.contains("mr-stacked") && readable > 0) {
      // tall enough for the whole graph at the readable size, within most of the window
      const tall = Math.ceil(H * readable) + 4;
      view.style.height = Math.max(320, Math.min(tall, Math.round(window.innerHeight * 0.62))) + "px";
    } else {
      view.style.height = "";
    }
  }
  function apply() {
    viewport.setAttribute("transform", `translate(${state.tx},${state.ty}) scale(${state.scale})`);
    showChip();
  }
  function size() { const r = picture.getBoundingClientRect(); return [r.width || 800, r.height || 500]; }
  function fitScale() { const [w, h] = size(); return Math.min(w / W, h / H); }
  function fit() {
    const [w, h] = size();
    state.scale = fitScale();
    state.tx = (w - W * state.scale) / 2; state.ty = (h - H * state.scale) / 2;
    apply();
  }
  function home() {
    arrange();
    const [w, h] = size();
    state.scale = Math.min(1.6, Math.max(fitScale(), readable));
    state.tx = W * state.scale <= w ? (w - W * state.scale) / 2 : 10;
    state.ty = H * state.scale <= h ? (h - H * state.scale) / 2 : 10;
    apply();
    follow();
  }
  function extent(i) {      // a node's box with its op pill, in graph units
    const n = nodes[i];
    return [n.op === null ? n.x : n.x - n.og - n.ow, n.y, n.x + n.w, n.y + n.h];
  }
  function inView(i, margin = 0) {
    const [x0, y0, x1, y1] = extent(i), [w, h] = size(), s = state.scale;
    return x0 * s + state.tx >= -margin && x1 * s + state.tx <= w + margin &&
      y0 * s + state.ty >= -margin && y1 * s + state.ty <= h + margin;
  }
  function follow() {
    // keep the step in view: all its lit nodes if they fit, else its first; the output too when both fit
    const s = steps[state.k];
    const lit = s.lit.length ? s.lit : (s.op === null || s.op === undefined ? [] : [s.op]);
    if (!lit.length || lit.every((i) => inView(i))) return;
    const [w, h] = size(), sc = state.scale;
    const box = (list) => list.map(extent).reduce((a, b) => [Math.min(a[0], b[0]), Math.min(a[1], b[1]),
      Math.max(a[2], b[2]), Math.max(a[3], b[3])]);
    const fitsIn = (b) => (b[2] - b[0]) * sc <= w - 20 && (b[3] - b[1]) * sc <= h - 20;
    let b = box(lit);
    if (!fitsIn(b)) b = box([lit[0]]);
    if (data.root_index !== null && data.root_index !== undefined && fitsIn(box([...lit, data.root_index]))) {
      b = box([...lit, data.root_index]);
    }
    // centre it, but never pan past the graph's edges (no empty half screen)
    const clamp = (t, view, size_) => size_ * sc <= view ? (view - size_ * sc) / 2
      : Math.min(10, Math.max(view - size_ * sc - 10, t));
    state.tx = clamp(w / 2 - (b[0] + b[2]) / 2 * sc, w, W);
    state.ty = clamp(h / 2 - (b[1] + b[3]) / 2 * sc, h, H);
    apply();
  }
  function showChip() {
    const i = data.root_index;
    if (i === null || i === undefined || inView(i, 2)) { chip.style.display = "none"; return; }
    chip.style.display = "";
    chip.textContent = "";
    chip.appendChild(el("b", "", data.root));
    chip.appendChild(document.createTextNode(" (output) · " + dataText[i].textContent +
      (gradText[i] ? " · " + gradText[i].textContent : "")));
    chip.classList.toggle("mr-lit", boxes[i].classList.contains("mr-lit"));
  }
  chip.addEventListener("click", () => {
    const i = data.root_index, [w, h] = size(), n = nodes[i];
    state.tx = w - (n.x + n.w + 12) * state.scale;
    state.ty = h / 2 - (n.y + n.h / 2) * state.scale;
    apply();
  });
  function zoomAt(factor, cx, cy) {
    const s = Math.min(8, Math.max(0.02, state.scale * factor));
    state.tx = cx - (cx - state.tx) * (s / state.scale);
    state.ty = cy - (cy - state.ty) * (s / state.scale);
    state.scale = s;
    apply();
  }
  picture.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = picture.getBoundingClientRect();
    zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
  }, {passive: false});
  let drag = null;
  picture.addEventListener("pointerdown", (e) => {
    drag = {x: e.clientX, y: e.clientY, tx: state.tx, ty: state.ty};
    picture.setPointerCapture(e.pointerId);
    picture.classList.add("mr-dragging");
  });
  picture.addEventListener("pointermove", (e) => {
    if (!drag) return;
    state.tx = drag.tx + e.clientX - drag.x; state.ty = drag.ty + e.clientY - drag.y;
    apply();
  });
  const endDrag = () => { drag = null; picture.classList.remove("mr-dragging"); };
  picture.addEventListener("pointerup", endDrag);
  picture.addEventListener("pointercancel", endDrag);
  fitB.addEventListener("click", fit);

  // --- stepping ------------------------------------------------------------------------------
  // undo[k] holds what step k overwrote, so going back restores it exactly.
  const undo = [];
  function setField(i, field, text) {
    const t = field === "grad" ? gradText[i] : dataText[i];
    if (!t) return null;
    const old = t.textContent;
    t.textContent = field + " " + text;
    return old;
  }
  function applyStep(k) {
    undo[k] = steps[k].set.map(([i, field, text]) => [i, field, setField(i, field, text)]);
  }
  function undoStep(k) {
    (undo[k] || []).slice().reverse().forEach(([i, field, old]) => {
      const t = field === "grad" ? gradText[i] : dataText[i];
      if (t) t.textContent = old;
    });
  }
  let applied = -1;   // the last step whose changes are on the graph
  const lit = [];
  const targets = [];
  function light() {
    lit.forEach((e) => e.classList.remove("mr-lit"));
    lit.length = 0;
    targets.forEach((e) => e.classList.remove("mr-target"));
    targets.length = 0;
    const s = steps[state.k];
    if (!hidden()) s.set.forEach(([i]) => { targets.push(boxes[i]); boxes[i].classList.add("mr-target"); });
    s.lit.forEach((i) => lit.push(boxes[i]));
    if (s.op !== null && s.op !== undefined && ops[s.op]) { lit.push(ops[s.op]); lit.push(ops[s.op].out); }
    s.edges.forEach((e) => lit.push(paths[e]));
    lit.forEach((e) => e.classList.add("mr-lit"));
  }
  function hidden() { return state.quiz && steps[state.k].quiz && !state.answered.has(state.k); }
  function show() {
    const s = steps[state.k];
    const target = hidden() ? state.k - 1 : state.k;
    while (applied < target) applyStep(++applied);
    while (applied > target) undoStep(applied--);
    light();
    counter.textContent = "Step " + (state.k + 1) + " / " + steps.length;
    slider.value = String(state.k);
    prevB.disabled = state.k === 0;
    nextB.disabled = state.k === steps.length - 1;
    phaseBadge.textContent = PHASE_NAMES[s.phase] || s.phase;
    phaseBadge.className = "mr-badge mr-phase-" + s.phase;
    markers.querySelectorAll(".mr-phase").forEach((m) => m.classList.toggle("mr-current",
      m.classList.contains("mr-phase-" + s.phase)));
    stepTitle.textContent = s.title;
    // one readable form of the step: its formula as math (as text where there is no MathML),
    // then the explanation; the title is the heading above
    formula.textContent = "";
    const math = safeMathML(s.mathml);
    if (math) {
      const lines = wrapMath(math, formula);
      if (lines) {
        lines.forEach((line, i) => {
          const div = el("div", i ? "mr-formula-line mr-formula-more" : "mr-formula-line");
          div.appendChild(line);
          formula.appendChild(div);
        });
      } else {
        formula.appendChild(math);
      }
    } else {
      formula.appendChild(el("div", "mr-formula-text", s.formula));
    }
    words.textContent = hidden() ? "(answer the question to see the numbers)" : s.detail;
    words.style.display = words.textContent ? "" : "none";
    if (hidden()) formula.textContent = "";
    quizBox.style.display = hidden() ? "" : "none";
    if (hidden()) {
      quizAsk.textContent = s.quiz.ask;
      quizHint.textContent = "";
      quizIn.value = "";
    }
    showScore();
    follow();
    showChip();
    for (const f of state.listeners) f(state.k);
  }
  function showScore() {
    score.textContent = state.quiz ? "Score: " + state.right + " right of " + state.asked.size + " asked" : "";
  }
  function go(k) {
    state.k = Math.max(0, Math.min(steps.length - 1, k));
    show();
  }
  function next() { if (state.k < steps.length - 1 && !hidden()) go(state.k + 1); else if (!hidden()) stop(); }
  function prev() { go(state.k - 1); }
  function stop() { if (state.timer) { clearInterval(state.timer); state.timer = null; playB.textContent = "Play"; } }
  function play() {
    if (state.timer) { stop(); return; }
    if (state.k === steps.length - 1) go(0);
    playB.textContent = "Pause";
    state.timer = setInterval(() => { if (state.k >= steps.length - 1 || hidden()) stop(); else next(); }, 900);
  }
  function check() {
    const s = steps[state.k];
    const text = quizIn.value.trim().replace("−", "-").replace(",", ".");
    const x = Number(text);
    if (text === "" || !Number.isFinite(x)) { quizHint.textContent = "Type a number, e.g. -0.25."; return; }
    const q = s.quiz;
    const close = (a, b) => Math.abs(a - b) <= Math.max(q.rtol * Math.max(Math.abs(a), Math.abs(b)), q.atol);
    state.asked.add(state.k);
    if (close(x, s.quiz.answer)) {
      if (!state.missed.has(state.k)) state.right += 1;
      state.answered.add(state.k);
      show();
      if (q.correct) words.textContent = q.correct + "\n" + s.text;   // "correct", and why, in one line
      return;
    }
    state.missed.add(state.k);   // a wrong first try: no point for this step
    const hint = s.quiz.hints.find(([v]) => close(x, v));
    quizHint.textContent = hint ? hint[1] : q.fallback;
    showScore();
  }
  prevB.addEventListener("click", () => { stop(); prev(); });
  nextB.addEventListener("click", () => { stop(); next(); });
  playB.addEventListener("click", play);
  slider.addEventListener("input", () => { stop(); go(Number(slider.value)); });
  quizC.addEventListener("change", () => { state.quiz = quizC.checked; show(); });
  quizGo.addEventListener("click", check);
  quizIn.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.stopPropagation(); check(); } });
  quizShow.addEventListener("click", () => {
    const s = steps[state.k];
    state.asked.add(state.k);
    state.missed.add(state.k);
    quizHint.textContent = "";
    state.answered.add(state.k);
    show();
    words.textContent = "Answer: " + s.quiz.shown + (s.detail ? "\n" + s.detail : "");
    words.style.display = "";
  });
  const keyTarget = options.keys || root;
  if (!options.keys) root.tabIndex = 0;
  const onKey = (e) => {
    if (e.target && e.target.tagName === "INPUT" && e.target.type === "text") return;
    if (e.key === "ArrowRight") { stop(); next(); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { stop(); prev(); e.preventDefault(); }
  };
  keyTarget.addEventListener("keydown", onKey);

  home();
  show();
  const onResize = () => { home(); showChip(); };
  window.addEventListener("resize", onResize);
  return {
    go, next, prev, get step() { return state.k; },
    onStep(f) { state.listeners.push(f); },
    destroy() { stop(); keyTarget.removeEventListener("keydown", onKey); window.removeEventListener("resize", onResize); },
  };
}

// anywidget entry point: the widget's model holds the same data as JSON, and the current step.
function render({model, el: root}) {
  let view = null;
  const build = () => {
    if (view) view.destroy();
    view = mount(root, JSON.parse(model.get("data")));
    view.go(model.get("step") || 0);
    view.onStep((k) => { if (model.get("step") !== k) { model.set("step", k); model.save_changes(); } });
  };
  build();
  model.on("change:data", build);
  model.on("change:step", () => { if (view.step !== model.get("step")) view.go(model.get("step")); });
  return () => view && view.destroy();
}

export default {render};
