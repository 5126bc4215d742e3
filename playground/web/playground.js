// The playground's page: it runs cnnc.check (cnnc.wasm, playground/wasm)
// on the text after every pause in typing and shows the errors, or the
// picture and the table. body's data-state is "loading", "ready" or
// "failed"; data-pending is set while a check waits for a pause in typing;
// data-checks counts the checks shown (the browser test reads all three).
'use strict';

const $ = (id) => document.getElementById(id);
const code = $('code'), marks = $('marks'), gutter = $('gutter'), errors = $('errors');
const examples = $('examples'), collapse = $('collapse'), status = $('status');
const delay = 150; // ms of quiet before a check
const saved = 'cnnc-playground'; // localStorage key of the last text
let fileName = 'playground.cnn', timer = 0, picture = '', shown = [], summary = '';

function escapeHTML(s) {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

// showMarks underlines the errors' spans under the transparent textarea.
function showMarks(text, list) {
  let html = '', at = 0;
  for (const m of [...list].sort((a, b) => a.from - b.from)) {
    if (m.from < at) continue; // overlaps the one before
    html += escapeHTML(text.slice(at, m.from));
    html += '<mark>' + escapeHTML(text.slice(m.from, m.to).replace(/\n/, ' \n')) + '</mark>';
    at = m.to;
  }
  marks.innerHTML = html + escapeHTML(text.slice(at)) + '\n ';
  const lines = text.split('\n').length;
  let nums = '';
  for (let i = 1; i <= lines; i++) nums += i + '\n';
  gutter.textContent = nums + '\n\n'; // room for the editor's scroll bar
  syncScroll();
}

function syncScroll() {
  marks.scrollTop = code.scrollTop;
  marks.scrollLeft = code.scrollLeft;
  gutter.scrollTop = code.scrollTop;
}

function showTable(r) {
  $('title').textContent = r.network + ': input ' + r.input;
  const body = $('table').tBodies[0];
  body.replaceChildren();
  r.rows.forEach((row, i) => {
    const tr = body.insertRow();
    const total = i === r.rows.length - 1;
    const cells = [total ? '' : String(i), row.name, row.layer, row.output, row.params, row.macs, row.activations];
    for (const c of cells) tr.insertCell().textContent = c;
    if (total) tr.className = 'total';
    else if (row.aux) tr.className = 'aux';
    else if (row.implied) tr.className = 'implied';
    if (row.line) {
      tr.title = 'line ' + row.line;
      tr.addEventListener('click', () => selectLine(row.line));
    }
  });
  const totals = $('totals');
  totals.replaceChildren();
  for (const t of r.totals) totals.appendChild(document.createElement('li')).textContent = t;
}

function showPicture(r) {
  const img = $('svg'), none = $('nopicture');
  if (picture) URL.revokeObjectURL(picture);
  picture = '';
  if (r.svg) {
    // An <img> shows the SVG as a picture: nothing in it runs.
    picture = URL.createObjectURL(new Blob([r.svg], { type: 'image/svg+xml' }));
    img.src = picture;
  }
  img.hidden = !r.svg;
  none.hidden = !!r.svg;
  none.textContent = r.pictureError || '';
}

function selectLine(n) {
  const lines = code.value.split('\n');
  if (n > lines.length) return;
  const from = lines.slice(0, n - 1).reduce((s, l) => s + l.length + 1, 0);
  code.focus();
  code.setSelectionRange(from, from + lines[n - 1].length);
}

function check() {
  clearTimeout(timer);
  timer = 0;
  delete document.body.dataset.pending;
  const text = code.value;
  let r;
  try {
    r = JSON.parse(cnnc.check(fileName, text, collapse.checked));
  } catch (e) { // cnnc.wasm has stopped: only a reload brings it back
    status.textContent = 'cnnc stopped (' + e.message + '): reload the page';
    status.className = 'bad';
    return;
  }
  try {
    localStorage.setItem(saved, JSON.stringify({ name: fileName, text }));
  } catch (e) { /* no storage: nothing to keep */ }
  showMarks(text, r.marks || []);
  const bad = !!r.errors;
  errors.hidden = !bad;
  errors.textContent = r.errors || '';
  $('stale').hidden = !bad || !$('title').textContent;
  $('results').classList.toggle('stale', bad);
  shown = r.marks || [];
  if (bad) {
    summary = shown.length === 1 ? '1 error' : shown.length + ' errors';
  } else {
    showTable(r);
    showPicture(r);
    summary = 'checked: ' + (r.rows.length - 2) + ' layers';
  }
  status.className = bad ? 'bad' : 'good';
  caretMoved();
  document.body.dataset.checks = String(Number(document.body.dataset.checks || 0) + 1);
}

function later() {
  clearTimeout(timer);
  timer = setTimeout(check, delay);
  document.body.dataset.pending = '1';
}

function pick() {
  const f = examples.value;
  if (!f) return;
  fileName = f;
  $('filename').textContent = f;
  $('edited').hidden = true;
  code.value = window.zoo.find((z) => z.name === f).text;
  code.scrollTop = 0;
  check();
}

// caretMoved shows in the status the message of the error under the
// caret, or the summary of the check.
function caretMoved() {
  const at = code.selectionStart;
  const m = document.activeElement === code && shown.find((m) => m.from <= at && at <= m.to);
  status.textContent = m ? m.msg : summary;
}

// restore brings back the text of the last visit.
function restore() {
  let last;
  try {
    last = JSON.parse(localStorage.getItem(saved));
  } catch (e) {
    return false;
  }
  if (!last || typeof last.text !== 'string' || typeof last.name !== 'string') return false;
  fileName = last.name;
  $('filename').textContent = last.name;
  code.value = last.text;
  const z = window.zoo.find((z) => z.name === last.name);
  examples.value = z && z.text === last.text ? last.name : '';
  $('edited').hidden = !!examples.value || !z;
  check();
  return true;
}

// indent makes Tab insert two spaces, the files' indentation, instead of
// leaving the editor (Escape then Tab still leaves it).
let escaped = false;
function indent(e) {
  if (e.key === 'Escape') {
    escaped = true;
    return;
  }
  if (e.key !== 'Tab' || e.shiftKey || e.ctrlKey || e.altKey || e.metaKey || escaped) {
    escaped = false;
    return;
  }
  e.preventDefault();
  const at = code.selectionStart;
  code.setRangeText('  ', at, code.selectionEnd, 'end');
  code.dispatchEvent(new Event('input'));
}

// cnncReady is called by cnnc.wasm once cnnc.check and cnnc.zoo exist.
window.cnncReady = () => {
  window.zoo = JSON.parse(cnnc.zoo());
  for (const z of window.zoo) examples.add(new Option(z.name.replace(/\.cnn$/, ''), z.name));
  code.addEventListener('input', () => {
    if (examples.value) {
      examples.value = ''; // edited: no longer the example, still its file name
      $('edited').hidden = false;
    }
    later();
  });
  code.addEventListener('scroll', syncScroll);
  code.addEventListener('keydown', indent);
  document.addEventListener('selectionchange', caretMoved);
  examples.addEventListener('change', pick);
  collapse.addEventListener('change', check);
  $('svg').addEventListener('click', () => $('picture').classList.toggle('actual'));
  // #resnet50 in the address opens that example; else the last text, else LeNet-5.
  const linked = location.hash.slice(1) + '.cnn';
  if (window.zoo.some((z) => z.name === linked)) {
    examples.value = linked;
    pick();
  } else if (!restore()) {
    examples.value = 'lenet5.cnn';
    pick();
  }
  document.body.dataset.state = 'ready';
};

(async () => {
  try {
    const go = new Go();
    const { instance } = await WebAssembly.instantiateStreaming(fetch('cnnc.wasm'), go.importObject);
    go.run(instance); // returns when the program ends: never, unless it fails
  } catch (e) {
    status.textContent = 'cnnc.wasm did not load: ' + e;
    status.className = 'bad';
    document.body.dataset.state = 'failed';
  }
})();
