// Shared by the pages: times in the viewer's zone, plate texts with doubtful characters marked,
// the cameras-down banner, and the live stream (Server-Sent Events) from /api/stream.
"use strict";

const DOUBT = 0.5; // a character read with less confidence than this is marked
const UP = new Set(["connected", "streaming", "connecting"]);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

function localTime(seconds) {
  return new Date(seconds * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

function plateText(text, confidences) {
  const node = el("div", { class: "plate" });
  [...text].forEach((c, i) => {
    const doubtful = confidences && confidences[i] !== undefined && confidences[i] < DOUBT;
    node.append(doubtful ? el("span", { class: "doubt", title: `${Math.round(confidences[i] * 100)}%` }, c) : c);
  });
  if (!text) node.append("—");
  return node;
}

function alertBadges(alerts) {
  return (alerts || []).map(a => el("span", { class: "badge alert", title: `distance ${a.distance}` }, `${a.list}: ${a.action}`));
}

// One plate as a card: from the store (/api/latest) or from the bus (an event and its crop).
function card(item) {
  const node = el("div", { class: "card", "data-key": item.key, onclick: () => { location.href = `/event?key=${encodeURIComponent(item.key)}`; } },
    item.crop ? el("img", { src: item.crop, alt: item.text }) : null,
    plateText(item.text, item.char_confidences),
    el("div", { class: "meta" },
      `${Math.round(item.confidence * 100)}% · ${item.camera} · ${localTime(item.utc)}`),
    el("div", { class: "meta" }, `${item.region} · ${item.direction || ""} `,
      item.readable ? null : el("span", { class: "badge unread" }, "not readable"), ...alertBadges(item.alerts)));
  if ((item.alerts || []).length) node.classList.add("listed");
  return node;
}

function fromBus(message) {
  const e = message.data;
  return { key: message.key, text: e.text, char_confidences: e.char_confidences, confidence: e.confidence,
           camera: e.camera_id, utc: Date.parse(e.last_seen.utc) / 1000, region: e.region, direction: e.direction,
           readable: e.readable, crop: message.crop, alerts: [] };
}

const cameras = {};
function updateCameras(list) {
  for (const c of list) cameras[c.camera_id] = c;
  const down = Object.values(cameras).filter(c => !UP.has(c.state) && c.state !== "unknown");
  const banner = document.getElementById("down");
  banner.textContent = down.length ? `Camera down: ${down.map(c => `${c.camera_id} (${c.state})`).join(", ")}` : "";
  banner.classList.toggle("show", down.length > 0);
  document.dispatchEvent(new CustomEvent("cameras", { detail: cameras }));
}

function listen(handlers) {
  const source = new EventSource("/api/stream");
  source.addEventListener("cameras", m => updateCameras(JSON.parse(m.data)));
  source.addEventListener("health", m => updateCameras([JSON.parse(m.data).data]));
  for (const kind of ["plate", "alert"]) {
    source.addEventListener(kind, m => handlers[kind] && handlers[kind](JSON.parse(m.data)));
  }
  return source;
}

async function getJSON(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error((await response.json()).error || response.statusText);
  return response.json();
}

function header(here) {
  const links = [["/", "Live"], ["/search", "Search"], ["/cameras", "Cameras"]];
  document.body.prepend(
    el("header", {}, el("b", {}, "lpr"), el("nav", {}, ...links.map(([href, name]) => el("a", { href, class: href === here ? "here" : "" }, name)))),
    el("div", { id: "down", role: "alert" }));
}
