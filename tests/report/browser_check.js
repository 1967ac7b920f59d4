// Injected into a copy of a report page by test_browser.py: waits for every audio element and
// image, then writes what the browser saw into a pre element (id tagbox-check) for --dump-dom to return.
window.__tagboxErrors = [];
window.addEventListener("error", (event) => window.__tagboxErrors.push(String(event.message || event.type)));
window.addEventListener("unhandledrejection", (event) => window.__tagboxErrors.push(String(event.reason)));

function audioState(audio) {
  const src = audio.getAttribute("src");
  return new Promise((resolve) => {
    const done = (ok) => resolve({ src, ok, duration: audio.duration, error: audio.error && audio.error.code });
    if (audio.readyState >= 1) return done(true);
    if (audio.error) return done(false);
    audio.addEventListener("loadedmetadata", () => done(true), { once: true });
    audio.addEventListener("error", () => done(false), { once: true });
  });
}

// --virtual-time-budget lets virtual time run out while media loads in real time, and the DOM
// would be dumped too early; a chain of small file reads (loads it does wait for) holds it until
// the check is written.
let finished = false;
function holdVirtualTime() {
  if (finished) return;
  const request = new XMLHttpRequest();
  request.open("GET", location.href);
  request.onloadend = () => setTimeout(holdVirtualTime, 0);
  request.send();
}

// Listen to the players as soon as they exist: a missing file can fail before the window's load.
let players;
document.addEventListener("DOMContentLoaded", () => {
  holdVirtualTime();
  players = Promise.all([...document.querySelectorAll("audio")].map(audioState));
});

async function imageState(image) {
  const src = image.getAttribute("src");
  try {
    await image.decode();
  } catch (error) {
    return { src, ok: false, error: String(error) };
  }
  const canvas = document.createElement("canvas");
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = new Set();
  for (let i = 0; i < pixels.length && colours.size < 50; i += 4 * 97) {
    colours.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
  }
  return { src, ok: true, width: image.naturalWidth, height: image.naturalHeight, colours: colours.size };
}

window.addEventListener("load", async () => {
  const audio = await players;
  const images = await Promise.all([...document.querySelectorAll("img")].map(imageState));
  const numbers = [...document.querySelectorAll(".number")].map((node) => ({
    key: node.dataset.key, digits: Number(node.dataset.digits), text: node.textContent,
  }));
  const links = [...document.querySelectorAll('a[href^="#"]')].map((node) => ({
    href: node.getAttribute("href"), ok: document.getElementById(node.getAttribute("href").slice(1)) !== null,
  }));
  const report = document.createElement("pre");
  report.id = "tagbox-check";
  report.textContent = JSON.stringify({ audio, images, numbers, links, errors: window.__tagboxErrors });
  document.body.appendChild(report);
  finished = true;
});
