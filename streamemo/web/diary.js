// The dashboard's diary view (streamemo diary serve): entries by day, the mood chart and
// an entry's utterances, from the read-only JSON of /api/diary. Loaded by dashboard.html,
// whose helpers it uses ($, el, colour, fmt, utteranceRow). Diary text is the user's own
// words: it only ever goes in through textContent, never innerHTML.
"use strict";

const diary = { periods: null, days: null, entry: null, buttons: new Map(), ready: false };
window.streamemoDiary = diary; // for tests and the curious

async function getJSON(path) {
  const response = await fetch(`api/diary${path}`, { cache: "no-store" });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
function dayName(key) { // "2026-03-02" -> "Mon 2 Mar 2026" (the server's calendar day)
  const [y, m, d] = key.split("-").map(Number);
  return `${WEEKDAYS[new Date(y, m - 1, d).getDay()]} ${d} ${MONTHS[m - 1]} ${y}`;
}
function periodName(p, by) {
  if (by === "day") return dayName(p.key);
  if (by === "week") return `week ${p.key.slice(6)} of ${p.key.slice(0, 4)}`;
  const [y, m] = p.key.split("-").map(Number);
  return `${MONTHS[m - 1]} ${y}`;
}
function tickName(p, by) {
  if (by === "day") { const [, m, d] = p.key.split("-").map(Number); return `${d} ${MONTHS[m - 1]}`; }
  if (by === "week") return p.key.slice(5);
  const [y, m] = p.key.split("-").map(Number);
  return m === 1 ? String(y) : MONTHS[m - 1];
}
const minutes = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
const signed = (x) => (x > 0 ? `+${x.toFixed(2)}` : x.toFixed(2));
function chip(label) {
  const node = el("span", "chip", label);
  node.style.setProperty("--c", colour(label));
  return node;
}
function notice(node, ...parts) { // text, with `code` parts in <code>
  const box = el("div", "notice");
  for (const part of parts) box.append(part.startsWith("`") ? el("code", null, part.slice(1, -1)) : part);
  node.replaceChildren(box);
}

// ---- the chart: stacked shares per period above the mood's rolling mean ------------------
function drawDiaryChart() {
  const canvas = $("diary-chart");
  const data = diary.periods;
  const [g, w, h] = sizedCanvas(canvas);  // dashboard.html's
  const periods = data ? data.periods : [];
  canvas.dataset.periods = periods.length;
  if (!periods.length) return;
  const L = 40, R = 10, T = 8, barH = Math.round((h - 40) * 0.6), gap = 16;
  const moodT = T + barH + gap, moodH = h - 24 - moodT, pw = w - L - R;
  const t0 = periods[0].start, t1 = periods[periods.length - 1].end;
  const x = (t) => L + ((t - t0) / (t1 - t0)) * pw;
  const ys = (v) => T + barH * (1 - v);
  const ym = (v) => moodT + moodH * (1 - (v + 1) / 2);
  g.strokeStyle = "#e3e6eb"; g.fillStyle = "#6b7280"; g.lineWidth = 1;
  g.textAlign = "right"; g.textBaseline = "middle";
  for (const v of [0, 0.5, 1]) {
    g.beginPath(); g.moveTo(L, ys(v)); g.lineTo(L + pw, ys(v)); g.stroke();
    g.fillText(`${v * 100}%`, L - 5, ys(v));
  }
  for (const [v, text] of [[1, "+1"], [0, "0"], [-1, "−1"]]) {
    g.beginPath(); g.moveTo(L, ym(v)); g.lineTo(L + pw, ym(v)); g.stroke();
    g.fillText(text, L - 5, ym(v));
  }
  g.textAlign = "left";
  g.fillText("mood: pleasant ↑", L + 4, moodT + 7);
  g.fillText("unpleasant ↓", L + 4, moodT + moodH - 7);
  let drawn = 0;
  for (const p of periods) { // one rectangle per label and period, the first label on top
    const inset = Math.max((x(p.end) - x(p.start)) * 0.12, (x(p.end) - x(p.start) - 56) / 2);
    let bottom = 0;
    for (const label of [...data.labels].reverse()) {
      const share = p.shares[label] || 0;
      if (share <= 0) continue;
      g.fillStyle = colour(label);
      g.fillRect(x(p.start) + inset, ys(bottom + share), x(p.end) - x(p.start) - 2 * inset,
        ys(bottom) - ys(bottom + share));
      bottom += share;
      drawn++;
    }
  }
  canvas.dataset.bars = drawn;
  const mid = (p) => (x(p.start) + x(p.end)) / 2;
  const trend = periods.filter((p) => p.trend != null);
  if (trend.length) { // the area between the trend and 0, tinted by its sign
    for (const [sign, tint] of [[1, "#cfe8d4"], [-1, "#f4d0cc"]]) {
      g.save();
      g.beginPath();
      g.rect(L, sign > 0 ? moodT : ym(0), pw, sign > 0 ? ym(0) - moodT : moodT + moodH - ym(0));
      g.clip();
      g.beginPath(); g.moveTo(mid(trend[0]), ym(0));
      for (const p of trend) g.lineTo(mid(p), ym(p.trend));
      g.lineTo(mid(trend[trend.length - 1]), ym(0)); g.closePath();
      g.fillStyle = tint; g.fill();
      g.restore();
    }
  }
  g.strokeStyle = "#6b7280"; g.beginPath(); g.moveTo(L, ym(0)); g.lineTo(L + pw, ym(0)); g.stroke();
  g.fillStyle = "rgba(107, 114, 128, 0.55)";
  for (const p of periods) {
    if (p.mood == null) continue;
    g.beginPath(); g.arc(mid(p), ym(p.mood), 2.5, 0, 2 * Math.PI); g.fill();
  }
  g.strokeStyle = "#1d2330"; g.lineWidth = 2; g.beginPath();
  trend.forEach((p, i) => (i ? g.lineTo(mid(p), ym(p.trend)) : g.moveTo(mid(p), ym(p.trend))));
  g.stroke();
  g.fillStyle = "#6b7280"; g.textAlign = "center"; g.textBaseline = "top";
  const every = Math.ceil(periods.length / Math.max(2, Math.floor(pw / 70)));
  periods.forEach((p, i) => { if (i % every === 0) g.fillText(tickName(p, data.by), mid(p), h - 18); });
  diary.hit = (px) => periods.find((p) => px >= x(p.start) && px < x(p.end));
}

function drawLegend() {
  const data = diary.periods;
  const legend = $("diary-legend");
  legend.replaceChildren();
  const spoken = data.periods.reduce((sum, p) => sum + p.spoken_s, 0) || 1;
  for (const label of data.labels) {
    const share = data.periods.reduce((sum, p) => sum + (p.shares[label] || 0) * p.spoken_s, 0);
    const item = el("span", null, `${label} ${Math.round((100 * share) / spoken)}%`);
    item.style.setProperty("--c", colour(label));
    legend.append(item);
  }
  legend.append(el("span", "trend", `line: mood, mean of ${data.window} (pleasant up)`));
}

function hover(event) {
  const p = diary.hit && diary.hit(event.offsetX);
  const out = $("diary-hover");
  if (!p) { out.textContent = ""; return; }
  const shares = Object.entries(p.shares).map(([k, v]) => `${k} ${Math.round(v * 100)}%`).join(", ");
  const mood = p.mood == null ? "no mood" : `mood ${signed(p.mood)}`;
  out.textContent = `${periodName(p, diary.periods.by)} · ${p.entries} entries · ${shares} · ${mood}`;
}

// ---- entries by day, and one entry's utterances ----------------------------------------
function renderDays() {
  const box = $("diary-days");
  box.replaceChildren();
  for (const { day, entries } of diary.days) {
    const group = el("div", "day");
    group.dataset.day = day;
    group.append(el("h3", null, dayName(day)));
    const list = el("ul");
    for (const entry of entries) {
      const button = el("button", "entry");
      button.type = "button";
      button.dataset.id = entry.id;
      button.append(el("span", "when", entry.time),
        el("span", "size", `${minutes(entry.spoken_s)} · ${entry.words} words${entry.finished ? "" : " · unfinished"}`));
      if (entry.emotion) button.append(chip(entry.emotion));
      button.addEventListener("click", () => openEntry(entry.id));
      diary.buttons.set(entry.id, button);
      const item = el("li");
      item.append(button);
      list.append(item);
    }
    group.append(list);
    box.append(group);
  }
}

async function openEntry(id) {
  for (const [key, button] of diary.buttons) button.classList.toggle("on", key === id);
  const list = $("diary-utterances");
  try {
    const { entry, utterances } = await getJSON(`/entries/${id}`);
    diary.entry = { entry, utterances };
    $("diary-entry-title").textContent =
      `${dayName(entry.day)}, ${entry.time} · ${minutes(entry.spoken_s)} spoken · ${entry.words} words`;
    list.replaceChildren();
    if (!utterances.length) notice(list, "nothing was said in this entry");
    for (const ev of utterances) {
      const row = utteranceRow(ev, false);
      row.querySelector(".time").textContent = `${minutes(ev.start)}–${minutes(ev.end)}`;
      list.append(row);
    }
    list.dataset.entry = id;
  } catch (err) {
    notice(list, `cannot read entry ${id}: ${err.message}`);
  }
}

async function startDiaryView() {
  try {
    const [periods, days] = await Promise.all([getJSON("/periods?by=auto"), getJSON("/days")]);
    diary.periods = periods;
    diary.days = days.days;
  } catch (err) {
    notice($("diary-days"), `cannot read the diary: ${err.message}`);
    return;
  }
  if (!diary.days.length) {
    $("diary-chart-panel").hidden = true;
    notice($("diary-days"), "Your diary is empty. Dictate an entry with ", "`streamemo diary record`",
      " (or add ", "`--sink diary`", " to a run), then reload this page.");
    notice($("diary-utterances"), "no entries yet");
  } else {
    const { by, periods } = diary.periods;
    const first = periods[0], last = periods[periods.length - 1];
    $("diary-range").textContent =
      `(${periodName(first, by)} – ${periodName(last, by)}, one bar per ${by})`;
    drawDiaryChart();
    drawLegend();
    renderDays();
    const wanted = /^#entry-(\d+)$/.exec(location.hash);
    await openEntry(wanted ? Number(wanted[1]) : diary.days[0].entries[0].id);
  }
  diary.ready = true;
}

$("diary-chart").addEventListener("mousemove", hover);
$("diary-chart").addEventListener("mouseleave", () => { $("diary-hover").textContent = ""; });
window.addEventListener("resize", () => diary.periods && drawDiaryChart());
startDiaryView();
